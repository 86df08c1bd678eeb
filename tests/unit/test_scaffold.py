"""The new-talk command writes a note that passes the checks, and never overwrites."""

from __future__ import annotations

from livenotes.cli import main, slugify
from livenotes.site import scan
from tests.conftest import EVENT_PAGE, FIXTURES, GOOD_TALK, mkdocs_yml


def new_talk(root, *args: str) -> int:
    """Run ``livenotes new-talk`` in ``root`` with ``args``."""
    return main(["--root", str(root), "new-talk", *args])


def _project(tmp_path):
    docs = tmp_path / "docs" / "testconf"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text(EVENT_PAGE)
    (docs / "a-good-talk.md").write_text(GOOD_TALK)
    (tmp_path / "demos").symlink_to(FIXTURES / "demos")
    (tmp_path / "mkdocs.yml").write_text(mkdocs_yml(runtime=False), encoding="utf-8")
    return tmp_path


def test_new_talk_writes_a_valid_note(tmp_path, capsys):
    root = _project(tmp_path)
    code = new_talk(
        root,
        "--event",
        "testconf",
        "--title",
        "Größer: Scaling Ünits!",
        "--speaker",
        "Cy Person (Acme Corp)",
        "--speaker",
        "Di Other",
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == "docs/testconf/groer-scaling-units.md"
    index, problems = scan(root / "docs", root / "demos")
    assert problems == []
    talk = index.talks["testconf/groer-scaling-units.md"]
    assert talk.order == 2 and talk.date.isoformat() == "2024-05-01"
    assert [(s.name, s.affiliation) for s in talk.speakers] == [
        ("Cy Person", "Acme Corp"),
        ("Di Other", None),
    ]
    assert main(["--root", str(root), "check"]) == 0


def test_new_talk_picks_a_unique_slug(tmp_path, capsys):
    root = _project(tmp_path)
    assert new_talk(root, "--event", "testconf", "--title", "A Good Talk", "--speaker", "X") == 0
    assert capsys.readouterr().out.strip() == "docs/testconf/a-good-talk-2.md"
    assert (root / "docs/testconf/a-good-talk.md").read_text() == GOOD_TALK  # untouched


def test_new_talk_refuses_a_taken_slug_and_unknown_event(tmp_path, capsys):
    root = _project(tmp_path)
    taken = ("--event", "testconf", "--title", "T", "--speaker", "X", "--slug", "a-good-talk")
    assert new_talk(root, *taken) == 2
    assert "slug 'a-good-talk' is taken" in capsys.readouterr().err
    assert new_talk(root, "--event", "nope", "--title", "T", "--speaker", "X") == 2
    assert "no event 'nope'; known events: testconf" in capsys.readouterr().err
    assert (root / "docs/testconf/a-good-talk.md").read_text() == GOOD_TALK


def test_check_prints_one_line_per_problem(tmp_path, capsys):
    root = _project(tmp_path)
    (root / "docs/testconf/bad.md").write_text(
        GOOD_TALK.replace("order: 1", "order: 2").replace("date: 2024-05-01", "date: someday")
    )
    assert main(["--root", str(root), "check"]) == 1
    assert capsys.readouterr().err == (
        "docs/testconf/bad.md:7: date: 'someday' is not a date; use YYYY-MM-DD, e.g. 2019-06-13\n"
        "1 problem(s) found\n"
    )


def test_slugify():
    assert (
        slugify("Critical Path Analysis – Prioritizing What Matters")
        == "critical-path-analysis-prioritizing-what-matters"
    )
    assert slugify("!!!") == "talk"

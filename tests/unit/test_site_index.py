"""The site index built from front matter: event order, neighbours, speakers, demos."""

from __future__ import annotations

import pytest

from livenotes.site import scan
from tests.conftest import EVENT_PAGE, FIXTURES, GOOD_TALK


def _talk(
    title: str, order: int, speaker: str, affiliation: str | None = None, demos: str = ""
) -> str:
    text = GOOD_TALK.replace("title: A Good Talk", f"title: {title}").replace(
        "order: 1", f"order: {order}"
    )
    text = text.replace(
        "  - name: Ada Tester\n    affiliation: Test Lab\n",
        f"  - name: {speaker}\n" + (f"    affiliation: {affiliation}\n" if affiliation else ""),
    )
    return text.replace("tags: [testing]", f"tags: [testing]\ndemos: [{demos}]") if demos else text


def test_index(tmp_path):
    docs = tmp_path / "docs"
    (docs / "testconf").mkdir(parents=True)
    (docs / "testconf/index.md").write_text(EVENT_PAGE)
    (docs / "testconf/c.md").write_text(_talk("Third", 3, "Ada Tester", "Lab A"))
    (docs / "testconf/a.md").write_text(_talk("First", 1, "Bo Zed", demos="faulty"))
    (docs / "testconf/b.md").write_text(_talk("Second", 2, "Ada Tester", "Lab B"))
    index, problems = scan(docs, FIXTURES / "demos")
    assert problems == []
    talks = index.event_talks("testconf")
    assert [t.title for t in talks] == ["First", "Second", "Third"]
    assert index.neighbours(talks[0]) == (None, talks[1])
    assert index.neighbours(talks[2]) == (talks[1], None)
    speakers = index.speakers()
    assert [(s.name, s.affiliations, [t.title for t in s.talks], s.anchor) for s in speakers] == [
        ("Ada Tester", ["Lab B", "Lab A"], ["Second", "Third"], "ada-tester"),
        ("Bo Zed", [], ["First"], "bo-zed"),
    ]
    assert [t.title for t in index.demo_talks("faulty")] == ["First"]


def test_demo_blocks_are_placed_from_the_scan_and_refuse_to_move():
    """The plugin marks each block at the line the scan found it, keyed by that line,
    without parsing it again; Markdown that moved under it is an error, not a guess."""
    from livenotes.demos import EmbedMoved, find_embeds, mark_embeds

    body = "\n\nIntro.\n\n```demo\nname: faulty\n```\n\nMiddle.\n\n~~~demo\nname: faulty\n~~~\n"
    embeds, problems = find_embeds("docs/x.md", body, 12)
    assert problems == [] and [e.line for e in embeds] == [16, 22]
    marked = mark_embeds(body, body.lstrip("\n"), embeds, lambda e: f"<mark {e.line}>")
    assert marked == "Intro.\n\n\n<mark 16>\n\n\nMiddle.\n\n\n<mark 22>\n\n"
    with pytest.raises(EmbedMoved, match="docs/x.md:16"):
        mark_embeds(body, "Changed.\n" + body.lstrip("\n"), embeds, lambda e: "")

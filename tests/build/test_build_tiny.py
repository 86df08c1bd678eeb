"""Tiny sites built in temp folders: generated pages, previews, wheels and errors."""

from __future__ import annotations

import pickle
import random
import re
import sys
import zipfile

from tests.conftest import DEMO_TALK, EVENT_PAGE, FIXTURES, GOOD_TALK, ROOT, make_site, run_build

SECOND = (
    GOOD_TALK.replace("title: A Good Talk", "title: Second Talk")
    .replace("order: 1", "order: 2")
    .replace("name: Ada Tester", "name: Bo Example")
)


def test_broken_notes_fail_the_build_with_one_line_each(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/a.md": GOOD_TALK.replace("date: 2024-05-01", "date: tomorrow"),
            "docs/testconf/b.md": SECOND.replace(
                "tags: [testing]", "tags: [testing]\nvenue: Hall 1"
            ),
        },
    )
    result = run_build(tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "docs/testconf/a.md:7: date: 'tomorrow' is not a date; use YYYY-MM-DD, e.g. 2019-06-13\n"
        in result.stderr
    )
    assert (
        "docs/testconf/b.md:10: unknown key 'venue' in a talk note; allowed: title, speakers, "
        "event, date, order, track, summary, links, tags, demos\n"
    ) in result.stderr
    assert "2 problem(s) in the notes" in result.stderr


def test_generated_pages(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/index.md": "---\ntitle: Home\n---\n\nHome.\n",
            "docs/testconf/index.md": EVENT_PAGE + "\nClosing words.\n",
            "docs/testconf/zeta.md": GOOD_TALK,  # order 1 despite its name
            "docs/testconf/alpha.md": SECOND,
        },
        demos=tmp_path / "no-demos",
    )
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    event = (site / "testconf/index.html").read_text()
    titles = re.findall(r'class="ln-talk-list__title" href="([^"]+)">([^<]+)<', event)
    assert titles == [("zeta/", "A Good Talk"), ("alpha/", "Second Talk")]
    assert event.index("ln-talk-list") < event.rindex("Closing words.")
    speakers = (site / "speakers/index.html").read_text()
    assert re.search(
        r'id="ada-tester".*?Test Lab.*?href="../testconf/zeta/">A Good Talk', speakers, re.S
    )
    assert 'id="bo-example"' in speakers
    gallery = (site / "demos/index.html").read_text()
    assert "No demos yet." in gallery
    talk = (site / "testconf/zeta/index.html").read_text()
    start = talk.index('class="ln-talk-header"')
    header = talk[start : talk.index("</header>", start)]
    for fact in (
        "A Good Talk",
        "Ada Tester",
        "(Test Lab)",
        'datetime="2024-05-01"',
        "1 May 2024",
        "Test Conference 2024",
        ">testing<",
    ):
        assert fact in header, fact
    pager = talk[talk.index('class="ln-pager"') :]
    assert 'href="../alpha/" rel="next"' in pager and 'rel="prev"' not in pager
    assert '<meta name="description" content="A good talk&#39;s first paragraph.">' in talk
    tags = (site / "tags/index.html").read_text()
    assert "testing" in tags and "zeta/" in tags


def test_demo_embed_renders_preview_and_ships_hashed_wheels(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/talk.md": DEMO_TALK
            + "\n```demo\nname: faulty\nscenario: steady\nheight: 300\n```\n",
        },
    )
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    page = (site / "testconf/talk/index.html").read_text()
    assert 'data-demo="faulty" data-state="idle"' in page
    frame = re.search(r"data-demo-frame[^>]*>(.{0,600})", page, re.S).group(1)
    assert frame.startswith("<svg") and "Ticker at step 2" in frame
    wheels = sorted(p.name for p in (site / "assets/livenotes/wheels").iterdir())
    assert [re.sub(r"\+[0-9a-f]{12}-", "+HASH-", name) for name in wheels] == [
        "livenotes_demo_faulty-0+HASH-py3-none-any.whl",
        "livenotes_demokit-0+HASH-py3-none-any.whl",
    ]
    with zipfile.ZipFile(site / "assets/livenotes/wheels" / wheels[0]) as wheel:
        assert "demos/faulty/__init__.py" in wheel.namelist()
    gallery = (site / "demos/index.html").read_text()
    assert "Faulty ticker" in gallery and "A Good Talk" in gallery


def test_wheel_name_changes_with_content(tmp_path):
    from livenotes.demos import build_wheel

    first = build_wheel("x", [("x/__init__.py", b"A = 1\n")], tmp_path)
    same = build_wheel("x", [("x/__init__.py", b"A = 1\n")], tmp_path)
    other = build_wheel("x", [("x/__init__.py", b"A = 2\n")], tmp_path)
    assert first == same and first != other
    again = build_wheel("x", [("x/__init__.py", b"A = 1\n")], tmp_path / "again")
    assert again.read_bytes() == first.read_bytes()  # no build time inside
    with zipfile.ZipFile(first) as wheel:
        assert {info.date_time for info in wheel.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_bad_demo_reference_fails_with_exact_message(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/talk.md": DEMO_TALK
            + "\n```demo\nname: faulty\nparams: {fault: melt}\n```\n",
        },
    )
    result = run_build(tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert (
        "docs/testconf/talk.md:17: demo block: fault: 'melt' is not one of none, raise, loop, "
        "flood\n"
    ) in result.stderr


def test_demo_that_raises_in_preview_fails_the_build(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/talk.md": DEMO_TALK
            + "\n```demo\nname: faulty\nscenario: long\nparams: {fault: raise}\n```\n",
        },
    )
    result = run_build(tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert (
        "docs/testconf/talk.md:15: demo block: the preview of 'faulty' raised RuntimeError: "
        "the faulty demo broke at step 3, as asked\n"
    ) in result.stderr


def test_plugin_disabled_builds_plain_material(tmp_path):
    make_site(tmp_path, {"docs/index.md": "# Plain\n\nNo plugin.\n"}, plugin=False)
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Plain" in (tmp_path / "site/index.html").read_text()


def test_links_follow_mkdocs_urls_without_directory_urls(tmp_path):
    """Generated links come from MkDocs' own File objects, so they follow the site's
    URL scheme (here ``use_directory_urls: false``), not a guess from the file name."""
    make_site(
        tmp_path,
        {
            "docs/index.md": "---\ntitle: Home\n---\n\nHome.\n",
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/zeta.md": GOOD_TALK,
            "docs/testconf/alpha.md": SECOND,
        },
        demos=tmp_path / "no-demos",
        extra="use_directory_urls: false\n",
    )
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    event = (site / "testconf/index.html").read_text()
    titles = re.findall(r'class="ln-talk-list__title" href="([^"]+)"', event)
    assert titles == ["zeta.html", "alpha.html"]
    talk = (site / "testconf/zeta.html").read_text()
    assert 'href="alpha.html" rel="next"' in talk
    assert 'href="../speakers.html#ada-tester"' in talk
    assert '<a href="index.html">Test Conference 2024</a>' in talk
    speakers = (site / "speakers.html").read_text()
    assert 'href="testconf/zeta.html">A Good Talk' in speakers


def test_a_demo_is_imported_again_only_when_its_code_changed(tmp_path):
    """Discovery keeps a package it imported from the same, unchanged code (objects made
    from its classes still pickle), and imports an edited one afresh (``mkdocs serve``)."""
    from livenotes.demos import discover

    folder = tmp_path / "demos" / "faulty_copy"
    folder.mkdir(parents=True)
    code = (FIXTURES / "demos" / "faulty" / "__init__.py").read_text()
    (folder / "__init__.py").write_text(code.replace('name="faulty"', 'name="faulty_copy"'))
    first = discover(tmp_path / "demos")["faulty_copy"].demo
    assert first is not None
    state = first.create(first.resolve({}), random.Random(1))
    assert discover(tmp_path / "demos")["faulty_copy"].demo is first
    pickle.dumps(state)  # its class is still the one in sys.modules
    (folder / "__init__.py").write_text((folder / "__init__.py").read_text() + "\nEDITED = True\n")
    edited = discover(tmp_path / "demos")["faulty_copy"].demo
    assert edited is not first and sys.modules["demos.faulty_copy"].EDITED


def test_a_preview_is_kept_on_disk_and_not_run_again(tmp_path, monkeypatch):
    from livenotes import demos

    package = demos.discover(ROOT / "demos")["skinny"]
    embed = demos.Embed(path="x.md", line=1, start=0, end=1, name="skinny", scenario="race")
    first, problem = demos.preview(package, embed, cache=tmp_path)
    assert problem is None and len(list(tmp_path.glob("skinny-*.json"))) == 1
    monkeypatch.setattr(demos, "_PREVIEWS", {})  # a new build process
    monkeypatch.setattr(demos.demokit, "Runner", None)  # running the demo would fail
    again, problem = demos.preview(package, embed, cache=tmp_path)
    assert problem is None and again == first

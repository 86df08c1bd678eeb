"""The project's own site: a strict build with no warnings, every talk with its header."""

from __future__ import annotations

import re

from livenotes.site import scan
from tests.conftest import ROOT


def test_strict_build_has_no_warnings(real_site):
    assert "WARNING" not in real_site.log, real_site.log


def test_every_talk_page_has_its_header(real_site):
    index, problems = scan(ROOT / "docs", ROOT / "demos")
    assert problems == []
    assert len(index.talks) == 7
    for talk in index.talks.values():
        page = (real_site.folder / talk.src_uri.removesuffix(".md") / "index.html").read_text()
        start = page.index('class="ln-talk-header"')
        header = page[start : page.index("</header>", start)]
        assert f"<h1>{talk.title}</h1>" in header.replace("&amp;", "&"), talk.src_uri
        assert f'datetime="{talk.date.isoformat()}"' in header
        for speaker in talk.speakers:
            assert speaker.name in header
            if speaker.affiliation:
                assert f"({speaker.affiliation})" in header
        for tag in talk.tags:
            assert f">{tag}<" in header.replace("\n", "").replace(" ", ""), (talk.src_uri, tag)


def test_event_page_lists_the_talks_in_order(real_site):
    page = (real_site.folder / "srecon19apac/index.html").read_text()
    titles = re.findall(r'class="ln-talk-list__title" href="[^"]+">([^<]+)<', page)
    assert titles[0] == "Implementing Distributed Consensus"
    assert titles[-1] == "Software Networking and Interfaces on Linux"
    assert len(titles) == 7


def test_every_demo_is_in_the_gallery_and_embedded(real_site):
    index, _ = scan(ROOT / "docs", ROOT / "demos")
    gallery = (real_site.folder / "demos/index.html").read_text()
    for name, package in index.demos.items():
        assert package.demo.title.replace("&", "&amp;") in gallery or package.demo.title in gallery
        assert index.demo_talks(name), f"demo {name} is embedded in no talk"
        assert (real_site.folder / "demos" / name / "index.html").exists()


def test_no_third_party_urls_in_pages(real_site):
    """Fonts, scripts and runtimes all come from the site itself."""
    for page in real_site.folder.rglob("*.html"):
        text = page.read_text()
        for tag in re.findall(r"<(?:script|link)[^>]+>", text):
            url = re.search(r'(?:src|href)="([^"]+)"', tag)
            if url and url.group(1).startswith(("http://", "https://", "//")):
                assert url.group(1).startswith("http://127.0.0.1:"), (page, tag)

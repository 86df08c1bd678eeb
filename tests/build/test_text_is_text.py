"""Front matter is text: every place a title, name, affiliation, track, event title or
summary is printed shows exactly that text, and nothing in it becomes markup.

Each place is checked on the built page with a real HTML parser: the element's text (or
attribute) must equal the front matter string, and no page may hold the script element
the string spells out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from tests.conftest import DEMO_TALK, EVENT_PAGE, GOOD_TALK, make_site, run_build

X = 'Option<T> & "quotes" </title><script>x</script>'
"""Breaks out of <title>, of an attribute and of text, if printed as HTML."""

TITLE, SPEAKER, AFFILIATION = X, f"Ada {X}", f"Lab {X}"
TRACK, SUMMARY, EVENT = f"Track {X}", f"Summary {X}", f"Conf {X}"


def _q(text: str) -> str:
    return json.dumps(text)  # a YAML double-quoted scalar


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    talk = (
        DEMO_TALK.replace("title: A Good Talk", f"title: {_q(TITLE)}")
        .replace("name: Ada Tester", f"name: {_q(SPEAKER)}")
        .replace("affiliation: Test Lab", f"affiliation: {_q(AFFILIATION)}")
        .replace("order: 1", f"order: 2\ntrack: {_q(TRACK)}\nsummary: {_q(SUMMARY)}")
        + "\n```demo\nname: faulty\n```\n"
    )
    root = make_site(
        tmp_path_factory.mktemp("text"),
        {
            "docs/index.md": "---\ntitle: Home\n---\n\nHello.\n",
            "docs/testconf/index.md": EVENT_PAGE.replace(
                "title: Test Conference 2024", f"title: {_q(EVENT)}"
            ),
            "docs/testconf/first.md": GOOD_TALK.replace("A Good Talk", "First"),
            "docs/testconf/hostile.md": talk,
        },
    )
    # Material's own footer pager prints titles both raw and through ``| e``.
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("font: false", "font: false\n  features: [navigation.footer]")
    )
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root / "site"


def _page(site: Path, path: str) -> LexborHTMLParser:
    return LexborHTMLParser((site / path).read_text(encoding="utf-8"))


def _texts(tree: LexborHTMLParser, selector: str) -> list[str]:
    return [" ".join(node.text(deep=True).split()) for node in tree.css(selector)]


TALK = "testconf/hostile/index.html"
FIRST = "testconf/first/index.html"

PLACES = {
    # page: selector: the text that must appear there
    "talk header h1": (TALK, ".ln-talk-header h1", TITLE),
    "talk header speaker": (TALK, ".ln-facts a[href*='speakers']", SPEAKER),
    "talk header affiliation": (TALK, ".ln-affiliation", f"({AFFILIATION})"),
    "talk header track": (TALK, ".ln-facts div:nth-child(3) dd", TRACK),
    "talk header event": (TALK, ".ln-talk-header__event a", EVENT),
    "<title>": (TALK, "title", f"{TITLE} - Tiny"),
    "header topic": (TALK, ".md-header__topic:last-child .md-ellipsis", TITLE),
    "navigation, page": (FIRST, ".md-nav__link", TITLE),
    "navigation, event section": (FIRST, ".md-nav__link", EVENT),
    "pager within the event": (FIRST, ".ln-pager__title", TITLE),
    "Material's footer pager": (FIRST, ".md-footer__title .md-ellipsis", TITLE),
    "speakers page, name": ("speakers/index.html", ".ln-speakers__name", SPEAKER),
    "speakers page, affiliation": ("speakers/index.html", ".ln-affiliation", AFFILIATION),
    "speakers page, talk": ("speakers/index.html", ".ln-speakers__item li a", TITLE),
    "speakers page, event": ("speakers/index.html", ".ln-muted", f"— {EVENT}"),
    "tags page": ("tags/index.html", ".md-content li a", TITLE),
    "gallery": ("demos/index.html", ".ln-gallery__item .ln-muted a", TITLE),
    "event listing, title": ("testconf/index.html", ".ln-talk-list__title", TITLE),
    "event listing, summary": ("testconf/index.html", ".ln-talk-list__summary", SUMMARY),
    "event page h1": ("testconf/index.html", "h1", EVENT),
}


@pytest.mark.parametrize("place", PLACES)
def test_text_shows_as_itself(site, place):
    path, selector, text = PLACES[place]
    assert text in _texts(_page(site, path), selector)


def test_footer_pager_label(site):
    links = _page(site, FIRST).css("a.md-footer__link--next")
    assert [link.attributes["aria-label"] for link in links] == [f"Next: {TITLE}"]


def test_event_listing_speakers(site):
    speakers = _texts(_page(site, "testconf/index.html"), ".ln-talk-list__speakers")
    assert f"{SPEAKER} ({AFFILIATION}) · live demo" in speakers


META = {
    "meta description": ("name", "description", SUMMARY),
    "og:title": ("property", "og:title", TITLE),
    "og:description": ("property", "og:description", SUMMARY),
}


@pytest.mark.parametrize("tag", META)
def test_meta_tags_hold_the_text(site, tag):
    attribute, name, text = META[tag]
    nodes = _page(site, TALK).css(f'meta[{attribute}="{name}"]')
    assert [node.attributes["content"] for node in nodes] == [text]


def test_search_index_holds_the_title_as_html_text(site):
    """Material's search shows titles as HTML, so the index holds the escaped text."""
    docs = json.loads((site / "search/search_index.json").read_text())["docs"]
    titles = [LexborHTMLParser(f"<p>{doc['title']}</p>").css_first("p").text() for doc in docs]
    assert TITLE in titles
    assert not any("<script" in doc["title"] for doc in docs)


def test_demo_spec_attribute_is_data(site):
    figure = _page(site, TALK).css_first("[data-demo]")
    spec = json.loads(figure.attributes["data-demo-spec"])
    assert spec["demo"]["name"] == "faulty"


def test_no_page_holds_the_script(site):
    for page in site.rglob("*.html"):
        tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
        assert not [s for s in tree.css("script") if s.text() == "x"], page
        assert "</title><script>x" not in page.read_text(encoding="utf-8"), page


def test_the_single_quoted_spec_attribute_holds_any_text_as_data():
    """The widget's spec goes into a single-quoted attribute, escaped by the plugin: a
    caption or value with quotes, ampersands and markup stays one attribute's text."""
    from livenotes.plugin import _single_quoted

    hostile = json.dumps({"caption": "it's \"x\" & <b>y</b>' onmouseover='alert(1)"})
    tree = LexborHTMLParser(f"<p id=t data-spec='{_single_quoted(hostile)}'>z</p>")
    node = tree.css_first("#t")
    assert json.loads(node.attributes["data-spec"]) == json.loads(hostile)
    assert list(node.attributes) == ["id", "data-spec"]  # no attribute slipped out

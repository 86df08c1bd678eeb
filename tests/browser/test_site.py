"""The project's own site in Chromium: every page, instant navigation, screenshots."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.browser.helpers import Recorder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(real_url):
    return real_url


def _pages(real_site) -> list[str]:
    tree = ET.parse(real_site.folder / "sitemap.xml")
    urls = [loc.text for loc in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    return [url.removeprefix(real_site.url) for url in urls]


def test_every_page_loads_cleanly(browser, real_site, site):
    pages = _pages(real_site)
    assert len(pages) >= 12
    context = browser.new_context()
    try:
        for path in pages:
            recorder = Recorder(site)
            page = recorder.attach(context.new_page())
            response = page.goto(site + path, wait_until="load")
            assert response.ok, path
            page.wait_for_timeout(150)
            assert recorder.errors == [], (path, recorder.errors)
            assert recorder.foreign() == [], (path, recorder.foreign())
            assert not [u for u in recorder.requests if "pyodide" in u or u.endswith(".whl")], path
            assert page.evaluate(SHOWN_THOUGH_HIDDEN) == [], path
            page.close()
    finally:
        context.close()


SHOWN_THOUGH_HIDDEN = """() => [...document.querySelectorAll('.ln-demo [hidden]')]
    .filter((el) => el.getClientRects().length > 0)
    .map((el) => el.outerHTML.slice(0, 90))"""


def test_without_javascript_a_demo_is_its_preview_and_no_dead_controls(browser, real_site, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        demo_pages = 0
        for path in _pages(real_site):
            page.goto(site + path, wait_until="load")
            if not page.locator(".ln-demo").count():
                continue
            demo_pages += 1
            assert page.evaluate(SHOWN_THOUGH_HIDDEN) == [], path
            assert page.locator(".ln-demo [data-demo-frame] svg").first.is_visible(), path
            for control in ("[data-demo-controls]", "[data-demo-load]", "[data-demo-progress]"):
                assert not page.locator(f".ln-demo {control}").first.is_visible(), (path, control)
        assert demo_pages >= 7
    finally:
        context.close()


def test_instant_navigation_between_talks(browser, site):
    context = browser.new_context()
    recorder = Recorder(site)
    page = recorder.attach(context.new_page())
    page.goto(site + "srecon19apac/edge-computing/")
    page.evaluate("window.__sameDocument = true")
    page.locator(".ln-pager__link--next").click()
    # Material's navigation.tracking may already have put a heading's anchor in the URL.
    page.wait_for_url(re.compile(r".*/srecon19apac/critical-path-analysis/(#.*)?$"))
    page.wait_for_selector("h1:has-text('Critical Path Analysis')")
    assert page.evaluate("window.__sameDocument") is True
    assert page.title().startswith("Critical Path Analysis")
    page.wait_for_selector("[data-demo][data-mounted]")  # widgets mount after instant navigation
    assert recorder.errors == [] and recorder.foreign() == []
    context.close()


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_talk_page_screenshots(browser, site, output_dir, width, height):
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1
    )
    page = context.new_page()
    page.goto(site + "srecon19apac/implementing-distributed-consensus/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.screenshot(path=str(output_dir / f"talk-{width}.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    context.close()


def test_search_finds_a_talk(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site)
    page.keyboard.press("/")
    page.keyboard.type("STICC")
    result = page.wait_for_selector(".md-search-result__link", timeout=10_000)
    assert re.search("mindfulness", result.get_attribute("href"))
    context.close()

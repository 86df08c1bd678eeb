"""A note whose front matter spells out HTML, opened and searched in Chromium: the reader
sees the text, and nothing in it runs."""

from __future__ import annotations

import pytest

from tests.browser.helpers import Recorder
from tests.build.test_text_is_text import SPEAKER, TITLE, site  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def test_hostile_title_reads_as_text_on_the_page_and_in_search(browser, site, serve):  # noqa: F811
    base = serve(site)
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    recorder = Recorder(base)
    recorder.attach(page)
    page.goto(base + "testconf/hostile/", wait_until="load")
    assert page.title() == f"{TITLE} - Tiny"
    assert page.inner_text(".ln-talk-header h1") == TITLE
    assert SPEAKER in page.inner_text(".ln-facts")

    page.keyboard.press("/")
    page.keyboard.type("Option")
    result = page.locator(".md-search-result__article h1").first
    result.wait_for(timeout=10_000)
    assert result.inner_text() == TITLE
    # Had `<script>x</script>` become a script, it would be in the DOM, and running it
    # would raise "x is not defined".
    scripts = "[...document.scripts].filter(s => s.textContent.trim() === 'x').length"
    assert page.evaluate(scripts) == 0
    assert dialogs == []
    assert recorder.errors == []
    page.close()

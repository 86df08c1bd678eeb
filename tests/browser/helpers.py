"""What the browser tests share: a page that records what it asks for and logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page


@dataclass
class Recorder:
    """Requests, console errors and page errors of one page."""

    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console", lambda message: message.type == "error" and self.errors.append(message.text)
        )
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def foreign(self) -> list[str]:
        """Requests to any host but the site's own."""
        own = urlsplit(self.base).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own
        ]

    def count(self, suffix: str) -> int:
        return sum(1 for url in self.requests if urlsplit(url).path.endswith(suffix))


def wait_state(
    page: Page, state: str, timeout: float = 60_000, selector: str = "[data-demo]"
) -> None:
    """Wait until the widget's data-state is ``state``."""
    page.wait_for_function(
        "([sel, state]) => document.querySelector(sel)?.dataset.state === state",
        arg=[selector, state],
        polling=50,
        timeout=timeout,
    )


def frame_text(page: Page, selector: str = "[data-demo]") -> str:
    return page.inner_html(f"{selector} [data-demo-frame]")


LIVE_CHOICE = "try { localStorage.setItem('livenotes.runtime', 'live'); } catch (error) {}"
"""The reader's choice "load the Python runtime at once" (demos.js, CHOICE_KEY), set
before any page script runs: for tests of the live runtime rather than of recordings."""


def prefer_live(target):
    """Make ``target`` (a browser context or a page) choose the live runtime."""
    target.add_init_script(script=LIVE_CHOICE)
    return target

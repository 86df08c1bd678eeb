"""The Content-Security-Policy in Chromium: every page and every demo of the real site run
without one violation, in the page and in the demo worker; what slips into a built page
does not run; ``mkdocs serve`` still reloads.

The sites are served as a host that reads ``_headers`` serves them (tests/conftest.py),
so each page is under its ``<meta>`` policy and the header, and the demo worker under its
own policy. Violations are reported by a ``securitypolicyviolation`` listener in the
page (an init script) and in the worker (prepended to the worker's script as the test
receives it, so it listens before the worker's first line); both post each violation to
a URL the test intercepts. Each test ends with a probe that must be reported, so a
silent channel cannot pass for a clean run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from livenotes import csp
from tests.browser.helpers import Recorder, prefer_live, wait_state
from tests.conftest import EVENT_PAGE, GOOD_TALK, free_port, mkdocs_yml, run_build

pytestmark = pytest.mark.browser

REPORT_PATH = "/__csp-violation"
LISTEN = f"""(() => {{
  const send = self.fetch.bind(self);
  self.addEventListener("securitypolicyviolation", (event) => {{
    send("{REPORT_PATH}", {{
      method: "POST",
      keepalive: true,
      body: JSON.stringify({{
        where: self.location.pathname,
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        policy: event.originalPolicy,
        line: event.lineNumber,
      }}),
    }});
  }});
}})();
"""
# Importing a data: URL is refused by every policy here (script-src has no data:), in
# the page and in a worker, and nothing of the site does it.
PROBED = "data:text/javascript,0"
PROBE = f"() => {{ setTimeout(() => import('{PROBED}').catch(() => {{}}), 0); }}"


class Violations:
    """Every violation reported in a browser context, page and workers alike."""

    def __init__(self, context) -> None:
        self.reports: list[dict] = []
        context.add_init_script(LISTEN)
        context.route(f"**{REPORT_PATH}", self._receive)
        context.route(f"**{csp.WORKER_PATH}", self._listen_in_worker)

    def _receive(self, route) -> None:
        self.reports.append(json.loads(route.request.post_data))
        route.fulfill(status=204)

    @staticmethod
    def _listen_in_worker(route) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=LISTEN + response.text())

    def settle(self, page, quiet_ms: int = 500) -> None:
        """Wait until no report has come for ``quiet_ms``."""
        count = -1
        while count != len(self.reports):
            count = len(self.reports)
            page.wait_for_timeout(quiet_ms)

    def probe(self, page, target, where: str) -> list[dict]:
        """Make ``target`` (the page, or a worker) break the policy once; return the
        reports it caused, failing if none arrives."""
        before = len(self.reports)
        target.evaluate(PROBE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            page.wait_for_timeout(100)
            probed = [r for r in self.reports[before:] if r["blocked"] == "data"]
            if probed:
                self.settle(page, 300)
                break
        probed = [r for r in self.reports[before:] if r["blocked"] == "data"]
        assert probed, f"no violation was reported from {where}: the listener is not working"
        assert {r["where"] for r in probed} == {where}
        return probed

    def real(self) -> list[dict]:
        """Reports other than the probes'."""
        return [r for r in self.reports if r["blocked"] != "data"]


def _errors(recorder: Recorder) -> list[str]:
    """Console errors but Chromium's own line about a probe it blocked."""
    return [error for error in recorder.errors if PROBED not in error]


def _html_pages(site) -> dict[str, Path]:
    """Every HTML file the build wrote, by the path it is served at."""
    return {
        path.relative_to(site.folder).as_posix().removesuffix("index.html"): path
        for path in sorted(site.folder.rglob("*.html"))
    }


def _worker(page):
    workers = [w for w in page.workers if w.url.endswith(csp.WORKER_PATH)]
    assert len(workers) == 1, [w.url for w in page.workers]
    return workers[0]


def test_every_page_runs_without_a_violation(browser, real_site, real_url):
    pages = _html_pages(real_site)
    assert len(pages) >= 15 and "404.html" in pages
    context = prefer_live(browser.new_context(viewport={"width": 1280, "height": 900}))
    violations = Violations(context)
    recorder = Recorder(real_url)
    page = recorder.attach(context.new_page())
    for path in pages:
        response = page.goto(real_url + path, wait_until="load")
        header = response.headers.get("content-security-policy", "")
        assert header.endswith(csp.HEADER_ONLY) and "'sha256-" in header, path
        meta = page.locator('meta[http-equiv="Content-Security-Policy"]')
        assert meta.count() == 1 and header == meta.get_attribute("content") + "; " + (
            csp.HEADER_ONLY
        )
        page.wait_for_timeout(100)
    # What a reader does beyond reading: search (Material's search worker), the palette
    # toggle, and instant navigation from page to page (the first page's <head>, with
    # its policy, stays for the whole visit).
    page.goto(real_url, wait_until="load")
    page.evaluate("window.__sameDocument = true")
    page.keyboard.press("/")
    page.keyboard.type("consensus")
    page.locator(".md-search-result__article").first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    # A tour by the links a reader sees, each click an instant navigation.
    wanted = {real_url + path for path in pages if path != "404.html"}
    seen = {page.url}
    while True:
        hrefs = page.eval_on_selector_all(
            "a[href]",
            "(links) => links.map((a) => a.offsetParent === null ? null : a.href.split('#')[0])",
        )
        number = next((n for n, h in enumerate(hrefs) if h in wanted and h not in seen), None)
        if number is None:
            break
        seen.add(hrefs[number])
        page.locator("a[href]").nth(number).click()
        page.wait_for_function(
            "(url) => location.href.split('#')[0] === url", arg=hrefs[number], polling=50
        )
        page.wait_for_timeout(150)
    assert seen == wanted  # every page, the first loaded and the rest by instant navigation
    assert page.evaluate("window.__sameDocument") is True
    violations.settle(page)
    violations.probe(page, page, urllib.parse.urlsplit(page.url).path)
    assert violations.real() == []
    assert recorder.foreign() == [] and _errors(recorder) == [], recorder.errors
    context.close()


def _demo_pages(real_site) -> dict[str, str]:
    """One talk page per demo the site embeds, by demo name."""
    found: dict[str, str] = {}
    for path, file in _html_pages(real_site).items():
        html = file.read_text(encoding="utf-8")
        for name in re.findall(r'data-demo="([\w-]+)"', html):
            found.setdefault(name, path)
    return found


def _changed(page, selector: str, before: str, timeout: int = 10_000) -> None:
    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).innerHTML !== before",
        arg=[selector, before],
        polling=50,
        timeout=timeout,
    )


def test_every_demo_through_its_controls_runs_without_a_violation(browser, real_site, real_url):
    demos = _demo_pages(real_site)
    assert set(demos) >= {"skinny", "circuit_breaker", "memory_pressure"}, demos
    context = prefer_live(browser.new_context(viewport={"width": 1280, "height": 900}))
    violations = Violations(context)
    recorder = Recorder(real_url)
    page = recorder.attach(context.new_page())
    for name, path in sorted(demos.items()):
        page.goto(real_url + path, wait_until="load")
        selector = f'[data-demo="{name}"]'
        page.wait_for_selector(f"{selector}[data-mounted]")
        demo = page.locator(selector).first
        demo.locator("[data-demo-run]").click()  # start
        wait_state(page, "running", selector=selector)
        demo.locator("[data-demo-pause]").click()
        wait_state(page, "paused", selector=selector)
        before = page.inner_html(selector)
        demo.locator("[data-demo-step]").click()  # step
        _changed(page, selector, before)
        actions = demo.locator("[data-demo-action]")
        assert actions.count() >= 1, f"{name} has no action to try"
        for number in range(actions.count()):  # act
            actions.nth(number).click()
            page.wait_for_timeout(200)
            assert demo.get_attribute("data-state") == "paused", (name, number)
        demo.locator("[data-demo-reset]").click()  # reset
        wait_state(page, "paused", selector=selector)
        demo.locator("[data-demo-run]").click()
        wait_state(page, "running", selector=selector)
        violations.settle(page)
        violations.probe(page, _worker(page), csp.WORKER_PATH)
        demo.locator("[data-demo-stop]").click()  # stop
        wait_state(page, "idle", selector=selector)
        violations.settle(page)
        assert violations.real() == [], (name, violations.real())
    # The worker ran under its own policy as well as the site's (the host joins both).
    policies = {r["policy"] for r in violations.reports if r["where"] == csp.WORKER_PATH}
    assert csp.WORKER_POLICY in policies
    violations.probe(page, page, urllib.parse.urlsplit(page.url).path)
    assert violations.real() == []
    assert recorder.foreign() == [] and _errors(recorder) == [], recorder.errors
    context.close()


# --- what slips past the checks does not run -------------------------------------------

TABLE_TALK = (
    GOOD_TALK.replace("title: A Good Talk", "title: A Table").replace("order: 1", "order: 2")
    + "\n| left | middle | right |\n|:-----|:------:|------:|\n| a | b | c |\n"
)
INJECTED = (
    '<script>window.__injected = "script"</script>'
    '<button id="injected" onclick="window.__injected = \'handler\'">Injected</button>'
    '<p id="injected-style" style="color: rgb(255, 0, 0)">Injected style</p>'
)


def _tiny_site(root: Path, port: int) -> Path:
    """Home, an event, a talk and a talk with an aligned table; instant navigation on."""
    files = {
        "docs/index.md": "---\ntitle: Home\n---\n\n[The table](testconf/table.md)\n",
        "docs/testconf/index.md": EVENT_PAGE,
        "docs/testconf/good.md": GOOD_TALK,
        "docs/testconf/table.md": TABLE_TALK,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    config = mkdocs_yml(extra="markdown_extensions:\n  - tables\n")
    config = config.replace(
        "site_url: http://127.0.0.1:8000/", f"site_url: http://127.0.0.1:{port}/"
    )
    config = config.replace("  font: false\n", "  font: false\n  features: [navigation.instant]\n")
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny site built with something injected into a talk page after the build, as
    served with ``_headers`` and as served without (GitHub Pages sends no custom
    headers: the <meta> is all there is). Each is built for its own port, for instant
    navigation."""
    sites = {}
    for delivery in ("headers", "meta only"):
        port = free_port()
        source = _tiny_site(tmp_path_factory.mktemp("csp-tiny"), port)
        result = run_build(source)
        assert result.returncode == 0, result.stderr
        built = source / "site"
        talk = built / "testconf/good/index.html"
        html = talk.read_text(encoding="utf-8")
        talk.write_text(html.replace("</article>", INJECTED + "</article>", 1), encoding="utf-8")
        if delivery == "meta only":
            (built / "_headers").unlink()
        sites[delivery] = (built, port)
    return sites


@pytest.mark.parametrize("delivery", ["headers", "meta only"])
def test_an_injected_script_handler_and_style_are_blocked(browser, serve, tiny, delivery):
    folder, port = tiny[delivery]
    base = serve(folder, port)
    context = prefer_live(browser.new_context())
    violations = Violations(context)
    page = context.new_page()
    response = page.goto(base + "testconf/good/", wait_until="load")
    assert ("content-security-policy" in response.headers) == (delivery == "headers")
    page.click("#injected")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__injected") is None  # neither the script nor the handler
    color = page.evaluate("getComputedStyle(document.getElementById('injected-style')).color")
    assert color != "rgb(255, 0, 0)"
    violations.settle(page)
    kinds = {(r["directive"], r["blocked"]) for r in violations.real()}
    assert kinds == {
        ("script-src-elem", "inline"),
        ("script-src-attr", "inline"),
        ("style-src-attr", "inline"),
    }
    # A table's alignment is a style attribute the build wrote: allowed by its hash,
    # also on a page reached by instant navigation.
    page.goto(base, wait_until="load")
    before = len(violations.reports)
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="The table").click()
    page.wait_for_selector("table")
    assert page.evaluate("window.__sameDocument") is True
    aligns = page.evaluate(
        "() => [...document.querySelectorAll('article table th')].map((c) => getComputedStyle(c).textAlign)"
    )
    assert aligns == ["left", "center", "right"]
    violations.settle(page)
    assert violations.reports[before:] == []
    context.close()


# --- mkdocs serve -----------------------------------------------------------------------


def _wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mkdocs serve exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"mkdocs serve did not answer in 120 s: {log.read_text()[-2000:]}")


def test_mkdocs_serve_reloads_the_page_after_a_note_is_edited(browser, tmp_path):
    port = free_port()
    root = _tiny_site(tmp_path, port)
    log = tmp_path / "serve.log"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SITE_URL", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/"
        _wait_for_server(base, process, log)
        context = prefer_live(browser.new_context())
        violations = Violations(context)
        recorder = Recorder(base)
        page = recorder.attach(context.new_page())
        # Never wait for "networkidle" here: the live-reload poll stays open.
        page.goto(base + "testconf/good/", wait_until="load")
        policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert "'unsafe-inline'" in policy and "'sha256-" not in policy.split("style-src")[0]
        deadline = time.monotonic() + 10
        while not any("/livereload/" in url for url in recorder.requests):
            assert time.monotonic() < deadline, "the live-reload script did not run"
            page.wait_for_timeout(100)
        page.evaluate("window.__notReloaded = true")
        note = root / "docs/testconf/good.md"
        note.write_text(
            note.read_text(encoding="utf-8").replace(
                "A good talk's first paragraph.", "An edited first paragraph."
            ),
            encoding="utf-8",
        )
        page.wait_for_function(
            "() => document.body.textContent.includes('An edited first paragraph.')",
            polling=50,
            timeout=60_000,
        )
        assert page.evaluate("window.__notReloaded") is None  # a reload, not a patch
        violations.settle(page)
        violations.probe(page, page, "/testconf/good/")
        assert violations.real() == []
        assert _errors(recorder) == [], recorder.errors
        context.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

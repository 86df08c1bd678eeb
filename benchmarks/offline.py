"""Service worker benchmark: prints numbers, is not a test.

Builds the site as bin/build does (into a temp folder, for the port it is served on),
serves it as a static host that reads ``_headers`` does (tests/conftest.py's handler),
and in one Chromium measures, per round (a new browser context is a first visit):

- the worker script: bytes as written and gzipped (as a compressing host sends it), and
  how much of it is the offline page;
- what the worker fetches to install: requests from the worker before it controls the
  page (the design says none: the offline page travels inside the script);
- register -> controlling the page (installed, activated, clients claimed), in ms;
- the hand-over of what the first page loaded before the worker controlled it: files
  and bytes kept, ms (the worker revalidates them, so most are 304s);
- what a reader keeps: the caches after reading three pages, and after running a demo
  on the Python runtime;
- a repeat visit (home page, load event) with the worker against the same visit with
  service workers blocked, median of the rounds.

Usage: .venv/bin/python benchmarks/offline.py [--rounds 5]
(needs chromium on PATH, and the Pyodide cache that bin/build fetches).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import _Handler, chromium_path, free_port  # noqa: E402

EVENT = "srecon19apac/"
TALK = "srecon19apac/implementing-distributed-consensus/"
LIVE_CHOICE = "try { localStorage.setItem('livenotes.runtime', 'live'); } catch (error) {}"

CACHES = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    let bytes = 0, files = 0;
    for (const request of await cache.keys()) {
      bytes += (await (await cache.match(request)).blob()).size;
      files += 1;
    }
    out[name.split(' ').slice(2).join(' ')] = { files, bytes };
  }
  return out;
}"""

MARKS = """() => {
  const at = (name) => performance.getEntriesByName(name)[0];
  const warmed = at('livenotes:offline-warmed');
  return warmed && {
    register: at('livenotes:offline-register').startTime,
    controlled: at('livenotes:offline-controlled').startTime,
    warmed: warmed.startTime,
    kept: warmed.detail,
  };
}"""


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser that hung up
            super().handle_error(request, client_address)


def build(out: Path, port: int) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "--strict", "-d", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )


def until(page, script: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(script)):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {script[:60]}")
        page.wait_for_timeout(20)
    return value


def first_visit(browser, base: str) -> dict:
    context = browser.new_context()
    worker_requests: list[tuple[float, str]] = []
    context.on(
        "request",
        lambda request: (
            request.service_worker and worker_requests.append((time.monotonic(), request.url))
        ),
    )
    page = context.new_page()
    page.goto(base)
    marks = until(page, MARKS)
    offset = time.monotonic() - page.evaluate("performance.now()") / 1000
    controlled_at = offset + marks["controlled"] / 1000
    script = base + "sw.js"  # the worker's own script is fetched for it, not by it
    installing = [url for at, url in worker_requests if at < controlled_at and url != script]
    page.goto(base + EVENT)
    page.goto(base + TALK)
    page.wait_for_selector("[data-demo][data-mounted]")
    page.wait_for_timeout(300)
    reading = page.evaluate(CACHES)
    usage = page.evaluate("navigator.storage.estimate().then((e) => e.usage)")
    context.close()
    return {
        "register_ms": marks["controlled"] - marks["register"],
        "warm_ms": marks["warmed"] - marks["controlled"],
        "kept": marks["kept"],
        "installing": installing,
        "reading": reading,
        "usage": usage,
    }


def demo_run(browser, base: str) -> dict:
    context = browser.new_context()
    context.add_init_script(script=LIVE_CHOICE)
    page = context.new_page()
    page.goto(base + TALK)
    until(page, MARKS)
    page.wait_for_selector("[data-demo][data-mounted]")
    page.get_by_label("Instances").fill("3")
    page.get_by_role("button", name="Run", exact=True).click()
    until(page, "document.querySelector('[data-demo]').dataset.state === 'running'", 120)
    page.wait_for_timeout(1000)  # the last cache writes
    kept = page.evaluate(CACHES)
    usage = page.evaluate("navigator.storage.estimate().then((e) => e.usage)")
    context.close()
    return {"kept": kept, "usage": usage}


def repeat_visit(browser, base: str, workers: bool) -> float:
    context = browser.new_context(service_workers="allow" if workers else "block")
    page = context.new_page()
    page.goto(base)
    if workers:
        until(page, MARKS)
    page.goto(base + EVENT)
    page.wait_for_timeout(200)
    page.goto(base)
    elapsed = page.evaluate(
        "performance.getEntriesByType('navigation')[0].loadEventEnd"
        " - performance.getEntriesByType('navigation')[0].startTime"
    )
    context.close()
    return elapsed


def kb(size: float) -> str:
    return f"{size / 1000:.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build(out, port)
        script = (out / "sw.js").read_bytes()
        build_line = re.search(rb"^const BUILD = (.*);$", script, re.M).group(1)
        page_bytes = len(json.loads(build_line)["offline"].encode("utf-8"))
        server = Server(("127.0.0.1", port), functools.partial(_Handler, directory=str(out)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            visits = [first_visit(browser, base) for _ in range(args.rounds)]
            repeat = {
                kind: [repeat_visit(browser, base, kind == "worker") for _ in range(args.rounds)]
                for kind in ("worker", "no worker")
            }
            demo = demo_run(browser, base)
            browser.close()
        server.shutdown()

    def median(key):
        return statistics.median(visit[key] for visit in visits)

    print(f"rounds: {args.rounds}, the project's site, one Chromium\n")
    print(f"sw.js: {kb(len(script))} as written, {kb(len(gzip.compress(script, 9)))} gzipped")
    print(f"  of which the offline page: {kb(page_bytes)}")
    installing = {url for visit in visits for url in visit["installing"]}
    print(
        f"fetched by the worker to install, besides sw.js: {len(installing)} files {sorted(installing)}"
    )
    times = [visit["register_ms"] for visit in visits]
    print(
        f"register -> controlling the page: median {median('register_ms'):.0f} ms"
        f" (min {min(times):.0f}, max {max(times):.0f})"
    )
    kept = visits[-1]["kept"]
    print(
        f"first page's files handed over: {kept['stored']} files, {kb(kept['bytes'])} kept,"
        f" median {median('warm_ms'):.0f} ms after it took control"
    )
    print("caches after reading home, event page, talk page (no demo run):")
    for name, entry in visits[-1]["reading"].items():
        print(f"  {name}: {entry['files']} files, {kb(entry['bytes'])}")
    print(f"  storage estimate: {kb(visits[-1]['usage'])}")
    print("caches after running the talk's demo on the Python runtime:")
    for name, entry in demo["kept"].items():
        print(f"  {name}: {entry['files']} files, {kb(entry['bytes'])}")
    print(f"  storage estimate: {kb(demo['usage'])}")
    for kind, values in repeat.items():
        print(
            f"repeat visit, home page load event, {kind}: median {statistics.median(values):.0f} ms"
            f" (min {min(values):.0f}, max {max(values):.0f})"
        )


if __name__ == "__main__":
    main()

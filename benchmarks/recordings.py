"""Recorded runs benchmark: prints numbers, is not a test.

Issue 17's goals, measured in one Chromium against the built site served the way static
hosts serve it (gzip for text types, here level 6):
  - click Run -> first moving frame of a recording, cold (empty HTTP cache) and warm,
    against a bare Pyodide boot (a page that only boots Pyodide in a module worker) on
    the same server, interleaved: the goal is <= 0.05 x the bare boot, cold;
  - bytes each recording takes on the wire (the browser's encodedBodySize): <= 150 KB;
  - bytes a demo page transfers before any intent: 0 of the runtime, 0 of recordings.

Usage: .venv/bin/python benchmarks/recordings.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from runtime import Handler, bare_click, build  # noqa: E402

PAGE = "demos/circuit_breaker/"
COMPRESSED = (".html", ".js", ".mjs", ".css", ".json", ".svg", ".xml", ".txt", ".wasm")
GOAL_RATIO, GOAL_BYTES = 0.05, 150_000

FIRST_MOVING_FRAME = """async () => {
  const root = document.querySelector('[data-demo][data-mounted]');
  const slider = root.querySelector('[data-demo-timeline]');
  const t0 = performance.now();
  root.querySelector('[data-demo-run]').click();
  await new Promise((resolve) => {
    const check = () => (Number(slider.value) > 0 ? resolve() : requestAnimationFrame(check));
    check();
  });
  return [performance.now() - t0, root.dataset.source];
}"""


class Gzip(Handler):
    """Serves text types gzip-compressed when the browser accepts it, as static hosts do."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in COMPRESSED):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Gzip, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def recording_click(context, base: str) -> float:
    page = context.new_page()
    page.goto(base + PAGE)
    page.wait_for_selector("[data-demo][data-mounted]")
    elapsed, source = page.evaluate(FIRST_MOVING_FRAME)
    assert source == "recording", source
    page.close()
    return elapsed / 1000


def before_intent(browser, base: str, pages: list[str]) -> dict[str, tuple[int, int]]:
    """Runtime and recording bytes each demo page fetched while being read."""
    found = {}
    for path in pages:
        context = browser.new_context()
        page = context.new_page()
        urls: list[str] = []
        page.on("requestfinished", lambda r, urls=urls: urls.append(r.url))
        page.goto(base + path, wait_until="load")
        page.wait_for_timeout(800)
        page.mouse.wheel(0, 3000)  # reading, scrolling past the demo
        page.wait_for_timeout(400)
        runtime = sum(1 for url in urls if "/assets/pyodide/" in url or url.endswith(".whl"))
        recorded = sum(1 for url in urls if "/recordings/" in url)
        found[path] = (runtime, recorded)
        context.close()
    return found


def wire_sizes(base: str, site: Path) -> dict[str, tuple[int, int]]:
    """Each recording's bytes on the wire (asking for gzip, as browsers do) and raw.
    Fetched from Python: in the browser the site's service worker answers, and its
    responses report no transfer size."""
    sizes = {}
    for path in sorted((site / "assets/livenotes/recordings").glob("*.json")):
        url = f"{base}assets/livenotes/recordings/{path.name}"
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            sizes[path.name] = (len(response.read()), path.stat().st_size)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("no chromium on PATH")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build(out, port)
        serve(out, port)
        base = f"http://127.0.0.1:{port}/"
        results: dict[str, list[float]] = {
            k: [] for k in ("recording cold", "bare cold", "recording warm", "bare warm")
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for _ in range(args.rounds):
                for kind, measure in (("recording", recording_click), ("bare", bare_click)):
                    context = browser.new_context()  # empty HTTP cache: cold
                    results[f"{kind} cold"].append(measure(context, base))
                    results[f"{kind} warm"].append(measure(context, base))
                    context.close()
            pages = sorted(
                f"demos/{p.stem}/" for p in (ROOT / "docs/demos").glob("*.md") if p.stem != "index"
            )
            intent = before_intent(browser, base, pages)
            sizes = wire_sizes(base, out)
            browser.close()
    median = {k: statistics.median(v) for k, v in results.items()}
    print(f"{args.rounds} interleaved rounds, median seconds")
    for key in ("recording cold", "bare cold", "recording warm", "bare warm"):
        print(f"  {key:16} {median[key]:7.3f}")
    ratio = median["recording cold"] / median["bare cold"]
    print(
        f"click -> first moving frame, cold: {ratio:.3f} x a bare Pyodide boot "
        f"(goal <= {GOAL_RATIO}): {'met' if ratio <= GOAL_RATIO else 'NOT met'}"
    )
    print(f"warm: {median['recording warm'] / median['bare warm']:.3f} x")
    print("before any intent (runtime files, recording files fetched):")
    for path, (runtime, recorded) in intent.items():
        print(f"  {path:32} {runtime} {recorded}")
    print("recordings on the wire (gzip) / raw, KB:")
    for name, (wire, decoded) in sorted(sizes.items(), key=lambda item: -item[1][0]):
        print(f"  {name:44} {wire / 1000:7.1f} {decoded / 1000:8.1f}")
    largest = max(wire for wire, _ in sizes.values())
    print(
        f"largest {largest / 1000:.1f} KB (goal <= {GOAL_BYTES / 1000:.0f} KB): "
        + ("met" if largest <= GOAL_BYTES else "NOT met")
    )


if __name__ == "__main__":
    main()

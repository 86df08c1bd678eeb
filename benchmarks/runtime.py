"""Demo runtime benchmark: prints numbers, is not a test.

One Chromium, runs interleaved:
  (a) click Run -> first live frame of a real demo, cold (empty HTTP cache) and warm
      (cached files, fresh worker);
  (b) a bare page on the same server that only boots Pyodide in a module worker and
      runs ``1``, cold and warm.
Also: bytes a talk page transfers before any click, and click -> first live frame of a
second demo reached by instant navigation in the same visit.

Usage: .venv/bin/python benchmarks/runtime.py [--rounds 5]
(builds the site into a temp folder; needs chromium on PATH).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from livenotes.runtime import PYODIDE_VERSION  # noqa: E402

TALK = "srecon19apac/implementing-distributed-consensus/"
SECOND = "srecon19apac/critical-path-analysis/"

BARE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare</title>
<script type="module" src="bare.js"></script></head><body><button id="go">Boot</button></body></html>"""
BARE_JS = """document.getElementById("go").addEventListener("click", () => {
  window.__t0 = performance.now();
  const worker = new Worker("bare-worker.js", { type: "module" });
  worker.addEventListener("message", () => { window.__elapsed = performance.now() - window.__t0; });
});"""
BARE_WORKER = f"""const base = new URL("../assets/pyodide/{PYODIDE_VERSION}/", self.location).href;
const {{ loadPyodide }} = await import(base + "pyodide.mjs");
const pyodide = await loadPyodide({{ indexURL: base }});
self.postMessage(pyodide.runPython("1"));"""

CLICK_TO_FRAME = """async () => {
  const root = document.querySelector('[data-demo][data-mounted]');
  const t0 = performance.now();
  root.querySelector('[data-demo-run]').click();
  await new Promise((resolve) => {
    const check = () => root.dataset.state === 'running' ? resolve() : setTimeout(check, 5);
    check();
  });
  return performance.now() - t0;
}"""


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):
        pass


def serve(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def build(out: Path, port: int) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    bare = out / "__bench__"
    bare.mkdir()
    (bare / "bare.html").write_text(BARE_HTML)
    (bare / "bare.js").write_text(BARE_JS)
    (bare / "bare-worker.js").write_text(BARE_WORKER)


LIVE_CHOICE = "try { localStorage.setItem('livenotes.runtime', 'live'); } catch (error) {}"
"""The reader's choice "load the Python runtime at once": this benchmark times the live
runtime (recordings.py times the recorded runs)."""


def demo_click(context, base: str) -> float:
    page = context.new_page()
    page.add_init_script(script=LIVE_CHOICE)
    page.goto(base + TALK)
    page.wait_for_selector("[data-demo][data-mounted]")
    elapsed = page.evaluate(CLICK_TO_FRAME)
    page.close()
    return elapsed / 1000


def bare_click(context, base: str) -> float:
    page = context.new_page()
    page.goto(base + "__bench__/bare.html")
    page.click("#go")
    page.wait_for_function("window.__elapsed !== undefined", polling=10, timeout=120_000)
    elapsed = page.evaluate("window.__elapsed")
    page.close()
    return elapsed / 1000


def bytes_before_click(browser, base: str) -> tuple[int, int]:
    context = browser.new_context()
    page = context.new_page()
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes()["responseBodySize"])))
    page.goto(base + TALK, wait_until="load")
    page.wait_for_timeout(1500)
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(500)
    context.close()
    total = sum(size for _, size in sizes)
    runtime = sum(size for url, size in sizes if "/assets/pyodide/" in url or url.endswith(".whl"))
    return total, runtime


def second_demo(browser, base: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(script=LIVE_CHOICE)
    page.goto(base + TALK)
    page.wait_for_selector("[data-demo][data-mounted]")
    page.evaluate(CLICK_TO_FRAME)
    page.locator(f'a[href$="{SECOND.split("/")[1]}/"]').first.click()
    page.wait_for_url("**/" + SECOND)
    page.wait_for_selector("[data-demo][data-mounted]")
    elapsed = page.evaluate(CLICK_TO_FRAME)
    context.close()
    return elapsed / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit(
        "no chromium on PATH (apt-get install chromium)"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build(out, port)
        server = serve(out, port)
        base = f"http://127.0.0.1:{port}/"
        results: dict[str, list[float]] = {
            k: [] for k in ("demo cold", "bare cold", "demo warm", "bare warm")
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for _ in range(args.rounds):
                for kind, measure in (("demo", demo_click), ("bare", bare_click)):
                    context = browser.new_context()  # empty HTTP cache: cold
                    results[f"{kind} cold"].append(measure(context, base))
                    results[f"{kind} warm"].append(
                        measure(context, base)
                    )  # cached files, new worker
                    context.close()
            total, runtime = bytes_before_click(browser, base)
            seconds = [second_demo(browser, base) for _ in range(args.rounds)]
            browser.close()
        server.shutdown()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"rounds: {args.rounds}, Pyodide {PYODIDE_VERSION}, one Chromium, interleaved\n")
    print(f"{'':28}{'median s':>10}{'min s':>8}{'max s':>8}")
    for key, values in results.items():
        print(f"{'click -> ' + key:28}{med[key]:>10.3f}{min(values):>8.3f}{max(values):>8.3f}")
    ratio_cold = med["demo cold"] / med["bare cold"]
    ratio_warm = med["demo warm"] / med["bare warm"]
    print(
        f"\nratio demo/bare, cold: {ratio_cold:.2f}  (target <= 1.10: {'met' if ratio_cold <= 1.10 else 'MISSED'})"
    )
    print(f"ratio demo/bare, warm: {ratio_warm:.2f}")
    print(
        f"\ntalk page bytes before any click: {total / 1000:.0f} KB, of which runtime: {runtime} B "
        f"(target: 0 B: {'met' if runtime == 0 else 'MISSED'})"
    )
    second = statistics.median(seconds)
    print(
        f"second demo after instant navigation, click -> first live frame: {second * 1000:.0f} ms "
        f"= {second / med['bare cold']:.3f} of a cold bare boot (target <= 0.10: "
        f"{'met' if second <= 0.10 * med['bare cold'] else 'MISSED'})"
    )


if __name__ == "__main__":
    main()

"""Demo speed under CPython and under Pyodide (in Chromium): prints numbers, not a test.

For each demo's default scenario, through the same bridge the browser uses
(``demokit.worker``):
  - steps per second: ``step`` asked for far more steps than fit in its 50 ms budget;
  - one frame: ``step(count=0)``, i.e. draw the SVG, cap it and encode it as JSON
    (in the browser this includes the round trip to the worker).

Usage: .venv/bin/python benchmarks/demo_throughput.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from runtime import build, serve  # noqa: E402

from demokit import Runner  # noqa: E402
from demokit import worker as bridge  # noqa: E402
from livenotes.demos import discover  # noqa: E402

IN_BROWSER = """async ([seconds, frames]) => {
  const spec = JSON.parse(document.querySelector('[data-demo]').dataset.demoSpec);
  const abs = (url) => new URL(url, document.baseURI).href;
  const worker = new Worker(abs(spec.worker), { type: 'module' });
  let next = 1;
  const call = (type, payload) => new Promise((resolve, reject) => {
    const id = next++;
    const listen = (event) => {
      // Notices carry a request's id too ("computing"); only ok/error answer it.
      if (event.data.id !== id || (event.data.type !== 'ok' && event.data.type !== 'error')) return;
      worker.removeEventListener('message', listen);
      event.data.type === 'ok' ? resolve(event.data) : reject(new Error(event.data.message));
    };
    worker.addEventListener('message', listen);
    worker.postMessage({ id, type, ...payload });
  });
  await call('boot', { runtime: { url: abs(spec.runtime.url) } });
  await call('install', { wheels: spec.wheels.map(abs) });
  await call('start', { run: 1, demo: spec.demo.name, scenario: spec.scenario, params: spec.params, seed: spec.seed });
  let ran = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const reply = await call('step', { run: 1, count: 1e9 });
    ran += reply.snapshot.ran;
    if (reply.snapshot.done) await call('start', { run: 1, demo: spec.demo.name, scenario: spec.scenario, params: spec.params, seed: spec.seed });
  }
  const rate = ran / ((performance.now() - t0) / 1000);
  const times = [];
  for (let i = 0; i < frames; i++) {
    const t = performance.now();
    await call('step', { run: 1, count: 0 });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  worker.terminate();
  return { rate, frame_ms: times[Math.floor(times.length / 2)] };
}"""


def in_cpython(name: str, seconds: float, frames: int) -> dict:
    demo = bridge.load(name)
    scenario = demo.default_scenario.name
    params = json.dumps(demo.resolve(demo.default_scenario.params))
    bridge.start(1, name, scenario, params, demo.seed)
    ran, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        snapshot = json.loads(bridge.step(1, 10**9))
        ran += snapshot["ran"]
        if snapshot["done"]:
            bridge.start(1, name, scenario, params, demo.seed)
    rate = ran / (time.perf_counter() - t0)
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        bridge.step(1, 0)
        times.append((time.perf_counter() - t) * 1000)
    return {"rate": rate, "frame_ms": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--frames", type=int, default=50)
    args = parser.parse_args()
    import demokit  # noqa: F401  (the bridge imports demos.<name>; make them importable)

    packages = discover(ROOT / "demos")
    # Each demo runs on its talk's page (the note that embeds it first).
    pages = {name: f"{p.demo.talk}/" for name, p in sorted(packages.items()) if p.demo}
    chromium = shutil.which("chromium") or sys.exit(
        "no chromium on PATH (apt-get install chromium)"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build(out, port)
        server = serve(out, port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            for name, path in pages.items():
                demo = bridge.load(name)
                native = in_cpython(name, args.seconds, args.frames)
                page.goto(f"http://127.0.0.1:{port}/{path}")
                page.wait_for_selector("[data-demo]")
                wasm = page.evaluate(IN_BROWSER, [args.seconds, args.frames])
                rows.append((name, demo.step_label, native, wasm))
            browser.close()
        server.shutdown()
    print(
        f"{'demo':17}{'one step':>10}{'CPython steps/s':>17}{'Pyodide steps/s':>17}{'ratio':>7}"
        f"{'CPython frame':>15}{'Pyodide frame':>15}"
    )
    for name, label, native, wasm in rows:
        print(
            f"{name:17}{label:>10}{native['rate']:>17,.0f}{wasm['rate']:>17,.0f}"
            f"{native['rate'] / wasm['rate']:>7.1f}{native['frame_ms']:>13.2f}ms{wasm['frame_ms']:>13.2f}ms"
        )
    print("\nA frame at 60 fps has 16.7 ms; 'Pyodide frame' includes the worker round trip.")
    print("\nIn the demos' own units:")
    for name, _label, native, wasm in rows:
        per_step, unit = domain_unit(name)
        print(
            f"  {name:17}{native['rate'] * per_step:>12,.0f} {unit} (CPython)"
            f"{wasm['rate'] * per_step:>12,.0f} {unit} (Pyodide)"
        )


def domain_unit(name: str) -> tuple[float, str]:
    """How much of the demo's own quantity one step is (measured, not assumed)."""
    demo = bridge.load(name)
    runner = Runner(demo)
    runner.step(2000)
    if name == "circuit_breaker":
        calls = int(dict(runner.frame().metrics)["Calls simulated"].replace(",", ""))
        return calls / runner.steps, "calls/s"
    if name == "memory_pressure":
        return runner.sim.now / runner.steps, "simulated s/s"
    return 1.0, "events/s"


if __name__ == "__main__":
    main()

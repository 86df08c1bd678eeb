"""The cost of seeking in each demo, under CPython and under Pyodide in Node: prints
numbers, not a test.

For each demo, a run of 1,599 steps with reader inputs along the way (Skinny's scenarios
settle within 40 steps, so its reader acquires and releases every 20 steps), then:
  - seek back 1,000 steps (1,599 -> 599): restore the nearest checkpoint, re-simulate;
  - seek forward again (599 -> 1,599) through the recorded inputs;
  - one checkpoint (the runner's pickle of the simulation) and its size;
  - live stepping with the runner's checkpoints against none (the overhead).

Usage: .venv/bin/python benchmarks/seek.py [--pyodide] [--repeat 7]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("skinny", "circuit_breaker", "memory_pressure")
STEPS, BACK = 1599, 1000
"""1,599 -> 599: a seek that re-simulates from the checkpoint before it."""


def _drive(runner, steps: int) -> None:
    """Run to ``steps``; the Skinny reader keeps the cluster busy."""
    skinny = runner.demo.name == "skinny"
    while runner.steps < steps:
        if skinny and runner.steps % 20 == 0:
            verb = "acquire" if runner.steps % 40 == 0 else "release"
            runner.act(verb, "london:beaver")
        if not runner.step(1) and not skinny:
            break


def measure(names=NAMES, repeat: int = 7) -> dict:
    """Milliseconds and bytes per demo (stdlib and demokit only: runs under Pyodide)."""
    from demokit import Runner, _freeze

    results = {}
    for name in names:
        demo = importlib.import_module(f"demos.{name}").DEMO
        runner = Runner(demo)
        _drive(runner, STEPS)
        end = runner.steps
        back, forward = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            runner.seek(end - BACK)
            back.append(time.perf_counter() - started)
            started = time.perf_counter()
            runner.seek(end)
            forward.append(time.perf_counter() - started)
        copies = []
        for _ in range(repeat):
            started = time.perf_counter()
            _freeze((runner.sim, runner._cues, runner.params, runner.marks, 0))
            copies.append(time.perf_counter() - started)
        rates = {100: 0.0, 10**9: 0.0}
        for _ in range(3):  # alternated, best of three: the first run pays for warm-up
            for every in rates:
                fresh = Runner(demo, checkpoint_every=every)
                started = time.perf_counter()
                _drive(fresh, STEPS)
                rates[every] = max(rates[every], fresh.steps / (time.perf_counter() - started))
        results[name] = {
            "steps": end,
            "checkpoints": sorted(runner._checkpoints),
            "seek_back_ms": statistics.median(back) * 1000,
            "seek_forward_ms": statistics.median(forward) * 1000,
            "checkpoint_ms": statistics.median(copies) * 1000,
            "checkpoint_bytes": len(pickle.dumps(runner.sim)),
            "steps_per_s": rates[100],
            "steps_per_s_no_checkpoints": rates[10**9],
        }
    return results


NODE = """
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
const [pyodideDir, root, repeat] = process.argv.slice(2);
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const py = await loadPyodide({ indexURL: pyodideDir + "/" });
const walk = (d) => readdirSync(d).flatMap((e) => {
  const p = join(d, e);
  if (e === "__pycache__") return [];
  return statSync(p).isDirectory() ? walk(p) : e.endsWith(".py") ? [p] : [];
});
for (const dir of ["demokit", "demos", "benchmarks"]) {
  for (const p of walk(join(root, dir))) {
    const inside = join("/home/pyodide/seek", relative(root, p));
    py.FS.mkdirTree(inside.slice(0, inside.lastIndexOf("/")));
    py.FS.writeFile(inside, readFileSync(p));
  }
}
process.stdout.write(py.runPython(`
import sys, json
sys.path[:0] = ["/home/pyodide/seek", "/home/pyodide/seek/benchmarks"]
import seek
json.dumps(seek.measure(repeat=${Number(repeat)}))
`) + "\\n");
"""


def in_pyodide(repeat: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from livenotes.runtime import fetch_pyodide

    folder = fetch_pyodide(ROOT / ".cache")
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "seek.mjs"
        script.write_text(NODE, encoding="utf-8")
        done = subprocess.run(
            ["node", str(script), str(folder), str(ROOT), str(repeat)],
            capture_output=True,
            text=True,
            check=True,
            timeout=1200,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide", action="store_true", help="also measure under Pyodide")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    runs = {"CPython " + sys.version.split()[0]: measure(repeat=args.repeat)}
    if args.pyodide:
        runs["Pyodide (Node)"] = in_pyodide(args.repeat)
    for where, results in runs.items():
        print(f"## {where}")
        for name, r in results.items():
            print(f"{name}: checkpoints at steps {r['checkpoints']}")
        print(
            "| demo | steps | back 1,000 | forward 1,000 | one checkpoint | checkpoint size "
            "| steps/s (checkpoints) | steps/s (none) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in results.items():
            print(
                f"| {name} | {r['steps']} | {r['seek_back_ms']:.1f} ms "
                f"| {r['seek_forward_ms']:.1f} ms | {r['checkpoint_ms']:.2f} ms "
                f"| {r['checkpoint_bytes'] / 1024:.0f} KB | {r['steps_per_s']:,.0f} "
                f"| {r['steps_per_s_no_checkpoints']:,.0f} |"
            )


if __name__ == "__main__":
    main()

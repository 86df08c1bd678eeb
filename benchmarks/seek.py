"""The cost of seeking in each demo, under CPython and under Pyodide in Node: prints
numbers, not a test.

Issue 15's goal: **a seek to any step of a 10,000-step run takes at most 100 ms in
Pyodide, for every demo, with the run's checkpoints within 20 MB.** For each demo found
in ``demos/``, a run of 10,000 steps (its default scenario; Skinny's settle within 40
steps, so there a reader acquires and releases every 20 steps, as a reader would), then
seeks to 40 steps spread over the run in a shuffled order (seeded), each followed by
drawing the frame, as the widget does. Prints the median and the slowest, the
checkpoints' bytes, and live stepping with the runner's checkpoints against none.

Usage: .venv/bin/python benchmarks/seek.py [--pyodide] [--steps 10000] [--only DEMO ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = 10_000
TARGETS = 40
GOAL_MS, BUDGET_MB = 100.0, 20.0


def names() -> list[str]:
    """Every demo package, found the way the build finds them (a folder with __init__)."""
    here = Path(importlib.import_module("demos").__path__[0])
    return sorted(p.name for p in here.iterdir() if (p / "__init__.py").is_file())


def _drive(runner, steps: int) -> None:
    """Run to ``steps``; the Skinny reader keeps the cluster busy."""
    skinny = runner.demo.name == "skinny"
    while runner.steps < steps:
        if skinny and runner.steps % 20 == 0:
            verb = "acquire" if runner.steps % 40 == 0 else "release"
            runner.act(verb, "london:beaver")
        if not runner.step(1 if skinny else steps - runner.steps) and not skinny:
            break


def measure(steps: int = STEPS, only: list[str] | None = None) -> dict:
    """Milliseconds and bytes per demo (stdlib and demokit only: runs under Pyodide)."""
    from demokit import Runner, _freeze, _thaw

    results = {}
    for name in only or names():
        demo = importlib.import_module(f"demos.{name}").DEMO
        runner = Runner(demo)
        started = time.perf_counter()
        _drive(runner, steps)
        drive_s = time.perf_counter() - started
        end = runner.steps
        targets = [round(i * end / (TARGETS - 1)) for i in range(TARGETS)]
        random.Random(15).shuffle(targets)
        seeks = []
        for target in targets:
            base = max((s for s in runner._checkpoints if s <= target), default=0)
            started = time.perf_counter()
            runner.seek(target)
            runner.snapshot()
            seeks.append((time.perf_counter() - started, target - base))
        slowest, resimulated = max(seeks)
        seeks = [seconds for seconds, _ in seeks]
        state = (runner.sim, runner._cues, runner.params, runner.marks, runner._seen_marks)
        freeze, thaw = [], []
        for _ in range(5):
            started = time.perf_counter()
            checkpoint = _freeze(state)
            freeze.append(time.perf_counter() - started)
            started = time.perf_counter()
            _thaw(checkpoint)
            thaw.append(time.perf_counter() - started)
        started = time.perf_counter()
        runner.snapshot()
        draw_s = time.perf_counter() - started
        plain = Runner(demo, checkpoint_every=10**9)
        started = time.perf_counter()
        _drive(plain, steps)
        plain_s = time.perf_counter() - started
        results[name] = {
            "steps": end,
            "checkpoints": len(runner._checkpoints),
            "checkpoint_every": runner.checkpoint_every,
            "checkpoint_mb": runner.checkpoint_bytes / 1e6,
            "seek_median_ms": statistics.median(seeks) * 1000,
            "seek_max_ms": slowest * 1000,
            "seek_max_resimulated": resimulated,
            "checkpoint_ms": statistics.median(freeze) * 1000,
            "restore_ms": statistics.median(thaw) * 1000,
            "draw_ms": draw_s * 1000,
            "steps_per_s": end / drive_s,
            "steps_per_s_no_checkpoints": plain.steps / plain_s,
        }
    return results


NODE = """
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
const [pyodideDir, root, steps, only] = process.argv.slice(2);
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
json.dumps(seek.measure(steps=${Number(steps)}, only=${only} or None))
`) + "\\n");
"""


def in_pyodide(steps: int, only: list[str] | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    from livenotes.runtime import fetch_pyodide

    folder = fetch_pyodide(ROOT / ".cache")
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "seek.mjs"
        script.write_text(NODE, encoding="utf-8")
        done = subprocess.run(
            ["node", str(script), str(folder), str(ROOT), str(steps), json.dumps(only or [])],
            capture_output=True,
            text=True,
            check=True,
            timeout=1200,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide", action="store_true", help="also measure under Pyodide")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--only", nargs="+", metavar="DEMO", help="these demos only")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    runs = {"CPython " + sys.version.split()[0]: measure(args.steps, args.only)}
    if args.pyodide:
        runs["Pyodide (Node)"] = in_pyodide(args.steps, args.only)
    for where, results in runs.items():
        print(f"## {where}")
        print(
            "| demo | steps | checkpoints (every) | checkpoint MB | seek median "
            "| seek slowest (steps re-simulated) "
            "| one checkpoint / restore / frame | steps/s (checkpoints) | steps/s (none) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in results.items():
            print(
                f"| {name} | {r['steps']:,} | {r['checkpoints']} ({r['checkpoint_every']}) "
                f"| {r['checkpoint_mb']:.1f} | {r['seek_median_ms']:.1f} ms "
                f"| {r['seek_max_ms']:.1f} ms ({r['seek_max_resimulated']} steps) "
                f"| {r['checkpoint_ms']:.1f} / {r['restore_ms']:.1f} / {r['draw_ms']:.1f} ms "
                f"| {r['steps_per_s']:,.0f} "
                f"| {r['steps_per_s_no_checkpoints']:,.0f} |"
            )
        slowest = max(r["seek_max_ms"] for r in results.values())
        largest = max(r["checkpoint_mb"] for r in results.values())
        print(
            f"goal: every seek <= {GOAL_MS:g} ms and checkpoints <= {BUDGET_MB:g} MB: "
            f"slowest {slowest:.1f} ms, largest {largest:.1f} MB: "
            + ("met" if slowest <= GOAL_MS and largest <= BUDGET_MB else "NOT met")
        )


if __name__ == "__main__":
    main()

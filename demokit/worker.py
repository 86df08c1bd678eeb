"""The Python side of the browser worker: runs demos for the page, one ``Runner`` per
widget, and answers with JSON snapshots.

The worker's JavaScript calls these functions through Pyodide; nothing here imports
``js`` or ``pyodide``, so the same bridge is unit-tested under CPython.
"""

from __future__ import annotations

import importlib
import json
import time

from demokit import Demo, Runner

_runs: dict[int, Runner] = {}

STEP_BUDGET_S = 0.05
"""Wall time a batch of steps may use before it answers; keeps frames flowing. A single
step that overruns it cannot be interrupted here: the page's deadline stops the worker."""


def load(name: str) -> Demo:
    """Import ``demos.<name>`` (installed from its wheel) and return its declaration."""
    importlib.invalidate_caches()
    return importlib.import_module(f"demos.{name}").DEMO


def start(run: int, name: str, scenario: str, params_json: str, seed: int) -> str:
    """Begin a fresh run for a widget; returns its first snapshot as JSON."""
    runner = Runner(load(name), scenario, json.loads(params_json), seed)
    _runs[run] = runner
    return json.dumps(runner.snapshot())


def step(run: int, count: int) -> str:
    """Advance up to ``count`` steps within the time budget; returns a snapshot."""
    runner = _runs[run]
    deadline = time.perf_counter() + STEP_BUDGET_S
    ran = 0
    while ran < count and not runner.sim.done:
        ran += runner.step(1)
        if time.perf_counter() > deadline:
            break
    snapshot = runner.snapshot()
    snapshot["ran"] = ran
    return json.dumps(snapshot)


def act(run: int, action: str, arg: str | None) -> str:
    """Apply a reader's action (a button) to the run; returns a snapshot."""
    runner = _runs[run]
    runner.act(action, arg)
    return json.dumps(runner.snapshot())


def set_param(run: int, name: str, value_json: str) -> str:
    """Change a parameter mid-run. ``live`` is false when the run must restart."""
    runner = _runs[run]
    live = runner.set_param(name, json.loads(value_json))
    snapshot = runner.snapshot() if live else {}
    snapshot["live"] = live
    return json.dumps(snapshot)


def drop(run: int) -> None:
    """Forget a run its widget is done with: stopped, started afresh, or left the page."""
    _runs.pop(run, None)


def count() -> int:
    """How many runs the worker holds (the page keeps at most one per widget)."""
    return len(_runs)

"""The Python side of the browser worker: runs demos for the page, one ``Runner`` per
widget, and answers with JSON snapshots.

The worker's JavaScript calls these functions through Pyodide; nothing here imports
``js`` or ``pyodide``, so the same bridge is unit-tested under CPython.
"""

from __future__ import annotations

import importlib
import json
import time

from demokit import Demo, Input, Runner, Series

_runs: dict[int, Runner] = {}
_sent: dict[int, tuple] = {}  # the timeline each run's widget was last sent
_series: dict[int, Series] = {}  # a CSV being gathered, per run

STEP_BUDGET_S = 0.05
"""Wall time a batch of steps may use before it answers; keeps frames flowing. A single
step that overruns it cannot be interrupted here: the page's deadline stops the worker."""


def load(name: str) -> Demo:
    """Import ``demos.<name>`` (installed from its wheel) and return its declaration."""
    importlib.invalidate_caches()
    return importlib.import_module(f"demos.{name}").DEMO


KINDS = {"a": "act", "p": "param", "c": "cue"}
RUN_KEYS = ("reached", "timeline", "inputs", "ran", "dropped", "live")
"""What a reply adds to the frame's snapshot: about the run, not the moment."""


def _inputs(rows: list) -> list[Input]:
    """Inputs from a link, ``[step, kind, name, value, raised]`` each (``kind`` one of
    ``a``/``p``/``c``); ValueError for anything else."""
    if not isinstance(rows, list):
        raise ValueError("inputs are not a list")
    inputs = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 5 and row[1] in KINDS):
            raise ValueError(f"input {str(row)[:40]} is not [step, kind, name, value, raised]")
        step, kind, name, value, raised = row
        if isinstance(step, bool) or not isinstance(step, int) or not isinstance(name, str):
            raise ValueError(f"input {str(row)[:40]} is not [step, kind, name, value, raised]")
        if kind == "c":
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError(f"input {str(row)[:40]}: a scheduled action needs [time, arg]")
            value = (value[0], value[1])
        inputs.append(Input(step, KINDS[kind], name, value, bool(raised)))
    return inputs


def _reply(run: int, runner: Runner, **extra) -> str:
    """The snapshot, with the run's timeline whenever it changed since last sent."""
    snapshot = runner.snapshot()
    snapshot["reached"] = runner.reached
    key = runner.timeline_key()
    if _sent.get(run) != key:
        _sent[run] = key
        snapshot["timeline"] = runner.timeline()
        snapshot["inputs"] = [
            [i.step, i.kind[0], i.name, list(i.value) if i.kind == "cue" else i.value, i.raised]
            for i in runner.inputs
        ]
    snapshot.update(extra)
    return json.dumps(snapshot)


def start(
    run: int,
    name: str,
    scenario: str,
    params_json: str,
    seed: int,
    inputs_json: str = "[]",
    step: int = 0,
) -> str:
    """Begin a fresh run for a widget; returns its first snapshot as JSON. For a link
    to a moment, ``inputs`` (none after ``step``) are recorded as the reader's, to be
    replayed as the widget steps the run on to ``step``, in budgeted slices like any
    other stepping; inputs the demo cannot take raise ValueError."""
    runner = Runner(load(name), scenario, json.loads(params_json), seed)
    inputs = _inputs(json.loads(inputs_json))
    if inputs:
        runner.replay(inputs, step, run=False)
    _runs[run] = runner
    _sent.pop(run, None)
    return _reply(run, runner)


def step(run: int, count: int, fork: bool = False) -> str:
    """Advance up to ``count`` steps within the time budget; returns a snapshot. With
    ``fork``, a run seeked back first drops its recorded future (``dropped`` steps)."""
    runner = _runs[run]
    dropped = runner.fork() if fork else 0
    deadline = time.perf_counter() + STEP_BUDGET_S
    ran = 0
    while ran < count and not runner.sim.done:
        ran += runner.step(1)
        if time.perf_counter() > deadline:
            break
    return _reply(run, runner, ran=ran, dropped=dropped)


def seek(run: int, target: int) -> str:
    """Show step ``target`` (at most the furthest step reached); returns a snapshot."""
    runner = _runs[run]
    runner.seek(max(0, min(int(target), runner.reached)))
    return _reply(run, runner)


def act(run: int, action: str, arg: str | None) -> str:
    """Apply a reader's action (a button) to the run; returns a snapshot. Acting after
    seeking back drops the recorded future (``dropped`` steps)."""
    runner = _runs[run]
    dropped = runner.reached - runner.steps
    runner.act(action, arg)
    return _reply(run, runner, dropped=dropped)


def set_param(run: int, name: str, value_json: str) -> str:
    """Change a parameter mid-run. ``live`` is false when the run must restart."""
    runner = _runs[run]
    dropped = runner.reached - runner.steps
    live = runner.set_param(name, json.loads(value_json))
    if not live:
        return json.dumps({"live": False})
    return _reply(run, runner, live=True, dropped=dropped)


def series(run: int, first: bool) -> str:
    """Gather the run's metrics over simulated time for a CSV file, a piece at a time
    (``first`` starts over); answers ``{"done", "progress"}`` and, once done, ``csv``."""
    if first or run not in _series:
        _series[run] = Series(_runs[run])
    gathering = _series[run]
    done = gathering.advance(STEP_BUDGET_S * 4)
    reply = {"done": done, "progress": gathering.index / max(1, len(gathering.steps))}
    if done:
        reply["csv"] = gathering.csv()
        del _series[run]
    return json.dumps(reply)


def drop(run: int) -> None:
    """Forget a run its widget is done with: stopped, started afresh, or left the page."""
    _runs.pop(run, None)
    _sent.pop(run, None)
    _series.pop(run, None)


def count() -> int:
    """How many runs the worker holds (the page keeps at most one per widget)."""
    return len(_runs)

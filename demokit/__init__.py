"""The demo kit: the contract between a demo and whatever runs it.

A demo is a package ``demos/<name>/`` whose ``__init__`` defines ``DEMO``, a
:class:`Demo`. The same declaration is read by the build (to check notes that embed
the demo, to render its static preview and to describe its controls to the browser)
and by the worker in the reader's browser (to run it under Pyodide). This module is
stdlib-only and must run on CPython 3.11 and on Pyodide's Python 3.14.
"""

from __future__ import annotations

import bisect
import copy
import csv
import dataclasses
import io
import math
import pickle
import random
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "SEED_MAX",
    "SEED_MIN",
    "Action",
    "BoolParam",
    "ChoiceParam",
    "Cue",
    "Demo",
    "FloatParam",
    "Frame",
    "Input",
    "IntParam",
    "Mark",
    "Notable",
    "Runner",
    "Scenario",
    "Simulation",
    "coerce_seed",
    "total",
]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Caps that keep a misbehaving demo from flooding the page: the worker and the
# build both go through Runner.snapshot(), so both get the same limits.
MAX_SVG_CHARS = 200_000
MAX_STATUS_CHARS = 300
MAX_LOG_LINES = 12
MAX_LOG_LINE_CHARS = 200
MAX_METRICS = 16
MAX_TIMELINE_MARKS = 400
MAX_SERIES_ROWS = 1000


SEED_MIN = 0
SEED_MAX = 2**32 - 1
"""Seeds are unsigned 32-bit integers: the build checks, permalinks and the widget
all accept exactly this range."""


def coerce_seed(value: Any) -> int:
    """``value`` as a seed, or ValueError saying what is allowed."""
    if isinstance(value, int) and not isinstance(value, bool) and SEED_MIN <= value <= SEED_MAX:
        return value
    shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
    raise ValueError(f"seed {shown} is not a whole number from {SEED_MIN} to {SEED_MAX}")


def total(values: Any) -> float:
    """The sum of ``values``, added left to right.

    Use it instead of ``sum()`` over floats in a core: from Python 3.12 ``sum()``
    compensates rounding errors (``sum([0.1] * 10)`` is 1.0, not 0.9999999999999999), so
    the same run would drift apart between CPython 3.11 and Pyodide's 3.14.
    """
    result = 0
    for value in values:
        result += value
    return result


def _check_id(kind: str, value: str) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(
            f"{kind} {value!r} is not a valid name; use lower case letters, digits and _"
        )
    if kind == "parameter" and value in RESERVED_PARAMS:
        raise ValueError(
            f"parameter {value!r}: the names {', '.join(sorted(RESERVED_PARAMS))} are taken "
            "by links to a moment; choose another"
        )


RESERVED_PARAMS = frozenset({"scenario", "seed", "step", "embed"})
"""Keys of a link to a moment (``demo:NAME?scenario=...&step=...``) that cannot also be
parameter names."""


# --- parameters -----------------------------------------------------------------


def _describe(param) -> dict:
    """A parameter's declaration as JSON-able data for the browser widget."""
    return {"kind": param.kind, **dataclasses.asdict(param)}


def _number(param, value: Any) -> float:
    """``value`` as a finite number within the parameter's range, or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{param.name}: {value!r} is not {param.allowed()}")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int beyond a float's range
        shown = value if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
        raise ValueError(f"{param.name}: {shown} is not {param.allowed()}") from None
    if not math.isfinite(number) or not param.min <= number <= param.max:
        raise ValueError(f"{param.name}: {value!r} is not {param.allowed()}")
    return number


@dataclass(frozen=True)
class IntParam:
    """An integer between ``min`` and ``max`` (inclusive), moved in ``step``s."""

    name: str
    label: str
    default: int
    min: int
    max: int
    step: int = 1
    unit: str = ""
    live: bool = False
    """True if the running simulation accepts a change (``set_param``); otherwise a
    change restarts the run from its seed."""
    kind = "int"

    def __post_init__(self) -> None:
        _check_id("parameter", self.name)
        if not (self.min <= self.default <= self.max) or self.step <= 0:
            raise ValueError(
                f"parameter {self.name}: default {self.default} is outside {self.min}..{self.max}"
            )

    def allowed(self) -> str:
        return f"an integer from {self.min} to {self.max}"

    def coerce(self, value: Any) -> int:
        number = _number(self, value)
        if not number.is_integer():
            raise ValueError(f"{self.name}: {value!r} is not {self.allowed()}")
        return int(number)

    def describe(self) -> dict:
        return _describe(self)


@dataclass(frozen=True)
class FloatParam:
    """A number between ``min`` and ``max`` (inclusive), moved in ``step``s."""

    name: str
    label: str
    default: float
    min: float
    max: float
    step: float
    unit: str = ""
    live: bool = False
    kind = "float"

    def __post_init__(self) -> None:
        _check_id("parameter", self.name)
        if not (self.min <= self.default <= self.max) or self.step <= 0:
            raise ValueError(
                f"parameter {self.name}: default {self.default} is outside {self.min}..{self.max}"
            )

    def allowed(self) -> str:
        return f"a number from {self.min:g} to {self.max:g}"

    def coerce(self, value: Any) -> float:
        return _number(self, value)

    def describe(self) -> dict:
        return _describe(self)


@dataclass(frozen=True)
class BoolParam:
    """On or off."""

    name: str
    label: str
    default: bool
    live: bool = False
    kind = "bool"

    def __post_init__(self) -> None:
        _check_id("parameter", self.name)

    def allowed(self) -> str:
        return "true or false"

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "1", 1):
            return True
        if value in ("false", "0", 0):
            return False
        raise ValueError(f"{self.name}: {value!r} is not {self.allowed()}")

    def describe(self) -> dict:
        return _describe(self)


@dataclass(frozen=True)
class ChoiceParam:
    """One of a fixed list of string values (``choices`` holds ``(value, label)``)."""

    name: str
    label: str
    default: str
    choices: tuple[tuple[str, str], ...]
    live: bool = False
    kind = "choice"

    def __post_init__(self) -> None:
        _check_id("parameter", self.name)
        if self.default not in self.values():
            raise ValueError(
                f"parameter {self.name}: default {self.default!r} is not one of its choices"
            )

    def values(self) -> list[str]:
        return [value for value, _ in self.choices]

    def allowed(self) -> str:
        return "one of " + ", ".join(self.values())

    def coerce(self, value: Any) -> str:
        if value not in self.values():
            raise ValueError(f"{self.name}: {value!r} is not {self.allowed()}")
        return value

    def describe(self) -> dict:
        return _describe(self)


Param = IntParam | FloatParam | BoolParam | ChoiceParam


# --- actions, scenarios, frames ---------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A button the reader can press while a demo runs, e.g. "Stop" an instance.

    With ``options`` (``(value, label)`` pairs) the widget shows a picker next to the
    button and the simulation's ``act`` receives the picked value as ``arg``.
    """

    name: str
    label: str
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _check_id("action", self.name)

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label, "options": [list(o) for o in self.options]}


@dataclass(frozen=True)
class Cue:
    """A scripted action: at simulated time ``at`` do ``action`` (with ``arg``)."""

    at: float
    action: str
    arg: str | None = None
    reader: bool = False
    """Scheduled by the reader (``Runner.act_at``), not by the scenario."""


@dataclass(frozen=True)
class Scenario:
    """A named preset: parameters, scripted actions and a caption saying what to see.

    ``preview_steps`` is how far the build runs the scenario for its static preview.
    """

    name: str
    title: str
    caption: str
    params: dict = field(default_factory=dict)
    script: tuple[Cue, ...] = ()
    preview_steps: int = 100
    record_steps: int = 0
    """How far the build records the scenario for readers without the Python runtime;
    0: thirty seconds of play at 1x (see ``livenotes.recordings``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _SLUG.match(self.name):
            raise ValueError(
                f"scenario {self.name!r} is not a valid name; use lower case letters, digits and -"
            )


@dataclass(frozen=True)
class Notable:
    """A kind of event worth marking on a timeline, e.g. a breaker opening."""

    name: str
    label: str

    def __post_init__(self) -> None:
        _check_id("notable event", self.name)


@dataclass(frozen=True)
class Frame:
    """What the reader sees: an SVG picture, a short status line, a few metrics as
    ``(label, value)`` pairs and the latest log lines (newest last).

    ``values`` carries metrics as numbers, ``(name, number, unit)``, for programs
    (charts, tests, downloads); ``metrics`` is how the view words them.
    """

    svg: str
    status: str
    metrics: tuple[tuple[str, str], ...] = ()
    log: tuple[str, ...] = ()
    values: tuple[tuple[str, float, str], ...] = ()


class Simulation(Protocol):
    """What ``Demo.create(params, rng)`` returns.

    Its state must survive :mod:`pickle` or at least :func:`copy.deepcopy` (the
    runner's checkpoints): queue data, not closures, lambdas or generators. It may also keep ``marks``, a list of
    ``(time, name, detail)`` for the demo's :class:`Notable` events, appended as they
    happen; the runner collects them with the step at which each happened.
    """

    now: float  # simulated time, in the demo's own unit; cues are matched against it
    done: bool  # True once nothing more can happen

    def step(self) -> None: ...
    def act(self, action: str, arg: str | None) -> None: ...
    def set_param(self, name: str, value: Any) -> None: ...  # only for live parameters


@dataclass(frozen=True)
class Demo:
    """A demo's declaration: ``create(params, rng)`` builds a fresh simulation (the
    core) from validated parameters and a seeded ``random.Random``; ``render(sim)``
    (the view) draws it."""

    name: str
    title: str
    summary: str
    talk: str
    """The note it belongs to, as a docs path without ``.md``, e.g. ``srecon19apac/x``."""
    params: tuple[Param, ...]
    actions: tuple[Action, ...]
    scenarios: tuple[Scenario, ...]
    create: Callable[[dict, random.Random], Simulation]
    seed: int = 1
    steps_per_second: float = 10.0
    """Steps per wall-clock second at speed 1x in the browser."""
    step_label: str = "step"
    """What one step is, in the domain's words (e.g. "message", "100 ms")."""
    time_unit: str = ""
    """The unit of ``Simulation.now`` ("s", "ms"), shown on the timeline and in downloads."""
    version: int = 1
    """Raised whenever the same inputs would give other frames, so that a link or a
    recording made with an older version can be recognised."""
    notable: tuple[Notable, ...] = ()
    """The events a timeline marks (see ``Simulation.marks``)."""
    render: Callable[[Any], Frame] | None = None
    """The view: turns the simulation's state into a :class:`Frame`. Without one, the
    simulation draws itself (``Simulation.frame()``)."""

    def __post_init__(self) -> None:
        _check_id("demo", self.name)
        coerce_seed(self.seed)
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ValueError(
                f"demo {self.name}: version {self.version!r} is not a whole number >= 1"
            )
        if not self.scenarios:
            raise ValueError(f"demo {self.name}: declare at least one scenario")
        for kind, items in (
            ("parameter", self.params),
            ("action", self.actions),
            ("scenario", self.scenarios),
            ("notable event", self.notable),
        ):
            names = [item.name for item in items]
            for name in names:
                if names.count(name) > 1:
                    raise ValueError(f"demo {self.name}: {kind} {name!r} is declared twice")
        actions = {action.name for action in self.actions}
        for scenario in self.scenarios:
            self.resolve(scenario.params)
            for cue in scenario.script:
                if cue.action not in actions:
                    raise ValueError(
                        f"demo {self.name}: scenario {scenario.name} cues unknown action {cue.action!r}"
                    )

    @property
    def default_scenario(self) -> Scenario:
        return self.scenarios[0]

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise ValueError(
            f"unknown parameter {name!r}; allowed: {', '.join(p.name for p in self.params) or 'none'}"
        )

    def scenario(self, name: str | None) -> Scenario:
        if name is None:
            return self.default_scenario
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise ValueError(
            f"unknown scenario {name!r}; allowed: {', '.join(s.name for s in self.scenarios)}"
        )

    def resolve(self, overrides: dict) -> dict:
        """Defaults overlaid with ``overrides``, each checked; raises ValueError."""
        values = {param.name: param.default for param in self.params}
        for name, value in overrides.items():
            values[name] = self.param(name).coerce(value)
        return values

    def describe(self) -> dict:
        """The declaration as JSON-able data for the browser widget."""
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "talk": self.talk,
            "seed": self.seed,
            "seed_range": [SEED_MIN, SEED_MAX],
            "version": self.version,
            "notable": [{"name": n.name, "label": n.label} for n in self.notable],
            "steps_per_second": self.steps_per_second,
            "step_label": self.step_label,
            "time_unit": self.time_unit,
            "params": [param.describe() for param in self.params],
            "actions": [action.describe() for action in self.actions],
            "scenarios": [
                {
                    "name": s.name,
                    "title": s.title,
                    "caption": s.caption,
                    "params": self.resolve(s.params),
                }
                for s in self.scenarios
            ],
        }


# --- the runner -------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


CHECKPOINT_EVERY = 100
"""Steps between the runner's checkpoints, at most (unless they would cost more than
:data:`CHECKPOINT_SHARE`): seeking re-simulates from the nearest earlier one."""
RESIM_SECONDS = 0.035
"""Stepping time between checkpoints, at most: a demo whose steps are slow is
checkpointed after this long of stepping, before 100 steps, so that a seek re-simulates
about this long at most, measured in the interpreter that runs it (Pyodide in the
browser). With the budget below, a 10,000-step run of the slowest demo (edge_cache: 1.4
ms steps, 46 KB checkpoints in Pyodide) keeps all of them."""
CHECKPOINT_BUDGET = 19_500_000
"""Bytes of pickled checkpoints one run may keep (the worker holds one run per widget).
Past it every other checkpoint goes and the spacing doubles, so a run of any length
stays within the budget and a seek re-simulates at most twice as far."""
CHECKPOINT_SHARE = 0.1
"""The every-100-steps checkpoints may cost at most this share of the time spent
stepping: a demo whose state is large next to its quick steps is checkpointed less often
(every 200, 300... steps), so a live run slows by at most about 10 %. Which steps get a
checkpoint never changes a frame."""
RESIM_SHARE = 0.25
"""The checkpoints taken after :data:`RESIM_SECONDS` of stepping may cost up to this
share: for a demo with slow steps and a large state (edge_cache: ~2 ms steps, ~8 ms
checkpoints in Pyodide) the bound on a seek's re-simulation wins over a little speed,
and a live run slows by at most about 25 %."""


def _freeze(state: Any) -> tuple[bool, Any]:
    """A checkpoint of ``state``: pickled bytes where possible (faster than a deep copy,
    and bytes add nothing for the garbage collector to walk), else a deep copy.

    Pickling fails for a class that was imported again since the object was made (the
    build re-imports demos on every ``mkdocs serve`` rebuild) or for a lambda a demo
    keeps; a deep copy still works then.
    """
    try:
        # Compressed (fast level): a demo's state repeats itself, so a checkpoint costs a
        # fraction of its pickle, and more of them fit the budget.
        return True, zlib.compress(pickle.dumps(state, pickle.HIGHEST_PROTOCOL), 1)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False, copy.deepcopy(state)


def _size(checkpoint: tuple[bool, Any]) -> int:
    """Bytes a checkpoint counts against the budget (a deep copy counts as none: it is
    only taken when pickling fails, and its size cannot be measured cheaply)."""
    pickled, state = checkpoint
    return len(state) if pickled else 0


def _number_text(value: Any) -> str:
    """A number as CSV text that reads the same in every Python (``repr`` of a float is
    its shortest round-trip form); empty when missing."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _thaw(checkpoint: tuple[bool, Any]) -> Any:
    """A fresh copy of the state a checkpoint holds."""
    pickled, state = checkpoint
    return pickle.loads(zlib.decompress(state)) if pickled else copy.deepcopy(state)


@dataclass(frozen=True)
class Input:
    """One thing the reader did: an action or a live parameter change, applied after
    ``step`` steps had run (and after the scenario's cues due by then)."""

    step: int
    kind: str  # "act" | "param" | "cue" (an action scheduled at a simulated time)
    name: str
    value: Any = None
    raised: bool = False
    """The simulation refused it with an exception: replayed, it is refused again, and
    whatever the simulation did before refusing is done again too."""


@dataclass(frozen=True)
class Mark:
    """A moment of a run worth marking on a timeline, at the step whose processing
    raised it: one of the demo's :class:`Notable` events (``kind="event"``), or a cue of
    the scenario's script or of the reader firing (``"script"``/``"reader"``, ``name``
    the action)."""

    step: int
    time: float
    name: str
    detail: str = ""
    kind: str = "event"


class Runner:
    """Runs one demo for a scenario, parameters and seed: applies the scenario's cues
    when their time comes, records the reader's inputs, can rebuild any step already
    reached (:meth:`seek`), and turns frames into capped, JSON-able snapshots.

    A run is a pure function of (scenario, parameters, seed, inputs): seeking rebuilds
    a step from the nearest earlier checkpoint (a pickle of the simulation, see
    :data:`CHECKPOINT_EVERY`) and re-simulates from there with the recorded inputs. An
    input after seeking back forks the run: the recorded future is dropped. The build
    uses the runner for previews, the worker for live runs, tests for both.
    """

    def __init__(
        self,
        demo: Demo,
        scenario: str | None = None,
        params: dict | None = None,
        seed: int | None = None,
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.demo = demo
        self.scenario = demo.scenario(scenario)
        self.params = demo.resolve({**self.scenario.params, **(params or {})})
        self.seed = coerce_seed(demo.seed if seed is None else seed)
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every {checkpoint_every!r} is not a whole number >= 1")
        self.checkpoint_every = checkpoint_every
        self.inputs: list[Input] = []
        """Everything the reader did, in order; replayed when a step is rebuilt."""
        self.marks: list[Mark] = []
        """Notable events so far (the demo's ``Notable`` kinds), oldest first."""
        self.reached = 0
        """The furthest step this run has been to, and can be rebuilt up to."""
        self._start_params = dict(self.params)
        self._checkpoints: dict[int, tuple] = {}
        self.checkpoint_bytes = 0
        """What the pickled checkpoints hold, at most :data:`CHECKPOINT_BUDGET`."""
        self._stepped_s = 0.0  # time spent in sim.step() since the last checkpoint
        self._since = 0  # steps since the last checkpoint (or the one restored)
        self._checkpoint_s = 0.0  # what the last checkpoint cost
        self._resim_s = RESIM_SECONDS
        self._forks = 0  # how often the recorded future was dropped (see timeline_key)
        self._restart()
        self._furthest = self.marks  # the marks of the run up to ``reached``

    # -- running ----------------------------------------------------------------------

    def _restart(self) -> None:
        self.sim = self.demo.create(dict(self._start_params), random.Random(self.seed))
        self.params = dict(self._start_params)
        self.steps = 0
        self._stepped_s, self._since = 0.0, 0
        self._next_input = 0
        self._seen_marks = 0
        self.marks = []
        self._cues = sorted(self.scenario.script, key=lambda cue: cue.at)
        self._apply_due_cues()
        self._collect_marks()
        self._replay_inputs()

    def _apply_due_cues(self) -> None:
        while self._cues and self._cues[0].at <= self.sim.now:
            cue = self._cues.pop(0)
            self.sim.act(cue.action, cue.arg)
            kind = "reader" if cue.reader else "script"
            self.marks.append(Mark(self.steps, self.sim.now, cue.action, cue.arg or "", kind))

    def _collect_marks(self) -> None:
        marks = getattr(self.sim, "marks", None)
        if not marks:
            return
        while self._seen_marks < len(marks):
            at, name, detail = marks[self._seen_marks]
            self.marks.append(Mark(self.steps, at, name, detail))
            self._seen_marks += 1

    def _replay_inputs(self) -> None:
        """Apply the recorded inputs that belong to the current step."""
        inputs = self.inputs
        while self._next_input < len(inputs) and inputs[self._next_input].step == self.steps:
            self._apply(inputs[self._next_input])
            self._next_input += 1
        self._collect_marks()

    def _apply(self, entry: Input) -> None:
        try:
            if entry.kind == "act":
                self.sim.act(entry.name, entry.value)
            elif entry.kind == "cue":
                at, arg = entry.value
                cue = Cue(at, entry.name, arg, reader=True)
                index = bisect.bisect_right([c.at for c in self._cues], at)
                self._cues.insert(index, cue)
                self._apply_due_cues()
            else:
                self.params[entry.name] = entry.value
                self.sim.set_param(entry.name, entry.value)
        except Exception:
            if not entry.raised:
                raise

    def _checkpoint(self) -> None:
        # Taken before this step's inputs are applied, so an input added later at
        # this very step leaves the checkpoint valid.
        started = time.perf_counter()
        checkpoint = _freeze((self.sim, self._cues, self.params, self.marks, self._seen_marks))
        self._checkpoints[self.steps] = checkpoint
        self.checkpoint_bytes += _size(checkpoint)
        while self.checkpoint_bytes > CHECKPOINT_BUDGET and len(self._checkpoints) > 1:
            self.checkpoint_every *= 2
            self._resim_s *= 2
            for s in sorted(self._checkpoints)[1::2]:
                self._drop_checkpoint(s)
        if self.checkpoint_bytes > CHECKPOINT_BUDGET:  # one checkpoint over the budget
            self._drop_checkpoint(self.steps)
        self._checkpoint_s = time.perf_counter() - started
        self._stepped_s, self._since = 0.0, 0

    def _drop_checkpoint(self, step: int) -> None:
        self.checkpoint_bytes -= _size(self._checkpoints.pop(step))

    def step(self, count: int = 1) -> int:
        """Run up to ``count`` steps; returns how many ran (fewer once done)."""
        ran = 0
        while ran < count and not self.sim.done:
            started = time.perf_counter()
            self.sim.step()
            self._stepped_s += time.perf_counter() - started
            self.steps += 1
            ran += 1
            self._apply_due_cues()
            self._collect_marks()
            self._since += 1
            stepped, cost = self._stepped_s, self._checkpoint_s
            if self.steps not in self._checkpoints and (
                (self._since >= self.checkpoint_every and stepped * CHECKPOINT_SHARE >= cost)
                or (stepped >= self._resim_s and stepped * RESIM_SHARE >= cost)
            ):
                self._checkpoint()
            self._replay_inputs()
            if self.steps >= self.reached:
                self.reached = self.steps
                self._furthest = self.marks
        return ran

    def seek(self, step: int) -> int:
        """Show the run as it was (or will be) after ``step`` steps, the reader's
        recorded inputs included; returns the step reached (less once done)."""
        target = max(0, int(step))
        base = max((s for s in self._checkpoints if s <= target), default=0)
        # Back, or forward past a checkpoint: start from the nearest one before the target.
        if target < self.steps or base > self.steps:
            if base == 0:
                self._restart()
            else:
                sim, cues, params, marks, seen = _thaw(self._checkpoints[base])
                self.sim, self._cues, self.params = sim, cues, params
                self.marks, self._seen_marks = marks, seen
                self.steps = base
                self._stepped_s, self._since = 0.0, 0
                self._next_input = bisect.bisect_left([i.step for i in self.inputs], base)
                self._replay_inputs()
        self.step(target - self.steps)
        return self.steps

    def fork(self) -> int:
        """Make the current step the end of the run: the recorded future (steps,
        inputs, checkpoints after it) is dropped. Returns how many steps went."""
        dropped = self.reached - self.steps
        if dropped == 0 and self._next_input == len(self.inputs):
            return 0
        del self.inputs[self._next_input :]
        for s in [s for s in self._checkpoints if s > self.steps]:
            self._drop_checkpoint(s)
        self.reached = self.steps
        self._furthest = self.marks
        self._forks += 1
        return dropped

    def _record(self, entry: Input) -> None:
        """Keep a new input; the inputs and checkpoints after this step no longer
        describe this run, so they go (the run forks here)."""
        self.fork()
        self.inputs.append(entry)
        self._next_input = len(self.inputs)
        self._forks += 1
        self._collect_marks()
        self._furthest = self.marks

    def replay(self, inputs: list[Input], step: int, *, run: bool = True) -> int:
        """Start this run over with ``inputs`` (from a link to a moment, none after
        ``step``) as if the reader had made them, and run to ``step`` (with ``run``
        false, stay at the start: stepping on replays them); returns the step reached
        (less when the run ends first). Raises ValueError for inputs this demo cannot
        take."""
        actions = {a.name for a in self.demo.actions}
        checked, last = [], 0
        for entry in inputs:
            if not isinstance(entry.step, int) or not last <= entry.step <= step:
                raise ValueError(f"input at step {entry.step!r} is out of order")
            last = entry.step
            if entry.kind in ("act", "cue") and entry.name not in actions:
                raise ValueError(f"unknown action {entry.name!r}")
            if entry.kind == "param":
                param = self.demo.param(entry.name)
                if not param.live:
                    raise ValueError(f"parameter {entry.name!r} cannot change during a run")
                entry = dataclasses.replace(entry, value=param.coerce(entry.value))
            elif entry.kind == "cue":
                at, arg = entry.value
                if isinstance(at, bool) or not isinstance(at, (int, float)):
                    raise ValueError(f"time {at!r} is not a number")
                if not math.isfinite(at):
                    raise ValueError(f"time {at!r} is not a number")
            elif entry.kind != "act":
                raise ValueError(f"unknown kind of input {entry.kind!r}")
            checked.append(entry)
        self.inputs = checked
        for s in list(self._checkpoints):
            self._drop_checkpoint(s)
        self.reached = 0
        self._forks += 1
        self._restart()
        self._furthest = self.marks
        if run:
            self.step(step)
        return self.steps

    def act(self, action: str, arg: str | None = None) -> None:
        """Apply a reader's action now, and record it with the current step."""
        if action not in {a.name for a in self.demo.actions}:
            raise ValueError(f"unknown action {action!r}")
        try:
            self.sim.act(action, arg)
        except Exception:
            self._record(Input(self.steps, "act", action, arg, raised=True))
            raise
        self._record(Input(self.steps, "act", action, arg))

    def act_at(self, at: float, action: str, arg: str | None = None) -> None:
        """Schedule a reader's action at simulated time ``at`` (the demo's unit, not
        before now), as a scenario's cue; recorded with the current step."""
        if action not in {a.name for a in self.demo.actions}:
            raise ValueError(f"unknown action {action!r}")
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
            raise ValueError(f"time {at!r} is not a number")
        if at < self.sim.now:
            raise ValueError(f"time {at:g} is in the past; now is {self.sim.now:g}")
        entry = Input(self.steps, "cue", action, (at, arg))
        try:
            self._apply(entry)
        except Exception:
            self._record(dataclasses.replace(entry, raised=True))
            raise
        self._record(entry)

    def set_param(self, name: str, value: Any) -> bool:
        """Apply a live change; returns False when the parameter needs a fresh run."""
        param = self.demo.param(name)
        value = param.coerce(value)
        self.params[name] = value
        if not param.live:
            return False
        try:
            self.sim.set_param(name, value)
        except Exception:
            self._record(Input(self.steps, "param", name, value, raised=True))
            raise
        self._record(Input(self.steps, "param", name, value))
        return True

    # -- reading ----------------------------------------------------------------------

    def timeline_key(self) -> tuple[int, int]:
        """Changes whenever :meth:`timeline` would answer differently."""
        return (self._forks, len(self._furthest))

    def timeline(self, limit: int = MAX_TIMELINE_MARKS) -> list[dict]:
        """The moments of the run up to ``reached``, oldest first, for a timeline:
        the reader's inputs, the script's cues as they fired and the demo's notable
        events, each ``{"step", "kind", "name", "label"}``. Past ``limit``, events are
        thinned evenly; the reader's and the script's moments are all kept."""
        actions = {a.name: a for a in self.demo.actions}
        notable = {n.name: n.label for n in self.demo.notable}

        def action_label(name: str, arg: Any) -> str:
            action = actions.get(name)
            label = action.label if action else name
            options = dict(action.options) if action else {}
            return f"{label} {options.get(arg, arg)}" if arg not in (None, "") else label

        moments = []
        for entry in self.inputs:
            if entry.kind == "act":
                label = action_label(entry.name, entry.value)
            elif entry.kind == "param":
                param = self.demo.param(entry.name)
                unit = f" {param.unit}" if getattr(param, "unit", "") else ""
                label = f"{param.label}: {entry.value}{unit}"
            else:
                continue  # a scheduled action is marked when it fires
            moments.append(
                {"step": entry.step, "kind": "reader", "name": entry.name, "label": label}
            )
        events = []
        for mark in self._furthest:
            if mark.kind == "event":
                text = notable.get(mark.name, mark.name)
                label = f"{text}: {mark.detail}" if mark.detail else text
                events.append(
                    {"step": mark.step, "kind": "event", "name": mark.name, "label": label}
                )
            else:
                label = action_label(mark.name, mark.detail or None)
                moments.append(
                    {"step": mark.step, "kind": mark.kind, "name": mark.name, "label": label}
                )
        room = max(0, limit - len(moments))
        if len(events) > room:
            events = [events[i * len(events) // room] for i in range(room)] if room else []
        for item in moments + events:
            item["label"] = _clip(item["label"], MAX_LOG_LINE_CHARS)
        return sorted(moments + events, key=lambda item: item["step"])

    def series(self, rows: int = MAX_SERIES_ROWS) -> str:
        """The run's metrics over simulated time as CSV (see :class:`Series`)."""
        series = Series(self, rows)
        series.advance(math.inf)
        return series.csv()

    def frame(self) -> Frame:
        """The current frame, drawn by the demo's view."""
        render = self.demo.render
        return render(self.sim) if render is not None else self.sim.frame()

    def snapshot(self) -> dict:
        """The current frame as capped, JSON-able data."""
        frame = self.frame()
        svg = frame.svg if len(frame.svg) <= MAX_SVG_CHARS else ""
        status = _clip(frame.status, MAX_STATUS_CHARS)
        if not svg:
            status = _clip(
                f"frame too large ({len(frame.svg)} characters); not drawn", MAX_STATUS_CHARS
            )
        snapshot = {
            "svg": svg,
            "status": status,
            "metrics": [[_clip(k, 60), _clip(v, 60)] for k, v in list(frame.metrics)[:MAX_METRICS]],
            "log": [_clip(line, MAX_LOG_LINE_CHARS) for line in list(frame.log)[-MAX_LOG_LINES:]],
            "now": self.sim.now,
            "steps": self.steps,
            "done": bool(self.sim.done),
        }
        values = [
            [_clip(name, 60), number, _clip(unit, 20)]
            for name, number, unit in list(frame.values)[:MAX_METRICS]
            if isinstance(number, (int, float)) and math.isfinite(number)
        ]
        if values:
            snapshot["values"] = values
        return snapshot


class Series:
    """The metrics (``Frame.values``) of a run over simulated time, for a CSV file: a
    row per step up to the furthest step reached, or ``rows`` rows evenly spaced when
    the run is longer. Gathered on a copy of the run (the reader's view stays where it
    is), in pieces of bounded wall time (:meth:`advance`) so that the worker can answer
    between them."""

    def __init__(self, run: Runner, rows: int = MAX_SERIES_ROWS) -> None:
        end = run.reached
        if end + 1 <= rows:
            self.steps = list(range(end + 1))
        else:
            self.steps = sorted({round(i * end / (rows - 1)) for i in range(rows)})
        self.demo = run.demo
        self.runner = Runner(
            run.demo, run.scenario.name, run._start_params, run.seed, checkpoint_every=10**9
        )
        self.runner.replay(list(run.inputs), 0)
        self.index = 0
        self.columns: dict[str, str] = {}
        self.table: list[tuple[int, float, dict]] = []

    @property
    def done(self) -> bool:
        return self.index >= len(self.steps)

    def advance(self, seconds: float) -> bool:
        """Gather rows for about ``seconds`` of wall time; True once all are in."""
        deadline = time.perf_counter() + seconds
        while not self.done:
            runner = self.runner
            runner.seek(self.steps[self.index])
            values = {}
            for name, number, unit in runner.frame().values:
                if isinstance(number, (int, float)) and math.isfinite(number):
                    self.columns.setdefault(name, unit)
                    values[name] = number
            self.table.append((runner.steps, runner.sim.now, values))
            self.index += 1
            if time.perf_counter() > deadline:
                break
        return self.done

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        unit = self.demo.time_unit
        header = ["step", f"simulated time ({unit})" if unit else "simulated time"]
        writer.writerow(header + [f"{n} ({u})" if u else n for n, u in self.columns.items()])
        for step, now, values in self.table:
            writer.writerow(
                [step, _number_text(now)] + [_number_text(values.get(n)) for n in self.columns]
            )
        return out.getvalue()

"""The demo kit: the contract between a demo and whatever runs it.

A demo is a package ``demos/<name>/`` whose ``__init__`` defines ``DEMO``, a
:class:`Demo`. The same declaration is read by the build (to check notes that embed
the demo, to render its static preview and to describe its controls to the browser)
and by the worker in the reader's browser (to run it under Pyodide). This module is
stdlib-only and must run on CPython 3.11 and on Pyodide's Python 3.14.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Action",
    "BoolParam",
    "ChoiceParam",
    "Cue",
    "Demo",
    "FloatParam",
    "Frame",
    "IntParam",
    "Runner",
    "Scenario",
    "Simulation",
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


def _check_id(kind: str, value: str) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(
            f"{kind} {value!r} is not a valid name; use lower case letters, digits and _"
        )


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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _SLUG.match(self.name):
            raise ValueError(
                f"scenario {self.name!r} is not a valid name; use lower case letters, digits and -"
            )


@dataclass(frozen=True)
class Frame:
    """What the reader sees: an SVG picture, a short status line, a few metrics as
    ``(label, value)`` pairs and the latest log lines (newest last)."""

    svg: str
    status: str
    metrics: tuple[tuple[str, str], ...] = ()
    log: tuple[str, ...] = ()


class Simulation(Protocol):
    """What ``Demo.create(params, rng)`` returns."""

    now: float  # simulated time, in the demo's own unit; cues are matched against it
    done: bool  # True once nothing more can happen

    def step(self) -> None: ...
    def act(self, action: str, arg: str | None) -> None: ...
    def set_param(self, name: str, value: Any) -> None: ...  # only for live parameters
    def frame(self) -> Frame: ...


@dataclass(frozen=True)
class Demo:
    """A demo's declaration. ``create(params, rng)`` builds a fresh simulation from
    validated parameters and a seeded ``random.Random``."""

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

    def __post_init__(self) -> None:
        _check_id("demo", self.name)
        if not self.scenarios:
            raise ValueError(f"demo {self.name}: declare at least one scenario")
        for kind, items in (
            ("parameter", self.params),
            ("action", self.actions),
            ("scenario", self.scenarios),
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
            "steps_per_second": self.steps_per_second,
            "step_label": self.step_label,
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


class Runner:
    """Runs one demo for a scenario, parameters and seed: applies the scenario's cues
    when their time comes, and turns frames into capped, JSON-able snapshots.

    The build uses it for previews, the worker for live runs, tests for both.
    """

    def __init__(
        self,
        demo: Demo,
        scenario: str | None = None,
        params: dict | None = None,
        seed: int | None = None,
    ) -> None:
        self.demo = demo
        self.scenario = demo.scenario(scenario)
        self.params = demo.resolve({**self.scenario.params, **(params or {})})
        self.seed = demo.seed if seed is None else int(seed)
        self.sim = demo.create(dict(self.params), random.Random(self.seed))
        self.steps = 0
        self._cues = sorted(self.scenario.script, key=lambda cue: cue.at)
        self._apply_due_cues()

    def _apply_due_cues(self) -> None:
        while self._cues and self._cues[0].at <= self.sim.now:
            cue = self._cues.pop(0)
            self.sim.act(cue.action, cue.arg)

    def step(self, count: int = 1) -> int:
        """Run up to ``count`` steps; returns how many ran (fewer once done)."""
        ran = 0
        while ran < count and not self.sim.done:
            self.sim.step()
            self.steps += 1
            ran += 1
            self._apply_due_cues()
        return ran

    def act(self, action: str, arg: str | None = None) -> None:
        if action not in {a.name for a in self.demo.actions}:
            raise ValueError(f"unknown action {action!r}")
        self.sim.act(action, arg)

    def set_param(self, name: str, value: Any) -> bool:
        """Apply a live change; returns False when the parameter needs a fresh run."""
        param = self.demo.param(name)
        value = param.coerce(value)
        self.params[name] = value
        if not param.live:
            return False
        self.sim.set_param(name, value)
        return True

    def frame(self) -> Frame:
        return self.sim.frame()

    def snapshot(self) -> dict:
        """The current frame as capped, JSON-able data."""
        frame = self.sim.frame()
        svg = frame.svg if len(frame.svg) <= MAX_SVG_CHARS else ""
        status = _clip(frame.status, MAX_STATUS_CHARS)
        if not svg:
            status = _clip(
                f"frame too large ({len(frame.svg)} characters); not drawn", MAX_STATUS_CHARS
            )
        return {
            "svg": svg,
            "status": status,
            "metrics": [[_clip(k, 60), _clip(v, 60)] for k, v in list(frame.metrics)[:MAX_METRICS]],
            "log": [_clip(line, MAX_LOG_LINE_CHARS) for line in list(frame.log)[-MAX_LOG_LINES:]],
            "now": self.sim.now,
            "steps": self.steps,
            "done": bool(self.sim.done),
        }

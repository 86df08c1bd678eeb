"""``livenotes new-demo NAME``: a small working demo to start from.

It writes a core (a single server and its queue, on ``demokit.events``), a view (on
``demokit.svg``), the declaration, a unit test and the demo's page under
``docs/demos/``. The result passes the contract test (``tests/demos/test_contract.py``)
and builds as it is; the contributor then replaces the model with the talk's.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path

import yaml

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

CORE = '''"""__TITLE__: the simulation core.

TODO: say which talk this models, and cite the source of each rule you follow.

A single server and its queue: customers arrive at random (a Poisson process of rate
``arrival_rate``), wait in line and are served one at a time, first come first served,
for an exponential service time of mean ``service_time``. Simulated time only; every
random number comes from the ``random.Random`` passed in; the state is plain data, so
the runner can copy it for its checkpoints.
"""

from __future__ import annotations

import random

from demokit import total
from demokit.events import EventQueue

STEP_S = 0.1
"""Simulated seconds per step."""
MAX_TIME = 600.0
"""The run ends after this many simulated seconds."""
HISTORY = 300
"""Steps of queue length kept for the chart."""
RECENT = 50
"""Waiting times kept for the mean wait."""


class Core:
    """The queue; see the module docstring."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        self.rng = rng
        self.arrival_rate = float(params["arrival_rate"])
        self.service_time = float(params["service_time"])
        self.now = 0.0
        self.steps = 0
        self.done = False
        self.waiting: list[float] = []
        """Arrival times of the customers in line, first in line first."""
        self.serving: float | None = None
        """Arrival time of the customer being served, or None when the server is idle."""
        self.arrived = 0
        self.served = 0
        self.waits: list[float] = []
        """Seconds the last few customers waited before their service began."""
        self.history: list[int] = []
        """Queue length after each step (the last :data:`HISTORY` steps)."""
        self.log: list[str] = []
        self.marks: list[tuple[float, str, str]] = []
        """Notable events for a timeline: (time, name, detail)."""
        self._queue = EventQueue()
        self._arrival = None
        self._schedule_arrival()

    # -- the Simulation protocol -------------------------------------------------------

    def step(self) -> None:
        """Run every event up to the end of the next step."""
        self.steps += 1
        end = self.steps * STEP_S  # a product, not a running sum: no drift
        while (event := self._queue.pop_until(end)) is not None:
            self.now = event.time
            if event.kind == "arrive":
                self._arrive()
            else:
                self._depart()
        self.now = end
        self.history.append(len(self.waiting))
        del self.history[:-HISTORY]
        if self.now >= MAX_TIME:
            self.done = True

    def act(self, action: str, arg: str | None) -> None:
        """``burst``: ``arg`` customers (default 10) arrive at once."""
        if action != "burst":
            raise ValueError(f"unknown action {action!r}; allowed: burst")
        count = int(arg or 10)
        for _ in range(count):
            self._join()
        self._note(f"a burst of {count} customers arrives")
        self.marks.append((self.now, "burst", f"{count} customers"))

    def set_param(self, name: str, value: float) -> None:
        """Apply a live change of ``arrival_rate`` or ``service_time``."""
        if name == "arrival_rate":
            self.arrival_rate = float(value)
            # Poisson arrivals are memoryless: drawing the next one afresh is exact.
            if self._arrival is not None:
                self._arrival.cancel()
            self._schedule_arrival()
        elif name == "service_time":
            self.service_time = float(value)
        else:
            raise ValueError(f"{name} cannot change while the simulation runs")
        self._note(f"{name.replace('_', ' ')} set to {value:g}")

    # -- events ------------------------------------------------------------------------

    def _schedule_arrival(self) -> None:
        self._arrival = None
        if self.arrival_rate > 0:
            at = self.now + self.rng.expovariate(self.arrival_rate)
            self._arrival = self._queue.schedule(at, "arrive")

    def _arrive(self) -> None:
        self._join()
        self._schedule_arrival()

    def _join(self) -> None:
        self.arrived += 1
        self.waiting.append(self.now)
        if self.serving is None:
            self._start_service()

    def _start_service(self) -> None:
        arrived_at = self.waiting.pop(0)
        self.serving = arrived_at
        self.waits.append(self.now - arrived_at)
        del self.waits[:-RECENT]
        self._queue.schedule(self.now + self.rng.expovariate(1 / self.service_time), "depart")

    def _depart(self) -> None:
        self.served += 1
        self.serving = None
        if self.waiting:
            self._start_service()

    def _note(self, text: str) -> None:
        self.log.append(f"{self.now:.1f} s · {text}")
        del self.log[:-12]

    # -- reading -----------------------------------------------------------------------

    @property
    def in_system(self) -> int:
        """Customers waiting or being served."""
        return len(self.waiting) + (self.serving is not None)

    @property
    def mean_wait(self) -> float | None:
        """Mean wait of the last few customers, in seconds (None before the first)."""
        return total(self.waits) / len(self.waits) if self.waits else None


def create(params: dict, rng: random.Random) -> Core:
    """Build the simulation from validated parameters and a seeded generator."""
    return Core(params, rng)
'''

VIEW = '''"""__TITLE__: turns the core's state into a :class:`demokit.Frame`."""

from __future__ import annotations

from demokit import Frame
from demokit.svg import svg, text

from .core import HISTORY, Core

WIDTH, HEIGHT = 640, 300
CHART = (40, 60, 620, 260)  # left, top, right, bottom
ACCENT = "#1c7ed6"  # at least 3:1 on white and on the dark theme's #1e2129


def render(sim: Core) -> Frame:
    """The frame for the simulation's current state."""
    left, top, right, bottom = CHART
    peak = max([10, *sim.history])
    points = " ".join(
        f"{left + i * (right - left) / (HISTORY - 1):.1f},{bottom - n * (bottom - top) / peak:.1f}"
        for i, n in enumerate(sim.history)
    )
    wait = "–" if sim.mean_wait is None else f"{sim.mean_wait:.1f} s"
    body = [
        text(12, 24, f"t = {sim.now:.1f} s", font_size=13, fill="currentColor"),
        text(
            WIDTH - 12,
            24,
            f"{len(sim.waiting)} waiting · server {'busy' if sim.serving is not None else 'idle'}",
            font_size=13,
            text_anchor="end",
            fill="currentColor",
        ),
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="currentColor" '
        'stroke-opacity="0.4"/>',
        text(left - 6, top + 4, peak, font_size=10, text_anchor="end", fill="currentColor"),
        text(left - 6, bottom, 0, font_size=10, text_anchor="end", fill="currentColor"),
        text(left, bottom + 18, "queue length, last 30 s", font_size=10, fill="currentColor"),
    ]
    if len(sim.history) > 1:
        body.append(f'<polyline points="{points}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    title = f"Queue at {sim.now:.0f} s: {len(sim.waiting)} waiting, mean wait {wait}"
    status = (
        f"t = {sim.now:.1f} s · {sim.in_system} in the system · {sim.served} served · "
        f"mean wait {wait}"
    )
    metrics = (
        ("Waiting", str(len(sim.waiting))),
        ("Served", f"{sim.served:,}"),
        ("Mean wait", wait),
        ("Load", f"{sim.arrival_rate * sim.service_time:.0%}"),
    )
    values = [
        ("time", sim.now, "s"),
        ("waiting", len(sim.waiting), "customers"),
        ("served", sim.served, "customers"),
        ("load", sim.arrival_rate * sim.service_time * 100, "%"),
    ]
    if sim.mean_wait is not None:
        values.append(("mean_wait", sim.mean_wait, "s"))
    return Frame(
        svg=svg(WIDTH, HEIGHT, title, "".join(body)),
        status=status,
        metrics=metrics,
        log=tuple(sim.log),
        values=tuple(values),
    )
'''

INIT = '''"""__TITLE__.

TODO: one paragraph on the talk this demo belongs to and what it lets the reader try.
"""

from __future__ import annotations

from demokit import Action, Cue, Demo, FloatParam, Notable, Scenario

from .core import create
from .view import render

DEMO = Demo(
    name="__NAME__",
    title="__TITLE__",
    summary="A single server and its queue: raise the load and watch the line grow.",
    talk="__TALK__",
    params=(
        FloatParam("arrival_rate", "Arrivals", 0.8, 0.0, 3.0, 0.1, unit="per second", live=True),
        FloatParam("service_time", "Service time", 1.0, 0.2, 3.0, 0.1, unit="s", live=True),
    ),
    actions=(Action("burst", "Burst of customers", (("10", "10 at once"), ("30", "30 at once"))),),
    scenarios=(
        Scenario(
            "steady",
            "Steady",
            "Customers arrive at 80 % of what the server can handle: a short line comes and goes.",
            preview_steps=300,
        ),
        Scenario(
            "overload",
            "Overload",
            "At 120 % load the line only grows; a burst at 20 s makes it worse at once.",
            params={"arrival_rate": 1.2},
            script=(Cue(20.0, "burst", "10"),),
            preview_steps=300,
        ),
    ),
    create=create,
    render=render,
    seed=1,
    steps_per_second=20.0,
    step_label="100 ms",
    version=1,
    notable=(Notable("burst", "a burst arrived"),),
)
'''

TEST = '''"""__TITLE__: the core's rules, as exact traces and invariants.

TODO: replace with the rules of the talk's model, each with its source cited.
"""

from __future__ import annotations

import random

from demos.__NAME__ import DEMO
from demos.__NAME__.core import Core


def run(steps: int, seed: int = 1, **params) -> Core:
    sim = Core(DEMO.resolve(params), random.Random(seed))
    for _ in range(steps):
        sim.step()
    return sim


def test_nobody_arrives_at_rate_zero():
    sim = run(100, arrival_rate=0.0)
    assert (sim.arrived, sim.served, sim.history[-1]) == (0, 0, 0)


def test_every_customer_is_waiting_in_service_or_served():
    sim = run(2000, arrival_rate=1.1)
    assert sim.arrived == sim.served + sim.in_system
    assert all(wait >= 0 for wait in sim.waits)


def test_a_burst_joins_the_line_at_once():
    sim = run(0, arrival_rate=0.0)
    sim.act("burst", "10")
    assert (sim.arrived, len(sim.waiting), sim.serving) == (10, 9, 0.0)
    assert sim.marks == [(0.0, "burst", "10 customers")]


def test_overload_grows_the_line():
    assert run(3000, arrival_rate=2.0).in_system > run(3000, arrival_rate=0.5).in_system


def test_the_same_seed_gives_the_same_run():
    assert run(500).history == run(500).history
    assert run(500).history != run(500, seed=2).history
'''


def _page(name: str, title: str) -> str:
    meta = {
        "title": title,
        "summary": "TODO: one sentence on what the demo lets the reader try.",
        "demos": [name],
        "hide": ["toc"],
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return (
        f"---\n{front}---\n\n# {title}\n\n"
        "TODO: what the reader should try, and what the talk says about it.\n\n"
        f"```demo\nname: {name}\n```\n"
    )


def new_demo(root: Path, name: str, title: str | None, talk: str | None) -> int:
    """Write the demo's package, unit test and page; never overwrite a file."""
    if not NAME.match(name) or keyword.iskeyword(name):
        print(
            f"new-demo: {name!r} is not a demo name; use lower case letters, digits and _, "
            "starting with a letter (it becomes the package demos/<name>/)",
            file=sys.stderr,
        )
        return 2
    title = title or name.replace("_", " ").capitalize()
    if '"' in title or "\\" in title or "\n" in title:
        print("new-demo: --title may not hold quotes, backslashes or line breaks", file=sys.stderr)
        return 2
    talk = talk or f"demos/{name}"
    files = {
        root / "demos" / name / "__init__.py": INIT,
        root / "demos" / name / "core.py": CORE,
        root / "demos" / name / "view.py": VIEW,
        root / "tests" / "demos" / f"test_{name}.py": TEST,
    }
    page = root / "docs" / "demos" / f"{name}.md"
    for path in [*files, page]:
        if path.exists():
            print(
                f"new-demo: {path.relative_to(root)} already exists; not overwriting",
                file=sys.stderr,
            )
            return 2
    if (root / "demos" / name).exists():
        print(f"new-demo: demos/{name}/ already exists; not overwriting", file=sys.stderr)
        return 2
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = template.replace("__NAME__", name).replace("__TITLE__", title)
        path.write_text(text.replace("__TALK__", talk), encoding="utf-8")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(_page(name, title), encoding="utf-8")
    for path in [*files, page]:
        print(path.relative_to(root))
    return 0

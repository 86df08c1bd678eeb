"""The demo kit's runner: seeds, recorded inputs, checkpoints and seeking.

The idea of checkpoints plus re-simulation is RaftScope's (``state.js``: a recorded
history that can be seeked and forked), done once in the kit for every demo.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import pytest

import demokit
from demokit import svg

# --- seeds ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_seeds_within_32_bits_are_kept(seed):
    assert demokit.coerce_seed(seed) == seed


@pytest.mark.parametrize("seed", [-1, 2**32, True, 1.0, "1", None])
def test_other_seeds_are_refused_with_the_range(seed):
    with pytest.raises(ValueError, match=r"is not a whole number from 0 to 4294967295$"):
        demokit.coerce_seed(seed)


# --- the runner -----------------------------------------------------------------------


@dataclass
class Walk:
    """A tiny simulation: a random walk whose step size the reader can change."""

    rng: random.Random
    size: float
    now: float = 0.0
    position: float = 0.0
    done: bool = False
    trace: list = field(default_factory=list)
    marks: list = field(default_factory=list)

    def step(self) -> None:
        self.now += 1
        self.position += self.size * (1 if self.rng.random() < 0.5 else -1)
        self.trace.append(self.position)
        if self.now >= 500:
            self.done = True

    def act(self, action: str, arg: str | None) -> None:
        self.position = 0.0
        self.marks.append((self.now, "reset", arg or ""))

    def set_param(self, name: str, value) -> None:
        self.size = value

    def frame(self) -> demokit.Frame:
        return demokit.Frame(
            svg=svg.svg(10, 10, f"at {self.position:g}", ""),
            status=f"{self.now:g}: {self.position:g}",
            values=(("position", self.position, "m"),),
        )


WALK = demokit.Demo(
    name="walk",
    title="Walk",
    summary="A random walk.",
    talk="x/y",
    params=(demokit.FloatParam("size", "Step", 1.0, 0.5, 4.0, 0.5, live=True),),
    actions=(demokit.Action("reset", "Reset"),),
    scenarios=(
        demokit.Scenario("plain", "Plain", "Walks."),
        demokit.Scenario("cued", "Cued", "Resets at 30.", script=(demokit.Cue(30, "reset"),)),
    ),
    create=lambda params, rng: Walk(rng, params["size"]),
    notable=(demokit.Notable("reset", "Reset"),),
)


def _drive(runner: demokit.Runner, until: int = 300) -> None:
    """Steps with reader inputs in between, up to step ``until``: the same script for
    every runner, played forward only."""
    for at, kind, name, value in ((37, "param", "size", 2.5), (187, "act", "reset", "by hand")):
        if at > until:
            break
        runner.step(at - runner.steps)
        if kind == "param":
            runner.set_param(name, value)
        else:
            runner.act(name, value)
    runner.step(until - runner.steps)


def test_seeking_back_rebuilds_the_step_with_the_readers_inputs():
    live = demokit.Runner(WALK, "cued", checkpoint_every=40)
    _drive(live)
    assert live.steps == live.reached == 300
    expected = {}
    for k in (0, 1, 36, 37, 38, 79, 80, 187, 188, 299, 300):
        reference = demokit.Runner(WALK, "cued")
        _drive(reference, until=k)
        expected[k] = reference.snapshot()
    for k in (300, 188, 0, 80, 37, 299, 187, 1, 36, 38, 79):
        assert live.seek(k) == k
        assert live.snapshot() == expected[k], k
    assert [(m.step, m.name, m.detail, m.kind) for m in live.marks] == [
        (30, "reset", "", "script"),  # the scenario's cue fired...
        (30, "reset", "", "event"),  # ...and the walk marked its own event
    ]
    assert live.seek(300) == 300
    events = [(m.step, m.detail) for m in live.marks if m.kind == "event"]
    assert events == [(30, ""), (187, "by hand")]
    assert live.snapshot()["values"] == [["position", live.sim.position, "m"]]


def test_an_input_after_seeking_back_forks_the_run():
    runner = demokit.Runner(WALK, "plain", checkpoint_every=25)
    _drive(runner)
    runner.seek(100)
    runner.act("reset", "fork")
    assert runner.reached == 100
    assert [(i.step, i.kind, i.name) for i in runner.inputs] == [
        (37, "param", "size"),
        (100, "act", "reset"),
    ]
    runner.step(50)
    fresh = demokit.Runner(WALK, "plain")
    fresh.step(37)
    fresh.set_param("size", 2.5)
    fresh.step(63)
    fresh.act("reset", "fork")
    fresh.step(50)
    assert runner.snapshot() == fresh.snapshot()


def test_a_checkpoint_is_not_changed_by_the_run_that_continues():
    runner = demokit.Runner(WALK, "plain", checkpoint_every=10)
    runner.step(10)
    at_ten = runner.snapshot()
    runner.step(90)
    runner.seek(10)
    assert runner.snapshot() == at_ten
    runner.step(5)
    runner.seek(10)
    assert runner.snapshot() == at_ten


def test_a_non_live_parameter_is_not_recorded():
    demo = demokit.Demo(
        name="walk",
        title="Walk",
        summary="",
        talk="x/y",
        params=(demokit.FloatParam("size", "Step", 1.0, 0.5, 4.0, 0.5),),
        actions=(),
        scenarios=(demokit.Scenario("plain", "Plain", "Walks."),),
        create=lambda params, rng: Walk(rng, params["size"]),
    )
    runner = demokit.Runner(demo)
    assert runner.set_param("size", 2.0) is False and runner.inputs == []


def test_a_demo_declares_a_version_and_a_valid_seed():
    assert WALK.describe()["version"] == 1
    assert WALK.describe()["seed_range"] == [0, 2**32 - 1]
    with pytest.raises(ValueError, match="seed -1 is not a whole number"):
        demokit.Demo(**{**_fields(WALK), "seed": -1})
    with pytest.raises(ValueError, match="version 0"):
        demokit.Demo(**{**_fields(WALK), "version": 0})


def _fields(demo: demokit.Demo) -> dict:
    return {name: getattr(demo, name) for name in demo.__dataclass_fields__}


def test_a_simulation_that_cannot_be_pickled_is_checkpointed_by_deep_copy():
    def lambda_walk(params, rng):
        walk = Walk(rng, params["size"])
        walk.scale = lambda x: 2 * x  # not picklable
        return walk

    demo = demokit.Demo(**{**_fields(WALK), "create": lambda_walk})
    runner = demokit.Runner(demo, "plain", checkpoint_every=10)
    _drive(runner)
    assert runner._checkpoints and not any(p for p, _ in runner._checkpoints.values())
    at = {}
    for k in (15, 40, 250):
        fresh = demokit.Runner(demo, "plain")
        _drive(fresh, until=k)
        at[k] = fresh.snapshot()
    for k in (250, 15, 40):
        runner.seek(k)
        assert runner.snapshot() == at[k]


def test_checkpoints_of_plain_data_are_pickled():
    runner = demokit.Runner(WALK, "plain", checkpoint_every=10)
    runner.step(100)
    assert runner._checkpoints and all(p for p, _ in runner._checkpoints.values())


class HalfDone(Walk):
    """``act("jump", arg)`` moves first, then refuses an arg it does not know."""

    def act(self, action: str, arg: str | None) -> None:
        self.position += 100
        if arg != "ok":
            raise ValueError(f"unknown target {arg!r}")


def test_an_input_the_simulation_refused_half_way_replays_the_same_way():
    demo = demokit.Demo(
        **{
            **_fields(WALK),
            "actions": (demokit.Action("jump", "Jump"),),
            "scenarios": (demokit.Scenario("plain", "Plain", "Walks."),),
            "create": lambda params, rng: HalfDone(rng, params["size"]),
        }
    )
    runner = demokit.Runner(demo, checkpoint_every=10)
    runner.step(25)
    with pytest.raises(ValueError, match="unknown target"):
        runner.act("jump", "nowhere")
    assert runner.inputs[-1].raised
    runner.step(30)
    at_55 = runner.snapshot()
    runner.seek(3)
    runner.seek(55)
    assert runner.snapshot() == at_55


def test_an_action_scheduled_at_a_simulated_time_runs_then_and_replays():
    runner = demokit.Runner(WALK, "plain", checkpoint_every=10)
    runner.step(20)
    runner.act_at(75.0, "reset", "later")
    runner.act_at(20.0, "reset", "now")  # due at once, like a cue at the current time
    assert [(m.step, m.detail, m.kind) for m in runner.marks] == [
        (20, "now", "reader"),
        (20, "now", "event"),
    ]
    runner.step(80)
    assert [(m.step, m.time, m.detail) for m in runner.marks if m.kind == "event"] == [
        (20, 20, "now"),
        (75, 75, "later"),
    ]
    at_100 = runner.snapshot()
    runner.seek(5)
    assert runner.marks == []
    runner.seek(100)
    assert runner.snapshot() == at_100 and len(runner.marks) == 4  # 2 fired cues, 2 events
    with pytest.raises(ValueError, match="in the past"):
        runner.act_at(99.0, "reset")
    with pytest.raises(ValueError, match="not a number"):
        runner.act_at(float("nan"), "reset")
    with pytest.raises(ValueError, match="unknown action"):
        runner.act_at(200.0, "jump")


def test_the_timeline_keeps_the_run_reached_and_forking_drops_the_rest():
    runner = demokit.Runner(WALK, "cued", checkpoint_every=25)
    _drive(runner)
    timeline = runner.timeline()
    assert [(t["step"], t["kind"], t["label"]) for t in timeline] == [
        (30, "script", "Reset"),
        (30, "event", "Reset"),
        (37, "reader", "Step: 2.5"),
        (187, "reader", "Reset by hand"),
        (187, "event", "Reset: by hand"),
    ]
    runner.seek(100)
    assert runner.timeline() == timeline and runner.reached == 300
    assert runner.fork() == 200
    assert runner.reached == 100 and [t["step"] for t in runner.timeline()] == [30, 30, 37]
    assert runner.fork() == 0


def test_checkpoints_stay_within_their_budget(monkeypatch):
    """Past the budget every other checkpoint goes and the spacing doubles; seeking
    still rebuilds exactly the step it rebuilt before."""
    monkeypatch.setattr(demokit, "CHECKPOINT_BUDGET", 30_000)
    monkeypatch.setattr(demokit, "CHECKPOINT_SHARE", 1e9)  # every 10th step, however cheap
    runner = demokit.Runner(WALK, "plain", checkpoint_every=10)
    reference = demokit.Runner(WALK, "plain", checkpoint_every=10**9)
    _drive(runner, until=400)
    _drive(reference, until=123)
    assert 0 < runner.checkpoint_bytes <= 30_000
    assert runner.checkpoint_every > 10
    runner.seek(123)
    assert runner.snapshot() == reference.snapshot()


def test_a_link_replays_its_inputs_and_refuses_what_the_demo_cannot_take():
    live = demokit.Runner(WALK, "plain")
    _drive(live, until=250)
    again = demokit.Runner(WALK, "plain")
    assert again.replay(list(live.inputs), 250) == 250
    assert again.snapshot() == live.snapshot()
    for inputs, message in (
        ([demokit.Input(5, "act", "jump")], "unknown action 'jump'"),
        ([demokit.Input(5, "param", "size", 9.0)], "size: 9.0 is not a number from 0.5 to 4"),
        ([demokit.Input(9, "act", "reset"), demokit.Input(5, "act", "reset")], "out of order"),
        ([demokit.Input(5, "dance", "reset")], "unknown kind of input 'dance'"),
    ):
        with pytest.raises(ValueError, match=message):
            demokit.Runner(WALK, "plain").replay(inputs, 100)


def test_the_csv_has_a_row_per_step_or_evenly_spaced_rows():
    runner = demokit.Runner(WALK, "plain")
    runner.step(40)
    lines = runner.series().splitlines()
    assert lines[0] == "step,simulated time,position (m)"
    assert len(lines) == 42 and lines[1] == "0,0,0" and runner.steps == 40
    runner.step(460)
    lines = runner.series(rows=11).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(k) for k in range(0, 501, 50)]


def test_reserved_names_cannot_be_parameters():
    with pytest.raises(ValueError, match="the names embed, scenario, seed, step are taken"):
        demokit.IntParam("step", "Step", 1, 0, 2)


def test_slow_steps_are_checkpointed_between_the_hundreds(monkeypatch):
    """A demo whose steps take long is checkpointed once per RESIM_SECONDS of stepping,
    so a seek re-simulates about that long at most; frames are the same either way."""
    monkeypatch.setattr(demokit, "RESIM_SECONDS", 0.0)  # every step counts as slow
    monkeypatch.setattr(demokit, "RESIM_SHARE", 1e9)
    runner = demokit.Runner(WALK, "cued")
    _drive(runner, until=60)
    assert sorted(runner._checkpoints) == list(range(1, 61))
    reference = demokit.Runner(WALK, "cued", checkpoint_every=10**9)
    _drive(reference, until=45)
    runner.seek(45)
    assert runner.snapshot() == reference.snapshot()


def test_checkpoints_after_slow_steps_may_cost_more_than_the_hundreds(monkeypatch):
    """On a clock where a step and a checkpoint each take one tick: the every-10-steps
    checkpoints wait until they cost at most 10 % of the stepping since the last one (10
    ticks); the ones due after RESIM_SECONDS (5 ticks) may cost 25 %, so come every 5."""
    ticks = itertools.count()
    monkeypatch.setattr(demokit.time, "perf_counter", lambda: next(ticks))
    monkeypatch.setattr(demokit, "RESIM_SECONDS", 10**9)
    hundreds = demokit.Runner(WALK, "plain", checkpoint_every=2)
    hundreds.step(40)
    assert sorted(hundreds._checkpoints) == [2, 12, 22, 32]  # the first costs nothing yet
    monkeypatch.setattr(demokit, "RESIM_SECONDS", 5)
    slow = demokit.Runner(WALK, "plain", checkpoint_every=10**9)
    slow.step(20)
    assert sorted(slow._checkpoints) == [5, 10, 15, 20]

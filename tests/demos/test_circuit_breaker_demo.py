"""The booking-flow simulation, its view and the demo declaration."""

from __future__ import annotations

import ast
import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from demokit import Runner
from demos.circuit_breaker import DEMO, core
from demos.circuit_breaker.breaker import CircuitBreakerConfig

PACKAGE = Path(core.__file__).parent
SVG = "{http://www.w3.org/2000/svg}"


def run(scenario: str | None = None, steps: int = 160, seed: int | None = None, **params):
    runner = Runner(DEMO, scenario, params=params, seed=seed)
    runner.step(steps)
    return runner


def unscripted(steps: int, **params) -> core.BookingSimulation:
    """The breaker scenario's settings, but no scripted outage."""
    settings = {**DEMO.scenario("rating-outage-with-breaker").params, **params}
    sim = DEMO.create(DEMO.resolve(settings), random.Random(DEMO.seed))
    advance(sim, steps)
    return sim


def advance(sim: core.BookingSimulation, steps: int) -> None:
    for _ in range(steps):
        sim.step()


def completed(runner) -> float:
    sim = getattr(runner, "sim", runner)
    return sim.main.share(sim.now)


def without(runner) -> float:
    sim = getattr(runner, "sim", runner)
    return sim.shadow.share(sim.now)


# --- the demo's claims ---------------------------------------------------------------------


def test_before_any_outage_nearly_every_booking_completes():
    runner = run("rating-outage", steps=36)  # 9 s, before the outage at 10 s
    assert completed(runner) >= 0.95 and without(runner) >= 0.95


def test_a_rating_outage_without_a_breaker_blocks_bookings():
    """Grab's story: the rate-your-driver dialog waits on the rating service and the
    passenger cannot book. With fallbacks but no breaker the hanging call still blocks."""
    runner = run("rating-outage")
    assert completed(runner) <= 0.3
    assert without(runner) <= 0.3
    assert runner.sim.main.blocked_by_rating > 100


def test_the_same_outage_with_breakers_and_fallbacks_keeps_bookings_going():
    runner = run("rating-outage-with-breaker")
    assert completed(runner) >= 0.85
    assert without(runner) <= 0.3
    assert runner.sim.breaker_state(core.RATING) in ("OPEN", "HALF_OPEN")
    assert runner.sim.main.stats[core.RATING].rejected > 100


def test_turning_breakers_on_mid_outage_raises_the_completed_share():
    """What the browser test does on the talk page: break rating, then tick the breakers."""
    runner = run(steps=160)
    before = dict(runner.frame().metrics)["Bookings completed"]
    assert runner.set_param("breakers", True)
    runner.step(120)
    after = dict(runner.frame().metrics)["Bookings completed"]
    assert before.endswith(" %") and after.endswith(" %")
    assert int(after[:-2]) >= int(before[:-2]) + 50


def test_a_breaker_without_fallbacks_fails_fast_but_still_blocks():
    """Critical-path analysis matters: rejecting the rating call quickly does not help if
    the app still insists on the rating."""
    runner = run("rating-outage-with-breaker", fallbacks=False)
    assert completed(runner) <= 0.3
    assert runner.sim.main.stats[core.RATING].rejected > 100
    assert runner.sim.main.stats[core.RATING].latency < 0.5  # rejections take no time


def test_a_slow_dependency_is_cut_off_by_the_slow_call_rate():
    runner = run("slow-dependency")
    assert completed(runner) >= 0.85
    assert without(runner) <= 0.4
    assert any("slow-call rate" in line for line in runner.frame().log)


def test_pybreaker_never_opens_on_slowness_and_hystrix_times_out():
    """pybreaker counts only exceptions; Hystrix's 1 s timeout turns slow calls into errors
    and the fallback answers in time."""
    pybreaker = run("slow-dependency", breaker_mode="pybreaker")
    assert pybreaker.sim.breaker_state(core.PROMOTIONS) == "CLOSED"
    assert completed(pybreaker) <= 0.4
    hystrix = run("slow-dependency", breaker_mode="hystrix")
    assert completed(hystrix) >= 0.85


def test_shaky_recovery_flaps_through_half_open():
    runner = run("flapping-half-open", steps=240)
    states = [state for _, state in runner.sim.timelines[core.PAYMENT]]
    assert states.count("HALF_OPEN") >= 3 and states.count("CLOSED") >= 2
    assert completed(runner) >= 0.9  # riders pay cash


def test_a_critical_dependency_fails_bookings_even_with_a_breaker():
    """Dispatch has no fallback: a breaker only makes the failure fast."""
    sim = unscripted(40)
    sim.act("break", "dispatch")
    advance(sim, 120)
    assert completed(sim) <= 0.1
    assert sim.breaker_state(core.DISPATCH) in ("OPEN", "HALF_OPEN")


def test_geofence_data_is_served_from_the_cache():
    sim = unscripted(124, geofence_failure_rate=100.0)
    assert sim.main.stats[core.GEOFENCE].fallback > 100
    assert completed(sim) >= 0.85
    assert without(sim) == 0.0


# --- live controls and actions -----------------------------------------------------------------


def test_live_failure_rate_and_latency_apply_mid_run():
    sim = unscripted(20)
    assert DEMO.param("promotions_failure_rate").live and DEMO.param("dispatch_latency_ms").live
    sim.set_param("promotions_failure_rate", 100.0)
    sim.set_param("dispatch_latency_ms", 1000)
    advance(sim, 40)
    assert sim.main.stats[core.PROMOTIONS].failed > 0
    assert sim.main.stats[core.DISPATCH].latency > 0.6


def test_heal_restores_a_dependency():
    runner = run("rating-outage-with-breaker", steps=160)
    runner.act("heal", "rating")
    runner.step(160)
    assert runner.sim.breaker_state(core.RATING) == "CLOSED"
    assert completed(runner) >= 0.95


def test_turning_breakers_off_forgets_the_old_breakers():
    """Calls still out when the breakers are switched off must not move the timeline."""
    runner = run("rating-outage-with-breaker", steps=56)  # 14 s: timeouts still to come
    runner.set_param("breakers", False)
    runner.step(80)
    assert [state for _, state in runner.sim.timelines[core.RATING]][-1] == core.NO_BREAKER
    assert runner.sim.breaker_state(core.RATING) == core.NO_BREAKER
    assert not any("→" in line for line in runner.frame().log)


def test_breaker_settings_restart_the_run():
    """Breaker options are not live: resilience4j configs are immutable."""
    runner = run(steps=4)
    assert runner.set_param("sliding_window_size", 30) is False
    assert runner.set_param("fallbacks", False) is True


@pytest.mark.parametrize(("action", "arg"), [("explode", "rating"), ("break", "billing")])
def test_unknown_actions_and_dependencies_are_refused(action, arg):
    runner = run(steps=1)
    with pytest.raises(ValueError):
        runner.sim.act(action, arg)


def test_breaker_config_comes_from_the_parameters():
    runner = run("slow-dependency", steps=0)
    config = runner.sim.breaker_config()
    assert config.slow_call_rate_threshold == 50.0
    assert config.sliding_window_size == 20 and config.wait_duration_in_open_state == 5.0


def test_the_breaker_controls_default_to_resilience4js_defaults():
    """Only the scenarios shrink the settings; the controls start where resilience4j does."""
    defaults = CircuitBreakerConfig()
    for name in (
        "failure_rate_threshold",
        "slow_call_rate_threshold",
        "slow_call_duration_threshold",
        "sliding_window_type",
        "sliding_window_size",
        "minimum_number_of_calls",
        "wait_duration_in_open_state",
        "permitted_number_of_calls_in_half_open_state",
    ):
        assert DEMO.param(name).default == getattr(defaults, name), name


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_run():
    first, second = run("flapping-half-open", steps=200), run("flapping-half-open", steps=200)
    assert first.snapshot() == second.snapshot()
    assert first.sim.timelines == second.sim.timelines


def test_another_seed_another_run():
    first, second = run(steps=120, seed=1), run(steps=120, seed=2)
    assert first.snapshot()["svg"] != second.snapshot()["svg"]


def test_both_flows_see_the_same_bookings():
    runner = run(steps=120)
    assert runner.sim.main.started == runner.sim.shadow.started


def test_the_core_uses_no_wall_clock_global_random_or_browser_modules():
    """Determinism by construction (STYLE.md): stdlib only, simulated time, one rng."""
    banned = {"time", "datetime", "js", "pyodide", "mkdocs", "secrets", "os"}
    for name in ("core.py", "breaker.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned, name
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] not in banned | {"random"}, name
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "random"
            ):
                # random.Random is allowed as a type; module-level draws are not.
                assert node.attr == "Random", f"{name}: random.{node.attr}"


# --- scenarios, frames and the declaration ------------------------------------------------------


@pytest.mark.parametrize("scenario", [s.name for s in DEMO.scenarios])
def test_each_scenario_previews_as_well_formed_svg(scenario):
    runner = Runner(DEMO, scenario)
    runner.step(DEMO.scenario(scenario).preview_steps)
    snap = runner.snapshot()
    svg = snap["svg"]
    assert svg and len(svg) < 30_000
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 420"
    assert root.find(f"{SVG}title").text
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject")
        assert "id" not in element.attrib
        assert not any(key.startswith("on") for key in element.attrib)
    for text in root.iter(f"{SVG}text"):
        assert text.get("fill") in (None, "currentColor")
    metrics = dict(snap["metrics"])
    assert metrics["Bookings completed"].endswith(" %")
    assert float(metrics["Bookings completed"][:-2]) >= 0
    assert snap["status"] and all(len(line) <= 200 for line in snap["log"])
    json.dumps(snap)


def test_the_first_frame_renders_before_any_booking_finishes():
    runner = Runner(DEMO)
    frame = runner.frame()
    ET.fromstring(frame.svg)
    assert dict(frame.metrics)["Bookings completed"] == "—"


def test_state_transitions_are_logged_in_words():
    runner = run("rating-outage-with-breaker")
    log = runner.frame().log
    assert any("rating: CLOSED → OPEN (failure rate" in line and "≥ 50 %" in line for line in log)


def test_the_declaration_describes_itself():
    described = DEMO.describe()
    json.dumps(described)
    assert described["talk"] == "srecon19apac/critical-path-analysis"
    assert [s["name"] for s in described["scenarios"]] == [
        "rating-outage",
        "rating-outage-with-breaker",
        "slow-dependency",
        "flapping-half-open",
    ]
    assert {a.name for a in DEMO.actions} == {
        "break",
        "slow",
        "heal",
        # The operator's actions on a resilience4j breaker (test_circuit_breaker_operator.py).
        "force_open",
        "disable",
        "metrics_only",
        "reset",
    }


def test_a_long_run_stays_bounded():
    runner = Runner(DEMO, "flapping-half-open")
    runner.step(2000)
    assert all(len(timeline) < 200 for timeline in runner.sim.timelines)
    assert len(runner.frame().svg) < 30_000


def test_the_run_ends():
    sim = DEMO.create(DEMO.resolve({"bookings_per_second": 1.0}), random.Random(1))
    while not sim.done:
        sim.step()
    assert sim.now == core.MAX_TIME

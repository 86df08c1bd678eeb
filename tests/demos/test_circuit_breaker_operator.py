"""The operator's hands on the booking flow's breakers, as in an incident.

resilience4j's ``CircuitBreaker`` offers ``transitionToForcedOpenState()`` (reject every
call until told otherwise), ``transitionToDisabledState()`` (pass every call, record
nothing), ``transitionToMetricsOnlyState()`` (pass every call, keep metrics, never trip)
and ``reset()`` (a fresh CLOSED breaker); see resilience4j-circuitbreaker's
``CircuitBreaker`` and ``CircuitBreakerStateMachine``. The demo reaches them as actions.
"""

from __future__ import annotations

from demokit import Runner
from demos.circuit_breaker import DEMO
from demos.circuit_breaker.breaker import CLOSED, DISABLED, FORCED_OPEN, METRICS_ONLY, OPEN
from demos.circuit_breaker.core import PAYMENT, RATING


def outage(**params) -> Runner:
    """The rating outage with breakers, run until the rating breaker has opened."""
    runner = Runner(DEMO, "rating-outage-with-breaker", params=params)
    runner.step(160)
    return runner


def test_force_open_rejects_every_call_until_reset():
    runner = Runner(DEMO, "rating-outage-with-breaker")
    runner.step(20)
    assert runner.sim.breaker_state(PAYMENT) == CLOSED
    runner.act("force_open", "payment")
    assert runner.sim.breaker_state(PAYMENT) == FORCED_OPEN
    rejected = runner.sim.main.stats[PAYMENT].rejected
    passed = runner.sim.main.stats[PAYMENT].passed
    runner.step(200)  # well past wait_duration_in_open_state: FORCED_OPEN never half-opens
    assert runner.sim.breaker_state(PAYMENT) == FORCED_OPEN
    assert runner.sim.main.stats[PAYMENT].passed == passed
    assert runner.sim.main.stats[PAYMENT].rejected > rejected
    assert [m.name for m in runner.marks if "payment" in m.detail] == ["forced_open"]
    runner.act("reset", "payment")
    assert runner.sim.breaker_state(PAYMENT) == CLOSED
    runner.step(20)
    assert runner.sim.main.stats[PAYMENT].passed > passed
    assert any("payment: FORCED_OPEN → CLOSED (reset())" in line for line in runner.frame().log)


def test_disable_passes_every_call_through_the_outage():
    runner = outage()
    assert runner.sim.breaker_state(RATING) in (OPEN, "HALF_OPEN")
    runner.act("disable", "rating")
    assert runner.sim.breaker_state(RATING) == DISABLED
    rejected = runner.sim.main.stats[RATING].rejected
    runner.step(200)
    assert runner.sim.breaker_state(RATING) == DISABLED
    assert runner.sim.main.stats[RATING].rejected == rejected  # nothing is rejected


def test_metrics_only_keeps_counting_but_never_trips():
    runner = outage()
    runner.act("metrics_only", "rating")
    runner.step(200)
    breaker = runner.sim.main.breakers[RATING]
    assert runner.sim.breaker_state(RATING) == METRICS_ONLY
    metrics = breaker.metrics
    assert metrics.number_of_failed_calls > 0 and metrics.failure_rate > 50


def test_without_breakers_or_with_a_contrast_breaker_the_operator_is_told_why():
    off = Runner(DEMO, "rating-outage")
    off.act("force_open", "rating")
    assert off.frame().log[-1].endswith("rating has no breaker: turn circuit breakers on first")
    pybreaker = Runner(DEMO, "rating-outage-with-breaker", params={"breaker_mode": "pybreaker"})
    pybreaker.act("disable", "rating")
    assert (
        pybreaker.frame()
        .log[-1]
        .endswith("rating: only resilience4j's breaker takes operator actions")
    )
    assert pybreaker.sim.breaker_state(RATING) == CLOSED


def test_operator_actions_are_recorded_and_replayed_by_seeking():
    runner = Runner(DEMO, "rating-outage-with-breaker")
    runner.step(30)
    runner.act("force_open", "dispatch")
    runner.step(30)
    at_60 = runner.snapshot()
    runner.step(100)
    runner.seek(60)
    assert runner.snapshot() == at_60
    assert runner.sim.breaker_state(0) == FORCED_OPEN

"""Circuit breakers on the critical path: a booking flow based on Grab's talk, with
resilience4j's breaker.

From "Critical Path Analysis – Prioritizing What Matters" (Althaf Hameez, Grab, SREcon19
Asia/Pacific). ``breaker.py`` is a standalone resilience4j-faithful circuit breaker;
``core.py`` simulates the booking flow; ``view.py`` draws it.
"""

from __future__ import annotations

from demokit import (
    Action,
    BoolParam,
    ChoiceParam,
    Cue,
    Demo,
    FloatParam,
    IntParam,
    Notable,
    Scenario,
)

from . import view
from .core import DEPENDENCIES, create

_DEPENDENCY_OPTIONS = tuple((dep.name, dep.label) for dep in DEPENDENCIES)


def _dependency_params() -> tuple:
    """A live failure-rate and latency control per dependency."""
    params: list = []
    for dep in DEPENDENCIES:
        params += [
            FloatParam(
                name=f"{dep.name}_failure_rate",
                label=f"{dep.label}: failure rate",
                default=0.0, min=0.0, max=100.0, step=1.0, unit="%", live=True,
            ),
            IntParam(
                name=f"{dep.name}_latency_ms",
                label=f"{dep.label}: latency",
                default=dep.latency_ms, min=10, max=4000, step=10, unit="ms", live=True,
            ),
        ]  # fmt: skip
    return tuple(params)


# Breaker controls default to resilience4j's own defaults; the scenarios use smaller,
# demo-friendly values so that things happen within a minute.
PARAMS = (
    BoolParam("breakers", "Circuit breakers", False, live=True),
    BoolParam("fallbacks", "Fallbacks (cache, skip, pay cash)", True, live=True),
    ChoiceParam(
        "breaker_mode",
        "Breaker",
        "resilience4j",
        (
            ("resilience4j", "resilience4j (settings below)"),
            ("pybreaker", "pybreaker: 5 consecutive failures, 60 s"),
            ("hystrix", "Hystrix: 20 calls, 50 %, 5 s, 1 s timeout"),
        ),
    ),
    FloatParam("failure_rate_threshold", "failure_rate_threshold", 50.0, 1.0, 100.0, 1.0, "%"),
    FloatParam("slow_call_rate_threshold", "slow_call_rate_threshold", 100.0, 1.0, 100.0, 1.0, "%"),
    FloatParam(
        "slow_call_duration_threshold", "slow_call_duration_threshold", 60.0, 0.1, 60.0, 0.1, "s"
    ),
    ChoiceParam(
        "sliding_window_type",
        "sliding_window_type",
        "COUNT_BASED",
        (("COUNT_BASED", "count-based (last N calls)"), ("TIME_BASED", "time-based (last N s)")),
    ),
    IntParam("sliding_window_size", "sliding_window_size", 100, 1, 200),
    IntParam("minimum_number_of_calls", "minimum_number_of_calls", 100, 1, 200),
    FloatParam(
        "wait_duration_in_open_state", "wait_duration_in_open_state", 60.0, 1.0, 120.0, 1.0, "s"
    ),
    IntParam(
        "permitted_number_of_calls_in_half_open_state",
        "permitted_number_of_calls_in_half_open_state",
        10,
        1,
        50,
    ),
    FloatParam("bookings_per_second", "Bookings per second", 10.0, 1.0, 40.0, 1.0, live=True),
) + _dependency_params()

# What every scenario shares: small windows and a short wait.
_DEMO_BREAKER = {
    "failure_rate_threshold": 50.0,
    "slow_call_duration_threshold": 2.0,
    "sliding_window_size": 20,
    "minimum_number_of_calls": 10,
    "wait_duration_in_open_state": 5.0,
    "permitted_number_of_calls_in_half_open_state": 5,
}

SCENARIOS = (
    Scenario(
        name="rating-outage",
        title="A rating outage blocks bookings",
        caption=(
            "At 10 s the rating service stops answering. A returning passenger's next booking "
            "starts by sending the last ride's rating; the call waits for the app's 5 s "
            "timeout, but the passenger gives up after 3 s, so the rate-your-driver dialog "
            "blocks the booking. The app would skip the rating on an error, but no error "
            "comes in time. Turn on circuit breakers and watch the completed share recover."
        ),
        params={"breakers": False, "fallbacks": True, **_DEMO_BREAKER},
        script=(Cue(10.0, "break", "rating"),),
        preview_steps=160,
        record_steps=240,  # a minute: the outage, the breaker and the recovery
    ),
    Scenario(
        name="rating-outage-with-breaker",
        title="The same outage with a breaker",
        caption=(
            "The same outage with resilience4j breakers. The first rating calls still hang, "
            "but once ten of them have timed out the rating breaker opens, later calls are "
            "rejected at once and the fallback skips the dialog. Every 5 s the breaker lets "
            "five trial calls through (HALF_OPEN); they fail and it opens again. The grey "
            "line is the same flow without breakers and fallbacks."
        ),
        params={"breakers": True, "fallbacks": True, **_DEMO_BREAKER},
        script=(Cue(10.0, "break", "rating"),),
        preview_steps=160,
        record_steps=240,  # a minute: the outage, the breaker and the recovery
    ),
    Scenario(
        name="slow-dependency",
        title="A slow dependency",
        caption=(
            "At 10 s promotions slows to about 3 s per call. Nothing fails, yet bookings "
            "take longer than passengers wait. With slow_call_duration_threshold at 2 s the "
            "breaker counts slow calls and opens when half of them are slow; promotions are "
            "then skipped and bookings are fast again. Try pybreaker: it only counts "
            "failures and never opens; Hystrix's 1 s timeout turns slow calls into errors."
        ),
        params={
            "breakers": True,
            "fallbacks": True,
            **_DEMO_BREAKER,
            "slow_call_rate_threshold": 50.0,
        },
        script=(Cue(10.0, "slow", "promotions"),),
        preview_steps=160,
        record_steps=240,  # a minute: the outage, the breaker and the recovery
    ),
    Scenario(
        name="flapping-half-open",
        title="Flapping recovery in HALF_OPEN",
        caption=(
            "Cashless payment is down from 5 s to 20 s and comes back shaky: 45 % of its "
            "calls still fail, just under the 50 % threshold. Five trial calls in HALF_OPEN "
            "are a small sample, so the breaker flaps between OPEN, HALF_OPEN and CLOSED. "
            "Fallbacks keep bookings going (riders pay cash). Raise "
            "permitted_number_of_calls_in_half_open_state and sliding_window_size to steady it."
        ),
        params={"breakers": True, "fallbacks": True, **_DEMO_BREAKER, "payment_failure_rate": 45.0},
        script=(Cue(5.0, "break", "payment"), Cue(20.0, "heal", "payment")),
        preview_steps=240,
        record_steps=240,
    ),
)

DEMO = Demo(
    name="circuit_breaker",
    title="Circuit breakers on the critical path",
    summary=(
        "A simplified booking flow, based on Grab's talk, with dependencies on and off the "
        "critical path: break one and see how resilience4j's circuit breaker and a fallback "
        "keep bookings going."
    ),
    talk="srecon19apac/critical-path-analysis",
    params=PARAMS,
    actions=(
        Action("break", "Break (no answer)", _DEPENDENCY_OPTIONS),
        Action("slow", "Slow down", _DEPENDENCY_OPTIONS),
        Action("heal", "Heal", _DEPENDENCY_OPTIONS),
        # An operator's hands on a resilience4j breaker during an incident.
        Action("force_open", "Force breaker open", _DEPENDENCY_OPTIONS),
        Action("disable", "Disable breaker (pass all, record nothing)", _DEPENDENCY_OPTIONS),
        Action("metrics_only", "Breaker: metrics only (never trips)", _DEPENDENCY_OPTIONS),
        Action("reset", "Reset breaker", _DEPENDENCY_OPTIONS),
    ),
    scenarios=SCENARIOS,
    create=create,
    render=view.render,
    seed=7,
    steps_per_second=12.0,
    step_label="250 ms",
    time_unit="s",
    version=1,
    notable=(
        Notable("breaker_opened", "a breaker opened"),
        Notable("breaker_closed", "a breaker closed again"),
        Notable("forced_open", "an operator forced a breaker open"),
    ),
)

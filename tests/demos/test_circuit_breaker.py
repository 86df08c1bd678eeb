"""The circuit breaker against resilience4j's published semantics.

Sources (resilience4j/resilience4j on GitHub):
- R4J_CONFIG: resilience4j-circuitbreaker/.../circuitbreaker/CircuitBreakerConfig.java
- R4J_SM: resilience4j-circuitbreaker/.../circuitbreaker/internal/CircuitBreakerStateMachine.java
- R4J_METRICS: resilience4j-circuitbreaker/.../circuitbreaker/internal/CircuitBreakerMetrics.java
- R4J_CB: resilience4j-circuitbreaker/.../circuitbreaker/CircuitBreaker.java
  (State, StateTransition)
- R4J_COUNT: resilience4j-core/.../core/metrics/FixedSizeSlidingWindowMetrics.java
- R4J_TIME: resilience4j-core/.../core/metrics/SlidingTimeWindowMetrics.java
- R4J_SNAPSHOT: resilience4j-core/.../core/metrics/SnapshotImpl.java
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.circuit_breaker.breaker import (
    CLOSED,
    DISABLED,
    FORCED_OPEN,
    HALF_OPEN,
    METRICS_ONLY,
    OPEN,
    TIME_BASED,
    CallNotPermitted,
    CircuitBreaker,
    CircuitBreakerConfig,
    IllegalStateTransition,
)


class Clock:
    """A hand-moved clock in seconds."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(clock: Clock | None = None, **options) -> tuple[CircuitBreaker, Clock, list]:
    clock = clock or Clock()
    events: list = []
    breaker = CircuitBreaker(
        CircuitBreakerConfig(**options), clock, name="dep", on_transition=events.append
    )
    return breaker, clock, events


def fail(breaker: CircuitBreaker, duration: float = 0.1) -> None:
    assert breaker.try_acquire_permission()
    breaker.on_error(duration, ConnectionError("boom"))


def succeed(breaker: CircuitBreaker, duration: float = 0.1) -> None:
    assert breaker.try_acquire_permission()
    breaker.on_success(duration)


def trace(events: list) -> list[tuple[str, str, float]]:
    return [(e.from_state, e.to_state, e.at) for e in events]


def trip(breaker: CircuitBreaker, clock: Clock, at: float = 0.0) -> None:
    """Open a breaker whose window and minimum are 2, at time ``at``."""
    clock.t = at
    fail(breaker)
    fail(breaker)
    assert breaker.state == OPEN


# --- configuration ------------------------------------------------------------------------


def test_defaults_are_resilience4js():
    """R4J_CONFIG: DEFAULT_FAILURE_RATE_THRESHOLD 50, DEFAULT_SLOW_CALL_RATE_THRESHOLD 100,
    DEFAULT_SLOW_CALL_DURATION_THRESHOLD 60 s, DEFAULT_WAIT_DURATION_IN_OPEN_STATE 60 s,
    DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE 10, DEFAULT_MINIMUM_NUMBER_OF_CALLS 100,
    DEFAULT_SLIDING_WINDOW_SIZE 100, COUNT_BASED, automatic transition off,
    DEFAULT_WAIT_DURATION_IN_HALF_OPEN_STATE 0, DEFAULT_TRANSITION_TO_STATE_AFTER_WAIT_DURATION
    OPEN, record every exception, ignore none."""
    config = CircuitBreakerConfig()
    assert (
        config.failure_rate_threshold,
        config.slow_call_rate_threshold,
        config.slow_call_duration_threshold,
        config.wait_duration_in_open_state,
        config.permitted_number_of_calls_in_half_open_state,
        config.minimum_number_of_calls,
        config.sliding_window_size,
        config.sliding_window_type,
        config.automatic_transition_from_open_to_half_open_enabled,
        config.max_wait_duration_in_half_open_state,
        config.transition_to_state_after_wait_duration,
    ) == (50.0, 100.0, 60.0, 60.0, 10, 100, 100, "COUNT_BASED", False, 0.0, "OPEN")
    assert config.records(ValueError()) and not config.ignores(ValueError())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"failure_rate_threshold": 0}, "failure_rate_threshold must be greater than 0"),
        ({"failure_rate_threshold": 100.5}, "failure_rate_threshold must be greater than 0"),
        ({"slow_call_rate_threshold": 0}, "slow_call_rate_threshold must be greater than 0"),
        ({"slow_call_duration_threshold": 0}, "slow_call_duration_threshold must be at least"),
        ({"wait_duration_in_open_state": 0.0009}, "wait_duration_in_open_state must be at least"),
        ({"permitted_number_of_calls_in_half_open_state": 0}, "permitted_number_of_calls"),
        ({"max_wait_duration_in_half_open_state": -1}, "max_wait_duration_in_half_open_state"),
        ({"transition_to_state_after_wait_duration": HALF_OPEN}, "must be OPEN or CLOSED"),
        ({"sliding_window_type": "SLIDING"}, "sliding_window_type must be"),
        ({"sliding_window_size": 0}, "sliding_window_size must be greater than 0"),
        ({"minimum_number_of_calls": 0}, "minimum_number_of_calls must be greater than 0"),
    ],
)
def test_invalid_configuration_is_refused(options, message):
    """R4J_CONFIG Builder: each setter throws IllegalArgumentException for these values
    (thresholds in (0, 100], wait >= 1 ms, slow duration >= 1 ns, permits/size/minimum >= 1,
    max wait in HALF_OPEN >= 0, transitionToStateAfterWaitDuration OPEN or CLOSED)."""
    with pytest.raises(ValueError, match=message):
        CircuitBreakerConfig(**options)


def test_a_clock_is_required():
    """The breaker is driven by an injected clock (resilience4j takes a java.time.Clock)."""
    with pytest.raises(TypeError):
        CircuitBreaker(CircuitBreakerConfig())


# --- the spec's example cases ---------------------------------------------------------------


def test_defaults_99_failures_stay_closed_and_the_100th_call_opens():
    """Spec example. R4J_METRICS getFailureRate: below minimumNumberOfCalls (100) the rate
    is -1; R4J_SNAPSHOT getFailureRate = failed * 100 / total, so 99 of 100 is 99 %, and
    R4J_SM ClosedState.checkIfThresholdsExceeded opens on the 100th call, a success."""
    breaker, clock, events = make()
    for _ in range(99):
        fail(breaker)
    assert breaker.state == CLOSED
    assert breaker.metrics.failure_rate == -1
    assert breaker.metrics.number_of_buffered_calls == 99
    succeed(breaker)
    assert breaker.state == OPEN
    assert breaker.metrics.failure_rate == 99.0
    assert trace(events) == [(CLOSED, OPEN, 0.0)]
    assert events[0].reason == "failure rate 99 % ≥ 50 %"


def test_window_10_five_failures_and_five_successes_open_at_call_10():
    """Spec example. R4J_METRICS checkIfThresholdsExceeded: failureRate >= threshold
    (50 % >= 50 %) opens, evaluated after every recorded call."""
    breaker, _, _ = make(sliding_window_size=10, minimum_number_of_calls=10)
    states = []
    for failed in [True] * 5 + [False] * 5:
        (fail if failed else succeed)(breaker)
        states.append(breaker.state)
    assert states == [CLOSED] * 9 + [OPEN]


def test_window_10_four_failures_and_six_successes_stay_closed():
    """Spec example. R4J_METRICS: 40 % < 50 % is BELOW_THRESHOLDS."""
    breaker, _, _ = make(sliding_window_size=10, minimum_number_of_calls=10)
    for failed in [True] * 4 + [False] * 6:
        (fail if failed else succeed)(breaker)
    assert breaker.state == CLOSED
    assert breaker.metrics.failure_rate == 40.0


def test_window_10_with_minimum_100_uses_an_effective_minimum_of_10():
    """Spec example. R4J_METRICS constructor: for COUNT_BASED windows
    minimumNumberOfCalls = min(minimumNumberOfCalls, slidingWindowSize)."""
    breaker, _, _ = make(sliding_window_size=10, minimum_number_of_calls=100)
    states = []
    for _ in range(10):
        fail(breaker)
        states.append(breaker.state)
    assert states == [CLOSED] * 9 + [OPEN]
    assert breaker.config.minimum_number_of_calls == 100  # the cap lives in the metrics


def test_half_open_with_defaults_rejects_the_11th_concurrent_call():
    """Spec example. R4J_SM HalfOpenState.tryAcquirePermission hands out
    permittedNumberOfCallsInHalfOpenState (10) permits and counts the rest as not permitted."""
    breaker, clock, _ = make()
    breaker.transition_to_open_state()
    clock.t = 60.001
    granted = [breaker.try_acquire_permission() for _ in range(11)]
    assert granted == [True] * 10 + [False]
    assert breaker.state == HALF_OPEN
    assert breaker.metrics.number_of_not_permitted_calls == 1


# --- CLOSED: windows, rates and thresholds ------------------------------------------------


def test_rates_are_minus_one_below_the_minimum_and_nothing_changes():
    """R4J_METRICS getFailureRate/getSlowCallRate return -1 while bufferedCalls < minimum,
    and checkIfThresholdsExceeded returns BELOW_MINIMUM_CALLS_THRESHOLD."""
    breaker, _, events = make(sliding_window_size=20, minimum_number_of_calls=5)
    for _ in range(4):
        fail(breaker, duration=100.0)
    metrics = breaker.metrics
    assert (metrics.failure_rate, metrics.slow_call_rate) == (-1, -1)
    assert metrics.number_of_failed_calls == 4 and metrics.number_of_slow_calls == 4
    assert breaker.state == CLOSED and events == []
    fail(breaker)
    assert breaker.state == OPEN


def test_failure_rate_just_below_the_threshold_stays_closed():
    """R4J_METRICS: the comparison is failureRate >= threshold. With a 41 % threshold and
    a window of 5, two failures (40 %) never open; the third failure in the window does."""
    breaker, _, _ = make(
        sliding_window_size=5, minimum_number_of_calls=5, failure_rate_threshold=41
    )
    states, rates = [], []
    for failed in (True, True, False, False, False, True, True, True):
        (fail if failed else succeed)(breaker)
        states.append(breaker.state)
        rates.append(breaker.metrics.failure_rate)
    assert rates == [-1, -1, -1, -1, 40.0, 40.0, 40.0, 60.0]
    assert states == [CLOSED] * 7 + [OPEN]


def test_rates_compare_as_java_floats():
    """R4J_SNAPSHOT computes failed * 100.0f / total as a float and R4J_CONFIG stores
    failureRateThreshold as a float: 2 of 3 calls (66.666664f) meets a threshold of
    66.6666675 (also 66.666664f as a float), although 66.666...67 < 66.6666675 in double
    precision."""
    breaker, _, _ = make(
        sliding_window_size=3, minimum_number_of_calls=3, failure_rate_threshold=66.6666675
    )
    fail(breaker)
    fail(breaker)
    succeed(breaker)
    assert breaker.state == OPEN


def test_count_window_subtracts_the_outcome_that_leaves():
    """R4J_COUNT moveWindowByOne: the measurement at the new head is removed from the
    total aggregation before the new outcome is recorded (subtract-on-evict)."""
    breaker, _, _ = make(
        sliding_window_size=4, minimum_number_of_calls=4, failure_rate_threshold=80
    )
    seen = []
    for failed in (True, True, False, False, False, False, True):
        (fail if failed else succeed)(breaker)
        metrics = breaker.metrics
        seen.append((metrics.number_of_buffered_calls, metrics.number_of_failed_calls))
    assert seen == [(1, 1), (2, 2), (3, 2), (4, 2), (4, 1), (4, 0), (4, 1)]
    assert breaker.state == CLOSED


def test_a_call_is_slow_only_when_strictly_longer_than_the_threshold():
    """R4J_METRICS onSuccess/onError: SLOW_* only if duration > slowCallDurationThreshold
    (nanoseconds). Exactly 2 s is not slow; 2 s + 1 ns is."""
    breaker, _, _ = make(
        sliding_window_size=2, minimum_number_of_calls=2, slow_call_duration_threshold=2.0
    )
    succeed(breaker, duration=2.0)
    succeed(breaker, duration=2.0)
    assert breaker.metrics.number_of_slow_calls == 0
    assert breaker.state == CLOSED
    succeed(breaker, duration=2.000000001)
    assert breaker.metrics.slow_call_rate == 50.0
    succeed(breaker, duration=2.000000001)
    assert breaker.state == OPEN  # 100 % slow >= the default 100 %


def test_slow_call_rate_alone_opens_and_names_the_reason():
    """R4J_METRICS: SLOW_CALL_RATE_ABOVE_THRESHOLDS when only the slow-call rate is at or
    above slowCallRateThreshold; R4J_SM ClosedState then transitions to OPEN."""
    breaker, _, events = make(
        sliding_window_size=4,
        minimum_number_of_calls=4,
        slow_call_duration_threshold=1.0,
        slow_call_rate_threshold=50,
    )
    for duration in (0.1, 3.0, 0.1, 3.0):
        succeed(breaker, duration=duration)
    assert breaker.state == OPEN
    assert events[0].reason == "slow-call rate 50 % ≥ 50 %"
    assert breaker.metrics.failure_rate == 0.0


def test_slow_failures_count_as_failed_and_as_slow():
    """R4J_METRICS onError records SLOW_ERROR; R4J_SNAPSHOT counts it in both the failed
    and the slow totals (getNumberOfSlowFailedCalls)."""
    breaker, _, events = make(
        sliding_window_size=2, minimum_number_of_calls=2, slow_call_duration_threshold=1.0
    )
    fail(breaker, duration=5.0)
    succeed(breaker, duration=0.5)
    metrics = breaker.metrics
    assert (metrics.number_of_failed_calls, metrics.number_of_slow_calls) == (1, 1)
    assert (metrics.number_of_slow_failed_calls, metrics.number_of_slow_successful_calls) == (1, 0)
    assert breaker.state == OPEN  # failure rate 50 % >= 50 %
    assert events[0].reason == "failure rate 50 % ≥ 50 %"


def test_both_thresholds_exceeded_are_both_reported():
    """R4J_METRICS: ABOVE_THRESHOLDS when both rates are at or above their thresholds."""
    breaker, _, events = make(
        sliding_window_size=2, minimum_number_of_calls=2, slow_call_duration_threshold=1.0
    )
    fail(breaker, duration=5.0)
    fail(breaker, duration=5.0)
    assert events[0].reason == "failure rate 100 % ≥ 50 %, slow-call rate 100 % ≥ 100 %"


# --- time-based windows -----------------------------------------------------------------------


def test_time_window_buckets_expire_on_whole_seconds():
    """R4J_TIME moveWindowToCurrentEpochSecond: one bucket per epoch second; a bucket's
    totals are removed when the clock reaches its second + window size."""
    breaker, clock, _ = make(
        sliding_window_type=TIME_BASED, sliding_window_size=10, minimum_number_of_calls=50
    )
    clock.t = 0.5
    for _ in range(3):
        fail(breaker)
    clock.t = 5.2
    succeed(breaker)
    succeed(breaker)
    clock.t = 9.999
    assert breaker.metrics.number_of_buffered_calls == 5
    clock.t = 10.0  # second 0 leaves the window [1, 10]
    assert breaker.metrics.number_of_buffered_calls == 2
    assert breaker.metrics.number_of_failed_calls == 0
    clock.t = 14.999
    assert breaker.metrics.number_of_buffered_calls == 2
    clock.t = 15.0
    assert breaker.metrics.number_of_buffered_calls == 0
    clock.t = 100.0
    assert breaker.metrics.number_of_buffered_calls == 0


def test_time_window_trips_only_on_calls_inside_the_window():
    """R4J_TIME + R4J_METRICS: 4 failures one second apart fill a 10 s window and open it;
    the same failures 5 s apart never share a 5 s window, so the breaker stays CLOSED."""
    breaker, clock, events = make(
        sliding_window_type=TIME_BASED, sliding_window_size=10, minimum_number_of_calls=4
    )
    for t in (0.0, 1.0, 2.0, 3.0):
        clock.t = t
        fail(breaker)
    assert trace(events) == [(CLOSED, OPEN, 3.0)]

    breaker, clock, events = make(
        sliding_window_type=TIME_BASED, sliding_window_size=5, minimum_number_of_calls=2
    )
    for t in (0.0, 5.0, 10.0, 15.0):
        clock.t = t
        fail(breaker)
    assert breaker.state == CLOSED and breaker.metrics.number_of_buffered_calls == 1


def test_time_window_minimum_is_not_capped_by_the_window_size():
    """R4J_METRICS: only COUNT_BASED windows cap minimumNumberOfCalls at the window size; a
    2 s TIME_BASED window with minimum 5 needs 5 calls within 2 s."""
    breaker, clock, _ = make(
        sliding_window_type=TIME_BASED, sliding_window_size=2, minimum_number_of_calls=5
    )
    for k in range(4):
        clock.t = 0.1 * k
        fail(breaker)
    assert breaker.state == CLOSED and breaker.metrics.failure_rate == -1
    fail(breaker)
    assert breaker.state == OPEN


def second(t: float) -> int:
    """The clock's whole second, after the breaker's rounding to nanoseconds."""
    return round(t * 1e9) // 1_000_000_000


def brute_force(outcomes, size, now=None):
    """Totals of the outcomes a window of ``size`` holds (last calls, or last seconds)."""
    if now is None:
        kept = outcomes[-size:]
    else:
        kept = [o for o in outcomes if second(o[2]) > second(now) - size]
    return (len(kept), sum(o[0] for o in kept), sum(o[1] for o in kept))


outcome = st.tuples(st.booleans(), st.booleans())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.lists(outcome, max_size=40))
def test_count_window_matches_a_brute_force_count(size, calls):
    """R4J_COUNT: the window always aggregates exactly the last N outcomes (METRICS_ONLY
    keeps recording without changing state, R4J_SM MetricsOnlyState)."""
    breaker, _, _ = make(sliding_window_size=size, slow_call_duration_threshold=1.0)
    breaker.transition_to_metrics_only_state()
    seen = []
    for failed, slow in calls:
        duration = 2.0 if slow else 0.5
        (fail if failed else succeed)(breaker, duration)
        seen.append((failed, slow, 0))
        metrics = breaker.metrics
        got = (metrics.number_of_buffered_calls, metrics.number_of_failed_calls)
        expected = brute_force(seen, size)
        assert got + (metrics.number_of_slow_calls,) == expected
    assert breaker.state == METRICS_ONLY


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 3)), max_size=30),
)
def test_time_window_matches_a_brute_force_count(size, calls):
    """R4J_TIME: the window aggregates exactly the calls of the last N epoch seconds."""
    breaker, clock, _ = make(
        sliding_window_type=TIME_BASED, sliding_window_size=size, slow_call_duration_threshold=1.0
    )
    breaker.transition_to_metrics_only_state()
    seen = []
    for failed, slow, gap in calls:
        clock.t += gap
        (fail if failed else succeed)(breaker, 2.0 if slow else 0.5)
        seen.append((failed, slow, clock.t))
        metrics = breaker.metrics
        got = (
            metrics.number_of_buffered_calls,
            metrics.number_of_failed_calls,
            metrics.number_of_slow_calls,
        )
        assert got == brute_force(seen, size, now=clock.t)


# --- OPEN ---------------------------------------------------------------------------------------


def test_open_rejects_until_strictly_after_the_wait():
    """R4J_SM OpenState.tryAcquirePermission: permitted only when
    clock.instant().isAfter(retryAfterWaitDuration), retryAfter = opened + wait; the call
    that finds the wait over moves the breaker to HALF_OPEN and takes a permit."""
    breaker, clock, events = make(sliding_window_size=2, minimum_number_of_calls=2)
    trip(breaker, clock, at=100.0)
    clock.t = 159.0
    assert not breaker.try_acquire_permission()
    clock.t = 160.0  # exactly opened_at + 60 s: not after
    assert not breaker.try_acquire_permission()
    assert breaker.state == OPEN
    assert breaker.metrics.number_of_not_permitted_calls == 2
    clock.t = 160.000000001
    assert breaker.try_acquire_permission()
    assert trace(events) == [(CLOSED, OPEN, 100.0), (OPEN, HALF_OPEN, 160.000000001)]
    assert events[1].reason == "wait of 60 s over"


def test_open_keeps_the_metrics_that_tripped_it_and_records_late_outcomes():
    """R4J_SM transitionToOpenState passes currentState.getMetrics() to OpenState; its
    onSuccess/onError still record (calls permitted before the trip) without a transition."""
    breaker, clock, events = make(sliding_window_size=4, minimum_number_of_calls=2)
    trip(breaker, clock)
    assert breaker.metrics.number_of_buffered_calls == 2
    breaker.on_success(0.1)
    breaker.on_success(0.1)
    metrics = breaker.metrics
    assert (metrics.number_of_buffered_calls, metrics.failure_rate) == (4, 50.0)
    assert breaker.state == OPEN and len(events) == 1


def test_automatic_transition_happens_exactly_at_the_wait():
    """R4J_SM OpenState schedules toHalfOpenState after waitDurationInMillis when
    automaticTransitionFromOpenToHalfOpenEnabled; the transition is stamped at its due
    time even when first observed later."""
    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state=5,
        automatic_transition_from_open_to_half_open_enabled=True,
    )
    trip(breaker, clock, at=10.0)
    clock.t = 14.999
    assert breaker.state == OPEN
    clock.t = 15.0
    assert breaker.state == HALF_OPEN
    assert trace(events)[-1] == (OPEN, HALF_OPEN, 15.0)

    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state=5,
        automatic_transition_from_open_to_half_open_enabled=True,
    )
    trip(breaker, clock, at=10.0)
    clock.t = 17.5  # nobody looked at 15 s
    assert breaker.try_acquire_permission()
    assert trace(events)[-1] == (OPEN, HALF_OPEN, 15.0)


def test_the_wait_interval_function_sees_the_attempt_number():
    """R4J_SM: OpenState(attempts + 1) asks waitIntervalFunctionInOpenState.apply(attempts);
    HALF_OPEN keeps the count and CLOSED resets it to 0, so a re-opening waits longer."""
    waits = {1: 1.0, 2: 2.0, 3: 4.0}
    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        permitted_number_of_calls_in_half_open_state=1,
        wait_interval_function_in_open_state=lambda attempt: waits[attempt],
    )
    trip(breaker, clock, at=0.0)  # attempt 1: wait 1 s
    assert breaker.retry_after == 1.0
    clock.t = 1.5
    fail(breaker)  # trial fails: attempt 2, wait 2 s
    assert breaker.state == OPEN and breaker.retry_after == 3.5
    clock.t = 4.0
    succeed(breaker)  # trial succeeds: CLOSED, attempts back to 0
    assert breaker.state == CLOSED
    trip(breaker, clock, at=10.0)
    assert breaker.retry_after == 11.0
    assert [e.to_state for e in events] == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED, OPEN]


def test_wait_is_counted_in_whole_milliseconds():
    """R4J_CONFIG waitDurationInOpenState takes toMillis(); R4J_SM adds it in MILLIS."""
    breaker, clock, _ = make(
        sliding_window_size=2, minimum_number_of_calls=2, wait_duration_in_open_state=1.0009
    )
    trip(breaker, clock, at=0.0)
    assert breaker.retry_after == 1.0


# --- HALF_OPEN ----------------------------------------------------------------------------------


def half_open(**options) -> tuple[CircuitBreaker, Clock, list]:
    """A breaker that opened at 0 s (window 2; the minimum of 100 is capped at 2 while
    CLOSED) and has a 5 s wait; the clock stands at 6 s."""
    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=100,
        wait_duration_in_open_state=5,
        **options,
    )
    trip(breaker, clock, at=0.0)
    clock.t = 6.0
    return breaker, clock, events


def test_half_open_decides_after_the_permitted_calls_and_opens_at_the_threshold():
    """R4J_SM HalfOpenState: metrics are a fresh COUNT_BASED window of
    permittedNumberOfCallsInHalfOpenState (R4J_METRICS forHalfOpen) with minimum
    min(minimumNumberOfCalls, permitted); at 2 failures of 4 (50 %) it re-opens."""
    breaker, clock, events = half_open(permitted_number_of_calls_in_half_open_state=4)
    # Four trial calls in flight at once; the fifth is turned away.
    assert [breaker.try_acquire_permission() for _ in range(5)] == [True] * 4 + [False]
    breaker.on_error(0.1, ConnectionError())
    breaker.on_success(0.1)
    breaker.on_error(0.1, ConnectionError())
    assert breaker.state == HALF_OPEN
    breaker.on_success(0.1)
    assert breaker.state == OPEN
    assert trace(events) == [(CLOSED, OPEN, 0.0), (OPEN, HALF_OPEN, 6.0), (HALF_OPEN, OPEN, 6.0)]
    assert events[-1].reason.endswith("in 4 trial calls")
    assert breaker.retry_after == 11.0


def test_half_open_closes_below_the_threshold_with_fresh_metrics():
    """R4J_SM HalfOpenState.checkIfThresholdsExceeded: BELOW_THRESHOLDS →
    transitionToClosedState, which builds a new ClosedState with fresh metrics."""
    breaker, clock, events = half_open(permitted_number_of_calls_in_half_open_state=4)
    for failed in (True, False, False, False):
        (fail if failed else succeed)(breaker)
    assert breaker.state == CLOSED
    assert breaker.metrics.number_of_buffered_calls == 0
    assert events[-1].reason == (
        "failure rate 25 % < 50 %, slow-call rate 0 % < 100 % in 4 trial calls"
    )


def test_half_open_decides_after_the_minimum_when_it_is_smaller_than_the_permits():
    """R4J_METRICS forHalfOpen: minimum = min(minimumNumberOfCalls, permitted), so with
    10 permits and a minimum of 3 the decision comes after 3 outcomes."""
    breaker, clock, _ = make(
        sliding_window_size=3,
        minimum_number_of_calls=3,
        permitted_number_of_calls_in_half_open_state=10,
    )
    for _ in range(3):
        fail(breaker)
    clock.t = 61.0
    succeed(breaker)
    succeed(breaker)
    assert breaker.state == HALF_OPEN
    succeed(breaker)
    assert breaker.state == CLOSED


def test_max_wait_in_half_open_reopens_at_exactly_the_deadline():
    """R4J_SM HalfOpenState schedules a transition after maxWaitDurationInHalfOpenState
    (when >= 1 ms) to transitionToStateAfterWaitDuration, OPEN by default (R4J_CONFIG)."""
    breaker, clock, events = half_open(max_wait_duration_in_half_open_state=3)
    assert breaker.try_acquire_permission()  # HALF_OPEN at 6 s, one trial call still out
    clock.t = 8.999
    assert breaker.state == HALF_OPEN
    clock.t = 9.0
    assert breaker.state == OPEN
    assert trace(events)[-1] == (HALF_OPEN, OPEN, 9.0)
    assert breaker.retry_after == 14.0


def test_max_wait_in_half_open_can_lead_to_closed():
    """R4J_CONFIG transitionToStateAfterWaitDuration(CLOSED)."""
    breaker, clock, events = half_open(
        max_wait_duration_in_half_open_state=3, transition_to_state_after_wait_duration=CLOSED
    )
    assert breaker.try_acquire_permission()
    clock.t = 20.0
    assert breaker.state == CLOSED
    assert trace(events)[-1] == (HALF_OPEN, CLOSED, 9.0)


def test_without_max_wait_half_open_waits_for_its_calls_forever():
    """R4J_CONFIG DEFAULT_WAIT_DURATION_IN_HALF_OPEN_STATE = 0: no scheduled transition."""
    breaker, clock, _ = half_open()
    assert breaker.try_acquire_permission()
    clock.t = 10_000.0
    assert breaker.state == HALF_OPEN


def test_scheduled_transitions_chain_in_order():
    """R4J_SM: with both timers (automatic OPEN → HALF_OPEN and the maximum wait in
    HALF_OPEN) a breaker nobody calls cycles OPEN → HALF_OPEN → OPEN on schedule, each
    OPEN waiting from the moment it was entered."""
    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state=5,
        automatic_transition_from_open_to_half_open_enabled=True,
        max_wait_duration_in_half_open_state=2,
    )
    trip(breaker, clock, at=0.0)
    clock.t = 13.0
    assert breaker.state == HALF_OPEN
    assert trace(events) == [
        (CLOSED, OPEN, 0.0),
        (OPEN, HALF_OPEN, 5.0),
        (HALF_OPEN, OPEN, 7.0),
        (OPEN, HALF_OPEN, 12.0),
    ]
    clock.t = 14.0
    assert breaker.state == OPEN
    assert trace(events)[-1] == (HALF_OPEN, OPEN, 14.0)


def test_a_full_cycle_has_the_exact_state_sequence():
    """R4J_SM: CLOSED → OPEN (threshold) → HALF_OPEN (first call after the wait) → OPEN
    (trial failed) → HALF_OPEN → CLOSED (trial passed)."""
    breaker, clock, events = make(
        sliding_window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state=10,
        permitted_number_of_calls_in_half_open_state=1,
    )
    trip(breaker, clock, at=1.0)
    clock.t = 11.5
    fail(breaker)
    clock.t = 21.0
    assert not breaker.try_acquire_permission()
    clock.t = 22.0
    succeed(breaker)
    assert trace(events) == [
        (CLOSED, OPEN, 1.0),
        (OPEN, HALF_OPEN, 11.5),
        (HALF_OPEN, OPEN, 11.5),
        (OPEN, HALF_OPEN, 22.0),
        (HALF_OPEN, CLOSED, 22.0),
    ]


# --- record and ignore lists ----------------------------------------------------------------


def test_only_recorded_exceptions_are_failures_and_others_count_as_successes():
    """R4J_SM handleThrowable: not ignored and recordExceptionPredicate true → onError;
    otherwise → onSuccess. R4J_CONFIG recordExceptions matches subclasses
    (isAssignableFrom)."""
    breaker, _, _ = make(
        sliding_window_size=4, minimum_number_of_calls=4, record_exceptions=(ConnectionError,)
    )
    for _ in range(3):
        assert breaker.try_acquire_permission()
        breaker.on_error(0.1, ValueError("business error"))
    metrics = breaker.metrics
    assert (metrics.number_of_buffered_calls, metrics.number_of_failed_calls) == (3, 0)
    assert breaker.try_acquire_permission()
    breaker.on_error(0.1, ConnectionRefusedError())  # a subclass of ConnectionError
    assert breaker.metrics.number_of_failed_calls == 1


def test_ignored_exceptions_count_neither_way_and_win_over_recording():
    """R4J_SM handleThrowable checks the ignore predicate first; R4J_CONFIG: "Ignoring an
    exception has priority over recording an exception"."""
    breaker, _, _ = make(record_exceptions=(OSError,), ignore_exceptions=(FileNotFoundError,))
    assert breaker.try_acquire_permission()
    breaker.on_error(0.1, FileNotFoundError())
    assert breaker.metrics.number_of_buffered_calls == 0
    breaker.on_error(0.1, TimeoutError())  # an OSError
    assert breaker.metrics.number_of_failed_calls == 1


def test_an_ignored_exception_in_half_open_gives_its_permit_back():
    """R4J_SM handleThrowable calls releasePermission() for ignored exceptions;
    HalfOpenState.releasePermission increments the permitted calls."""
    breaker, clock, _ = half_open(
        permitted_number_of_calls_in_half_open_state=1, ignore_exceptions=(KeyError,)
    )
    assert breaker.try_acquire_permission()
    assert not breaker.try_acquire_permission()
    breaker.on_error(0.1, KeyError("ignored"))
    assert breaker.state == HALF_OPEN
    assert breaker.try_acquire_permission()
    breaker.release_permission()
    assert breaker.try_acquire_permission()


def test_predicates_are_or_ed_with_the_class_lists():
    """R4J_CONFIG createRecordExceptionPredicate / createIgnoreFailurePredicate:
    PredicateCreator.createExceptionsPredicate(classes) OR the predicate."""
    config = CircuitBreakerConfig(
        record_exceptions=(ConnectionError,),
        record_exception=lambda exc: "retryable" in str(exc),
        ignore_exception=lambda exc: isinstance(exc, LookupError),
    )
    assert config.records(ConnectionError()) and config.records(ValueError("retryable"))
    assert not config.records(ValueError("fatal"))
    assert config.ignores(KeyError()) and not config.ignores(ValueError())


def test_record_result_turns_a_returned_value_into_a_failure():
    """R4J_SM onResult: a non-null result matching recordResultPredicate is recorded as a
    failure (ResultRecordedAsFailureException)."""
    breaker, clock, _ = make(
        sliding_window_size=2, minimum_number_of_calls=2, record_result=lambda r: r == 503
    )
    assert breaker.call(lambda: 503) == 503
    assert breaker.call(lambda: 503) == 503
    assert breaker.state == OPEN


# --- DISABLED, FORCED_OPEN, METRICS_ONLY and explicit transitions --------------------------------


def test_disabled_passes_everything_and_records_nothing():
    """R4J_SM DisabledState: tryAcquirePermission always true, onError/onSuccess no-ops;
    R4J_CB State.DISABLED: no state transition."""
    breaker, clock, events = make(sliding_window_size=2, minimum_number_of_calls=2)
    breaker.transition_to_disabled_state()
    for _ in range(50):
        fail(breaker)
    clock.t = 3600.0
    assert breaker.state == DISABLED
    assert breaker.metrics.number_of_buffered_calls == 0
    assert trace(events) == [(CLOSED, DISABLED, 0.0)]
    breaker.transition_to_closed_state()
    assert breaker.state == CLOSED


def test_forced_open_rejects_everything_and_never_waits_out():
    """R4J_SM ForcedOpenState: tryAcquirePermission always false and counted as not
    permitted; only an explicit transition leaves it."""
    breaker, clock, events = make(automatic_transition_from_open_to_half_open_enabled=True)
    breaker.transition_to_forced_open_state()
    clock.t = 3600.0
    assert [breaker.try_acquire_permission() for _ in range(3)] == [False] * 3
    assert breaker.state == FORCED_OPEN
    assert breaker.metrics.number_of_not_permitted_calls == 3
    with pytest.raises(CallNotPermitted):
        breaker.call(lambda: 1)
    breaker.transition_to_half_open_state()  # FORCED_OPEN → HALF_OPEN is legal
    assert breaker.state == HALF_OPEN


def test_metrics_only_records_and_never_changes_state():
    """R4J_SM MetricsOnlyState: records into a closed-style window and only publishes
    threshold events; R4J_CB: METRICS_ONLY is not transitioning to other states."""
    breaker, _, events = make(sliding_window_size=2, minimum_number_of_calls=2)
    breaker.transition_to_metrics_only_state()
    for _ in range(10):
        fail(breaker)
    assert breaker.state == METRICS_ONLY
    assert breaker.metrics.failure_rate == 100.0
    assert trace(events) == [(CLOSED, METRICS_ONLY, 0.0)]


@pytest.mark.parametrize(
    ("start", "target"),
    [(CLOSED, HALF_OPEN), (METRICS_ONLY, OPEN), (METRICS_ONLY, HALF_OPEN)],
)
def test_illegal_transitions_raise_and_leave_the_state_alone(start, target):
    """R4J_CB StateTransition lists the legal pairs; transitionBetween throws
    IllegalStateTransitionException for CLOSED→HALF_OPEN, METRICS_ONLY→OPEN/HALF_OPEN."""
    breaker, _, events = make()
    if start == METRICS_ONLY:
        breaker.transition_to_metrics_only_state()
    method = getattr(breaker, f"transition_to_{target.lower()}_state")
    with pytest.raises(IllegalStateTransition, match=f"from {start} to {target}"):
        method()
    assert breaker.state == start


def test_explicit_transitions_to_the_same_state_start_it_afresh_without_an_event():
    """R4J_SM stateTransition always builds the new state (CLOSED_TO_CLOSED is legal and
    internal, R4J_CB isInternalTransition: no event): CLOSED → CLOSED drops the metrics,
    OPEN → OPEN restarts the wait."""
    breaker, clock, events = make(sliding_window_size=4, minimum_number_of_calls=4)
    fail(breaker)
    breaker.transition_to_closed_state()
    assert breaker.metrics.number_of_buffered_calls == 0
    breaker.transition_to_open_state()
    clock.t = 30.0
    breaker.transition_to_open_state()
    assert breaker.retry_after == 90.0
    assert trace(events) == [(CLOSED, OPEN, 0.0)]


def test_open_entered_from_forced_open_takes_late_outcomes_without_failing():
    """R4J_SM transitionToOpenState hands FORCED_OPEN's empty metrics (R4J_METRICS
    forForcedOpen, window size 0) to OPEN; a late outcome then has nowhere to go. Java
    would throw on the size-0 window; here it is dropped."""
    breaker, clock, events = make()
    breaker.transition_to_forced_open_state()
    breaker.transition_to_open_state()
    breaker.on_error(0.1, ConnectionError())
    breaker.on_success(0.1)
    assert breaker.state == OPEN
    assert breaker.metrics.number_of_buffered_calls == 0


def test_reset_returns_to_a_fresh_closed_state_from_anywhere():
    """R4J_SM reset(): a new ClosedState, with a transition event if the state changed."""
    breaker, clock, events = make(sliding_window_size=2, minimum_number_of_calls=2)
    trip(breaker, clock, at=2.0)
    clock.t = 3.0
    breaker.reset()
    assert breaker.state == CLOSED and breaker.metrics.number_of_buffered_calls == 0
    assert trace(events) == [(CLOSED, OPEN, 2.0), (OPEN, CLOSED, 3.0)]


# --- call() ------------------------------------------------------------------------------------


def test_call_times_the_function_with_the_clock_and_reraises():
    """R4J_CB decorateSupplier: acquirePermission, time with getCurrentTimestamp, onResult on
    return, onError on Exception and rethrow; a rejected call raises
    CallNotPermittedException."""
    clock = Clock()
    breaker, _, _ = make(
        clock, sliding_window_size=2, minimum_number_of_calls=2, slow_call_duration_threshold=1.0
    )

    def slow_reply():
        clock.t += 1.5
        return "ok"

    def broken():
        clock.t += 0.2
        raise ConnectionError("down")

    assert breaker.call(slow_reply) == "ok"
    with pytest.raises(ConnectionError):
        breaker.call(broken)
    metrics = breaker.metrics
    assert (metrics.number_of_slow_calls, metrics.number_of_failed_calls) == (1, 1)
    assert breaker.state == OPEN
    with pytest.raises(CallNotPermitted, match="'dep' is OPEN"):
        breaker.call(slow_reply)


def test_metrics_snapshot_is_a_frozen_value():
    """R4J_CB Metrics is read-only; a snapshot does not change behind the reader's back."""
    breaker, _, _ = make()
    snapshot = breaker.metrics
    fail(breaker)
    assert snapshot.number_of_buffered_calls == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.failure_rate = 1.0  # type: ignore[misc]

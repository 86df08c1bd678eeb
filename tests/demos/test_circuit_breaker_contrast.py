"""The contrast breakers against the sources they are labelled with.

Sources:
- PYBREAKER: danielfm/pybreaker, src/pybreaker/__init__.py (CircuitBreaker,
  CircuitClosedState.on_failure, CircuitOpenState.before_call, CircuitHalfOpenState)
- HYSTRIX_CB: Netflix/Hystrix, hystrix-core/.../hystrix/HystrixCircuitBreaker.java
  (HystrixCircuitBreakerImpl: subscribeToStream, OpenState, HalfOpenState, isAfterSleepWindow)
- HYSTRIX_METRICS: Netflix/Hystrix, hystrix-core/.../hystrix/HystrixCommandMetrics.java
  (HealthCounts: errorPercentage = (int) (errors / total * 100))
- HYSTRIX_PROPS: Hystrix defaults: circuitBreaker.requestVolumeThreshold 20,
  errorThresholdPercentage 50, sleepWindowInMilliseconds 5000,
  metrics.rollingStats.timeInMilliseconds 10000, metrics.healthSnapshot.intervalInMilliseconds
  500, execution.isolation.thread.timeoutInMilliseconds 1000.
"""

from __future__ import annotations

from demos.circuit_breaker.breaker import CLOSED, HALF_OPEN, OPEN
from demos.circuit_breaker.contrast import ConsecutiveFailureBreaker, HystrixBreaker


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def transitions(events):
    return [(e.from_state, e.to_state, e.at) for e in events]


# --- pybreaker ---------------------------------------------------------------------------------


def pybreaker(**options):
    clock, events = Clock(), []
    breaker = ConsecutiveFailureBreaker(clock, name="dep", on_transition=events.append, **options)
    return breaker, clock, events


def test_pybreaker_defaults():
    """PYBREAKER CircuitBreaker.__init__: fail_max=5, reset_timeout=60."""
    breaker, _, _ = pybreaker()
    assert (breaker.fail_max, breaker.reset_timeout) == (5, 60.0)


def test_pybreaker_opens_on_the_fifth_consecutive_failure():
    """PYBREAKER CircuitClosedState.on_failure: open once the counter >= fail_max; a
    success resets the counter (_handle_success → reset_counter)."""
    breaker, clock, events = pybreaker()
    for _ in range(4):
        assert breaker.try_acquire_permission()
        breaker.on_error(0.1, ConnectionError())
    assert breaker.try_acquire_permission()
    breaker.on_success(0.1)
    assert breaker.fail_counter == 0
    states = []
    for _ in range(5):
        clock.t += 1
        assert breaker.try_acquire_permission()
        breaker.on_error(0.1, ConnectionError())
        states.append(breaker.state)
    assert states == [CLOSED] * 4 + [OPEN]
    assert transitions(events) == [(CLOSED, OPEN, 5.0)]


def test_pybreaker_lets_a_call_through_at_exactly_the_reset_timeout():
    """PYBREAKER CircuitOpenState.before_call: rejects while now < opened_at + timeout, so a
    call at exactly opened_at + reset_timeout goes through (resilience4j waits for
    strictly after)."""
    breaker, clock, events = pybreaker(fail_max=1)
    clock.t = 10.0
    breaker.try_acquire_permission()
    breaker.on_error(0.1, ConnectionError())
    clock.t = 69.999
    assert not breaker.try_acquire_permission()
    clock.t = 70.0
    assert breaker.try_acquire_permission()
    assert breaker.state == HALF_OPEN
    assert breaker.not_permitted == 1
    assert transitions(events) == [(CLOSED, OPEN, 10.0), (OPEN, HALF_OPEN, 70.0)]


def test_pybreaker_half_open_runs_one_trial():
    """PYBREAKER CircuitHalfOpenState: the trial call's success closes, its failure re-opens
    with a new opened_at. pybreaker serialises calls with a lock; here a second caller
    during the trial is turned away."""
    breaker, clock, events = pybreaker(fail_max=1, reset_timeout=5)
    breaker.try_acquire_permission()
    breaker.on_error(0.1, ConnectionError())
    clock.t = 5.0
    assert breaker.try_acquire_permission()
    assert not breaker.try_acquire_permission()
    breaker.on_error(0.1, ConnectionError())
    assert breaker.state == OPEN
    clock.t = 9.9
    assert not breaker.try_acquire_permission()
    clock.t = 10.0
    assert breaker.try_acquire_permission()
    breaker.on_success(0.1)
    assert breaker.state == CLOSED
    assert [e.to_state for e in events] == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_pybreaker_excluded_exceptions_count_as_successes():
    """PYBREAKER is_system_error: an excluded exception is handled as a success, which
    also resets the failure counter."""
    breaker, _, _ = pybreaker(fail_max=2, exclude=(KeyError,))
    breaker.on_error(0.1, ConnectionError())
    breaker.on_error(0.1, KeyError())
    breaker.on_error(0.1, ConnectionError())
    assert breaker.state == CLOSED and breaker.fail_counter == 1


def test_pybreaker_ignores_slowness():
    """PYBREAKER only counts exceptions: slow successes never open it."""
    breaker, _, _ = pybreaker()
    for _ in range(100):
        breaker.try_acquire_permission()
        breaker.on_success(30.0)
    assert breaker.state == CLOSED


# --- Hystrix -------------------------------------------------------------------------------------


def hystrix(**options):
    clock, events = Clock(), []
    breaker = HystrixBreaker(clock, name="dep", on_transition=events.append, **options)
    return breaker, clock, events


def errors(breaker, clock, at, count, error=True):
    clock.t = at
    for _ in range(count):
        assert breaker.try_acquire_permission()
        if error:
            breaker.on_error(0.1, ConnectionError())
        else:
            breaker.on_success(0.1)


def test_hystrix_defaults():
    """HYSTRIX_PROPS: volume 20, 50 %, sleep window 5 s, 1 s execution timeout."""
    breaker, _, _ = hystrix()
    assert (
        breaker.request_volume_threshold,
        breaker.error_threshold_percentage,
        breaker.sleep_window,
        breaker.call_timeout,
    ) == (20, 50, 5.0, 1.0)


def test_hystrix_opens_at_the_next_health_snapshot_not_at_the_call():
    """HYSTRIX_CB subscribeToStream: the state is re-checked on each health-counts snapshot
    (every 500 ms, completed buckets only), not after each call."""
    breaker, clock, events = hystrix()
    errors(breaker, clock, 0.1, 20)
    clock.t = 0.499
    assert breaker.state == CLOSED
    clock.t = 0.5
    assert breaker.state == OPEN
    assert transitions(events) == [(CLOSED, OPEN, 0.5)]
    assert events[0].reason == "error percentage 100 % ≥ 50 % over 20 requests"


def test_hystrix_needs_the_request_volume():
    """HYSTRIX_CB: below circuitBreakerRequestVolumeThreshold (20) nothing changes, even
    at 100 % errors."""
    breaker, clock, _ = hystrix()
    errors(breaker, clock, 0.1, 19)
    clock.t = 30.0
    assert breaker.state == CLOSED


def test_hystrix_error_percentage_at_and_below_the_threshold():
    """HYSTRIX_METRICS HealthCounts and HYSTRIX_CB: open when errorPercentage >= 50;
    9 errors in 20 requests (45 %) stay closed, 10 in 20 (50 %) open."""
    breaker, clock, _ = hystrix()
    errors(breaker, clock, 0.1, 9)
    errors(breaker, clock, 0.2, 11, error=False)
    clock.t = 1.0
    assert breaker.state == CLOSED
    assert breaker.health_counts() == (20, 9, 45)

    breaker, clock, _ = hystrix()
    errors(breaker, clock, 0.1, 10)
    errors(breaker, clock, 0.2, 10, error=False)
    clock.t = 0.5
    assert breaker.state == OPEN


def test_hystrix_rolling_window_forgets_after_10_seconds():
    """HYSTRIX_PROPS metrics.rollingStats.timeInMilliseconds 10000: 10 errors at 0.1 s and
    10 at 10.2 s never share a window, so the volume of 20 is never reached."""
    breaker, clock, _ = hystrix()
    errors(breaker, clock, 0.1, 10)
    errors(breaker, clock, 10.2, 10)
    clock.t = 11.0
    assert breaker.state == CLOSED
    assert breaker.health_counts()[0] == 10


def test_hystrix_sleep_window_is_strict_and_allows_one_trial():
    """HYSTRIX_CB isAfterSleepWindow: currentTime > openTime + sleepWindow (ms); OpenState
    attemptExecution lets the first call through into HalfOpenState, whose
    attemptExecution is false for every other call."""
    breaker, clock, events = hystrix()
    errors(breaker, clock, 0.1, 20)
    clock.t = 5.5  # opened at 0.5 s: exactly 5000 ms later
    assert not breaker.try_acquire_permission()
    clock.t = 5.5009  # still 5000 whole ms
    assert not breaker.try_acquire_permission()
    clock.t = 5.501
    assert breaker.try_acquire_permission()
    assert not breaker.try_acquire_permission()
    assert breaker.state == HALF_OPEN
    assert breaker.not_permitted == 3


def test_hystrix_trial_failure_reopens_and_success_closes_with_a_clean_window():
    """HYSTRIX_CB HalfOpenState.markNonSuccess → new OpenState (opened now);
    markSuccess → CLOSED and metrics.resetStream()."""
    breaker, clock, events = hystrix()
    errors(breaker, clock, 0.1, 20)
    clock.t = 6.0
    assert breaker.try_acquire_permission()
    breaker.on_error(0.2, ConnectionError())
    clock.t = 11.0
    assert not breaker.try_acquire_permission()  # re-opened at 6.0 s
    clock.t = 11.5
    assert breaker.try_acquire_permission()
    breaker.on_success(0.2)
    assert breaker.state == CLOSED
    assert breaker.health_counts() == (0, 0, 0)
    assert transitions(events) == [
        (CLOSED, OPEN, 0.5),
        (OPEN, HALF_OPEN, 6.0),
        (HALF_OPEN, OPEN, 6.0),
        (OPEN, HALF_OPEN, 11.5),
        (HALF_OPEN, CLOSED, 11.5),
    ]


def test_hystrix_counts_calls_longer_than_the_timeout_as_errors():
    """HYSTRIX_PROPS execution timeout 1000 ms: a slower call ends as TIMEOUT, which
    HYSTRIX_METRICS counts as an error."""
    breaker, clock, _ = hystrix()
    clock.t = 0.1
    for _ in range(20):
        breaker.try_acquire_permission()
        breaker.on_success(1.2)
    clock.t = 0.5
    assert breaker.state == OPEN

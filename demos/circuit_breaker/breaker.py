"""A circuit breaker that decides exactly as resilience4j's does, driven by an injected clock.

Standalone and stdlib-only, so it can be copied out of this demo. It follows
resilience4j-circuitbreaker (``CircuitBreakerConfig``, ``internal/CircuitBreakerStateMachine``,
``internal/CircuitBreakerMetrics``) and the sliding windows of resilience4j-core
(``FixedSizeSlidingWindowMetrics``, ``SlidingTimeWindowMetrics``, ``SnapshotImpl``).
Option names are resilience4j's in snake_case, defaults are resilience4j's, durations are
seconds. Two contrast breakers, after pybreaker and Hystrix, offer the same small interface
in ``contrast.py``.

Usage::

    breaker = CircuitBreaker(CircuitBreakerConfig(sliding_window_size=10), clock=time.monotonic)
    if breaker.try_acquire_permission():
        start = time.monotonic()
        try:
            reply = fetch()
        except Exception as exc:
            breaker.on_error(time.monotonic() - start, exc)
        else:
            breaker.on_success(time.monotonic() - start)

or simply ``breaker.call(fetch)``, which raises :class:`CallNotPermitted` when rejected.

resilience4j runs timers on a scheduler (automatic OPEN → HALF_OPEN, the maximum wait in
HALF_OPEN). Here they fire lazily: every public method first applies the transitions whose
time has come, stamped with the time they were due, so the result is the same as if a
scheduler had run them on time. Unlike resilience4j's, this breaker is not thread-safe:
share one between threads only behind a lock.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLOSED",
    "COUNT_BASED",
    "DISABLED",
    "FORCED_OPEN",
    "HALF_OPEN",
    "METRICS_ONLY",
    "OPEN",
    "TIME_BASED",
    "CallNotPermitted",
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "IllegalStateTransition",
    "Metrics",
    "ResultRecordedAsFailure",
    "Transition",
]

CLOSED = "CLOSED"
OPEN = "OPEN"
HALF_OPEN = "HALF_OPEN"
DISABLED = "DISABLED"
FORCED_OPEN = "FORCED_OPEN"
METRICS_ONLY = "METRICS_ONLY"

COUNT_BASED = "COUNT_BASED"
TIME_BASED = "TIME_BASED"

# CircuitBreaker.StateTransition lists every legal (from, to) pair; anything else raises.
# Missing on purpose: CLOSED → HALF_OPEN, METRICS_ONLY → OPEN, METRICS_ONLY → HALF_OPEN.
_LEGAL_TRANSITIONS = frozenset(
    [
        (CLOSED, CLOSED), (CLOSED, OPEN), (CLOSED, DISABLED), (CLOSED, METRICS_ONLY),
        (CLOSED, FORCED_OPEN),
        (HALF_OPEN, HALF_OPEN), (HALF_OPEN, CLOSED), (HALF_OPEN, OPEN), (HALF_OPEN, DISABLED),
        (HALF_OPEN, METRICS_ONLY), (HALF_OPEN, FORCED_OPEN),
        (OPEN, OPEN), (OPEN, CLOSED), (OPEN, HALF_OPEN), (OPEN, DISABLED), (OPEN, METRICS_ONLY),
        (OPEN, FORCED_OPEN),
        (FORCED_OPEN, FORCED_OPEN), (FORCED_OPEN, CLOSED), (FORCED_OPEN, OPEN),
        (FORCED_OPEN, DISABLED), (FORCED_OPEN, METRICS_ONLY), (FORCED_OPEN, HALF_OPEN),
        (DISABLED, DISABLED), (DISABLED, CLOSED), (DISABLED, OPEN), (DISABLED, FORCED_OPEN),
        (DISABLED, HALF_OPEN), (DISABLED, METRICS_ONLY),
        (METRICS_ONLY, METRICS_ONLY), (METRICS_ONLY, CLOSED), (METRICS_ONLY, FORCED_OPEN),
        (METRICS_ONLY, DISABLED),
    ]
)  # fmt: skip

_NS = 1_000_000_000
_MS = 1_000_000


class CallNotPermitted(Exception):
    """Raised by :meth:`CircuitBreaker.call` and ``acquire_permission`` when a call is
    rejected (resilience4j's ``CallNotPermittedException``)."""


class IllegalStateTransition(Exception):
    """Raised for a transition resilience4j does not allow, e.g. CLOSED → HALF_OPEN."""


class ResultRecordedAsFailure(Exception):
    """Stands for a result that ``record_result`` classed as a failure."""

    def __init__(self, result: Any) -> None:
        super().__init__(f"result {result!r} was recorded as a failure")
        self.result = result


@dataclass(frozen=True)
class Transition:
    """A state change, as passed to ``on_transition`` listeners."""

    name: str
    from_state: str
    to_state: str
    at: float
    """Clock time (seconds) at which the transition happened or was due."""
    reason: str
    """Why, in words, e.g. ``"failure rate 60 % ≥ 50 %"``."""


def _f32(value: float) -> float:
    # resilience4j keeps rates and thresholds as Java floats; rounding both to float32
    # keeps comparisons at the threshold identical to Java's (double rounding of a
    # quotient is exact here because 53 >= 2 * 24 + 2).
    return struct.unpack("f", struct.pack("f", value))[0]


def _ns(seconds: float) -> int:
    return round(seconds * _NS)


def _pct(rate: float) -> str:
    text = f"{rate:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def _secs(ns: int) -> str:
    return f"{ns / _NS:g} s"


# --- configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class CircuitBreakerConfig:
    """resilience4j's ``CircuitBreakerConfig`` in snake_case; durations in seconds.

    Validation follows ``CircuitBreakerConfig.Builder`` and raises ``ValueError``.
    """

    failure_rate_threshold: float = 50.0
    """Percent of failed calls at or above which the breaker opens; in (0, 100]."""
    slow_call_rate_threshold: float = 100.0
    """Percent of slow calls at or above which the breaker opens; in (0, 100]."""
    slow_call_duration_threshold: float = 60.0
    """A call is slow when it takes strictly longer than this."""
    wait_duration_in_open_state: float = 60.0
    """How long OPEN rejects calls before trying HALF_OPEN (at least 1 ms)."""
    wait_interval_function_in_open_state: Callable[[int], float] | None = None
    """Optional: wait in seconds as a function of the attempt number (1 for the first
    opening, +1 for each re-opening without closing in between), e.g. for backoff.
    When set it replaces ``wait_duration_in_open_state``."""
    permitted_number_of_calls_in_half_open_state: int = 10
    max_wait_duration_in_half_open_state: float = 0.0
    """If at least 1 ms: leave HALF_OPEN after this long even without a decision."""
    transition_to_state_after_wait_duration: str = OPEN
    """Where the maximum wait in HALF_OPEN leads: OPEN or CLOSED."""
    sliding_window_type: str = COUNT_BASED
    sliding_window_size: int = 100
    """Calls (count-based) or seconds (time-based) in the window."""
    minimum_number_of_calls: int = 100
    """Calls needed before rates count; capped at the window size for count-based windows."""
    automatic_transition_from_open_to_half_open_enabled: bool = False
    record_exceptions: tuple[type[BaseException], ...] = ()
    """Exception classes (and subclasses) that count as failures; empty means all.
    A raised exception that is neither recorded nor ignored counts as a success."""
    ignore_exceptions: tuple[type[BaseException], ...] = ()
    """Exception classes that count neither way; ignoring wins over recording."""
    record_exception: Callable[[BaseException], bool] | None = None
    """Predicate OR-ed with ``record_exceptions``."""
    ignore_exception: Callable[[BaseException], bool] | None = None
    """Predicate OR-ed with ``ignore_exceptions``."""
    record_result: Callable[[Any], bool] | None = None
    """Predicate on a returned value; true records the call as a failure."""

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate_threshold <= 100:
            raise ValueError(
                "failure_rate_threshold must be greater than 0 and not greater than 100, "
                f"but was {self.failure_rate_threshold}"
            )
        if not 0 < self.slow_call_rate_threshold <= 100:
            raise ValueError(
                "slow_call_rate_threshold must be greater than 0 and not greater than 100, "
                f"but was {self.slow_call_rate_threshold}"
            )
        if _ns(self.slow_call_duration_threshold) < 1:
            raise ValueError("slow_call_duration_threshold must be at least 1 ns")
        if _ns(self.wait_duration_in_open_state) // _MS < 1:
            raise ValueError("wait_duration_in_open_state must be at least 1 ms")
        if self.permitted_number_of_calls_in_half_open_state < 1:
            raise ValueError("permitted_number_of_calls_in_half_open_state must be greater than 0")
        if self.max_wait_duration_in_half_open_state < 0:
            raise ValueError("max_wait_duration_in_half_open_state must be at least 0")
        if self.transition_to_state_after_wait_duration not in (OPEN, CLOSED):
            raise ValueError("transition_to_state_after_wait_duration must be OPEN or CLOSED")
        if self.sliding_window_type not in (COUNT_BASED, TIME_BASED):
            raise ValueError("sliding_window_type must be COUNT_BASED or TIME_BASED")
        if self.sliding_window_size < 1:
            raise ValueError("sliding_window_size must be greater than 0")
        if self.minimum_number_of_calls < 1:
            raise ValueError("minimum_number_of_calls must be greater than 0")

    def records(self, exc: BaseException) -> bool:
        """Whether ``exc`` counts as a failure (before ignoring is considered)."""
        if not self.record_exceptions and self.record_exception is None:
            return True
        if self.record_exceptions and isinstance(exc, self.record_exceptions):
            return True
        return self.record_exception is not None and bool(self.record_exception(exc))

    def ignores(self, exc: BaseException) -> bool:
        """Whether ``exc`` counts neither as failure nor as success."""
        if self.ignore_exceptions and isinstance(exc, self.ignore_exceptions):
            return True
        return self.ignore_exception is not None and bool(self.ignore_exception(exc))


# --- sliding windows (resilience4j-core) -------------------------------------------------


class _CountWindow:
    """The last ``size`` outcomes; the oldest is subtracted when a new one arrives."""

    __slots__ = ("size", "ring", "head", "count", "calls", "failed", "slow", "slow_failed")

    def __init__(self, size: int) -> None:
        self.size = size
        self.ring = [0] * size  # per call: bit 0 failed, bit 1 slow
        self.head = 0
        self.count = 0
        self.calls = self.failed = self.slow = self.slow_failed = 0

    def record(self, failed: bool, slow: bool, now_ns: int) -> None:
        if not self.size:
            return  # the empty window of DISABLED / FORCED_OPEN (Java would throw here)
        if self.count == self.size:
            self._subtract(self.ring[self.head])
        else:
            self.count += 1
        code = (1 if failed else 0) | (2 if slow else 0)
        self.ring[self.head] = code
        self.head = (self.head + 1) % self.size
        self.calls += 1
        self.failed += failed
        self.slow += slow
        self.slow_failed += failed and slow

    def _subtract(self, code: int) -> None:
        self.calls -= 1
        self.failed -= code & 1
        self.slow -= (code >> 1) & 1
        self.slow_failed -= code == 3

    def move_to(self, now_ns: int) -> None:
        """A count window does not age with time."""


class _TimeWindow:
    """``size`` one-second buckets keyed by the clock's whole second; a bucket's totals
    leave the window when the clock reaches its second + ``size``."""

    __slots__ = ("size", "seconds", "buckets", "head", "calls", "failed", "slow", "slow_failed")

    def __init__(self, size: int, now_ns: int) -> None:
        self.size = size
        second = now_ns // _NS
        # As in SlidingTimeWindowMetrics: bucket i starts labelled with second + i.
        self.seconds = [second + i for i in range(size)]
        self.buckets = [[0, 0, 0, 0] for _ in range(size)]
        self.head = 0
        self.calls = self.failed = self.slow = self.slow_failed = 0

    def move_to(self, now_ns: int) -> None:
        second = now_ns // _NS
        behind = second - self.seconds[self.head]
        if behind <= 0:
            return
        steps = min(behind, self.size)
        for left in range(steps - 1, -1, -1):
            self.head = (self.head + 1) % self.size
            bucket = self.buckets[self.head]
            self.calls -= bucket[0]
            self.failed -= bucket[1]
            self.slow -= bucket[2]
            self.slow_failed -= bucket[3]
            bucket[0] = bucket[1] = bucket[2] = bucket[3] = 0
            self.seconds[self.head] = second - left

    def record(self, failed: bool, slow: bool, now_ns: int) -> None:
        self.move_to(now_ns)
        bucket = self.buckets[self.head]
        bucket[0] += 1
        bucket[1] += failed
        bucket[2] += slow
        bucket[3] += failed and slow
        self.calls += 1
        self.failed += failed
        self.slow += slow
        self.slow_failed += failed and slow


# Results of a threshold check (CircuitBreakerMetrics.Result).
BELOW_THRESHOLDS = "BELOW_THRESHOLDS"
FAILURE_RATE_ABOVE_THRESHOLDS = "FAILURE_RATE_ABOVE_THRESHOLDS"
SLOW_CALL_RATE_ABOVE_THRESHOLDS = "SLOW_CALL_RATE_ABOVE_THRESHOLDS"
ABOVE_THRESHOLDS = "ABOVE_THRESHOLDS"
BELOW_MINIMUM_CALLS_THRESHOLD = "BELOW_MINIMUM_CALLS_THRESHOLD"


@dataclass(frozen=True)
class Metrics:
    """A snapshot of a breaker's metrics (resilience4j's ``CircuitBreaker.Metrics``).

    Rates are percentages, or -1 while fewer than the minimum number of calls are buffered.
    """

    failure_rate: float
    slow_call_rate: float
    number_of_buffered_calls: int
    number_of_failed_calls: int
    number_of_successful_calls: int
    number_of_slow_calls: int
    number_of_slow_successful_calls: int
    number_of_slow_failed_calls: int
    number_of_not_permitted_calls: int


class _CircuitBreakerMetrics:
    """Window + thresholds of one state, as ``internal/CircuitBreakerMetrics``."""

    __slots__ = (
        "window", "minimum_number_of_calls", "failure_rate_threshold",
        "slow_call_rate_threshold", "slow_call_duration_ns", "not_permitted",
    )  # fmt: skip

    def __init__(self, size: int, window_type: str, config: CircuitBreakerConfig, now_ns: int):
        if window_type == COUNT_BASED:
            self.window: _CountWindow | _TimeWindow = _CountWindow(size)
            self.minimum_number_of_calls = min(config.minimum_number_of_calls, size)
        else:
            self.window = _TimeWindow(size, now_ns)
            self.minimum_number_of_calls = config.minimum_number_of_calls
        self.failure_rate_threshold = _f32(config.failure_rate_threshold)
        self.slow_call_rate_threshold = _f32(config.slow_call_rate_threshold)
        self.slow_call_duration_ns = _ns(config.slow_call_duration_threshold)
        self.not_permitted = 0

    def record(self, failed: bool, duration_ns: int, now_ns: int) -> str:
        self.window.record(failed, duration_ns > self.slow_call_duration_ns, now_ns)
        return self.check()

    def rates(self) -> tuple[float, float]:
        window = self.window
        if window.calls == 0 or window.calls < self.minimum_number_of_calls:
            return -1.0, -1.0
        return _f32(window.failed * 100.0 / window.calls), _f32(window.slow * 100.0 / window.calls)

    def check(self) -> str:
        failure_rate, slow_call_rate = self.rates()
        if failure_rate == -1:
            return BELOW_MINIMUM_CALLS_THRESHOLD
        failing = failure_rate >= self.failure_rate_threshold
        slow = slow_call_rate >= self.slow_call_rate_threshold
        if failing and slow:
            return ABOVE_THRESHOLDS
        if failing:
            return FAILURE_RATE_ABOVE_THRESHOLDS
        if slow:
            return SLOW_CALL_RATE_ABOVE_THRESHOLDS
        return BELOW_THRESHOLDS

    def snapshot(self, now_ns: int) -> Metrics:
        self.window.move_to(now_ns)
        window = self.window
        failure_rate, slow_call_rate = self.rates()
        return Metrics(
            failure_rate=failure_rate,
            slow_call_rate=slow_call_rate,
            number_of_buffered_calls=window.calls,
            number_of_failed_calls=window.failed,
            number_of_successful_calls=window.calls - window.failed,
            number_of_slow_calls=window.slow,
            number_of_slow_successful_calls=window.slow - window.slow_failed,
            number_of_slow_failed_calls=window.slow_failed,
            number_of_not_permitted_calls=self.not_permitted,
        )

    def describe(self, result: str) -> str:
        """The threshold comparison behind ``result``, in words."""
        failure_rate, slow_call_rate = self.rates()
        fr, fr_max = _pct(failure_rate), _pct(self.failure_rate_threshold)
        sr, sr_max = _pct(slow_call_rate), _pct(self.slow_call_rate_threshold)
        if result == ABOVE_THRESHOLDS:
            return f"failure rate {fr} ≥ {fr_max}, slow-call rate {sr} ≥ {sr_max}"
        if result == FAILURE_RATE_ABOVE_THRESHOLDS:
            return f"failure rate {fr} ≥ {fr_max}"
        if result == SLOW_CALL_RATE_ABOVE_THRESHOLDS:
            return f"slow-call rate {sr} ≥ {sr_max}"
        return f"failure rate {fr} < {fr_max}, slow-call rate {sr} < {sr_max}"


# --- the breakers -------------------------------------------------------------------------


class _Breaker:
    """What the three breakers share: a name, a clock, listeners and ``call``."""

    name: str
    source: str = ""
    """Where the rules come from, for labels."""
    call_timeout: float | None = None
    """A timeout the breaker itself imposes on calls (only Hystrix has one)."""

    def __init__(
        self,
        clock: Callable[[], float],
        name: str,
        on_transition: Callable[[Transition], None] | None,
    ) -> None:
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        self._clock = clock
        self.name = name
        self._listeners: list[Callable[[Transition], None]] = (
            [on_transition] if on_transition else []
        )

    def add_listener(self, listener: Callable[[Transition], None]) -> None:
        """Call ``listener(transition)`` on every state change from now on."""
        self._listeners.append(listener)

    def _publish(self, from_state: str, to_state: str, at_ns: int, reason: str) -> None:
        if from_state == to_state or not self._listeners:
            return  # resilience4j publishes no event for a transition to the same state
        event = Transition(self.name, from_state, to_state, at_ns / _NS, reason)
        for listener in self._listeners:
            listener(event)

    def try_acquire_permission(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_success(self, duration: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_error(self, duration: float, exc: BaseException) -> None:  # pragma: no cover
        raise NotImplementedError

    def on_result(self, duration: float, result: Any) -> None:
        """Record a returned value; by default every value is a success."""
        self.on_success(duration)

    def acquire_permission(self) -> None:
        """Like :meth:`try_acquire_permission`, but raise :class:`CallNotPermitted`."""
        if not self.try_acquire_permission():
            raise CallNotPermitted(
                f"circuit breaker {self.name!r} is {self.state} and does not permit further calls"
            )

    @property
    def state(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` through the breaker, timing it with the clock.

        Raises :class:`CallNotPermitted` when rejected; re-raises what ``fn`` raises
        (only ``Exception``s are recorded, as resilience4j records no ``Error``).
        """
        self.acquire_permission()
        start = self._clock()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            self.on_error(self._clock() - start, exc)
            raise
        self.on_result(self._clock() - start, result)
        return result


class CircuitBreaker(_Breaker):
    """resilience4j's ``CircuitBreakerStateMachine``.

    ``clock`` is a callable returning seconds (monotonic, e.g. ``time.monotonic`` or a
    simulation's clock). ``on_transition`` receives a :class:`Transition` per state change.
    """

    source = "resilience4j CircuitBreakerStateMachine"

    def __init__(
        self,
        config: CircuitBreakerConfig | None = None,
        clock: Callable[[], float] | None = None,
        *,
        name: str = "circuit breaker",
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        if clock is None:
            raise TypeError("CircuitBreaker needs a clock: a callable returning seconds")
        super().__init__(clock, name, on_transition)
        self.config = config if config is not None else CircuitBreakerConfig()
        now = self._now_ns()
        self._state = CLOSED
        self._since_ns = now
        self._attempts = 0
        self._metrics = self._closed_metrics(now)
        self._retry_after_ns = 0  # OPEN: calls are permitted strictly after this
        self._auto_half_open_ns: int | None = None  # OPEN: automatic transition due
        self._permits = 0  # HALF_OPEN: trial calls left
        self._half_open_deadline_ns: int | None = None  # HALF_OPEN: max wait due

    # -- reading ------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """CLOSED, OPEN, HALF_OPEN, DISABLED, FORCED_OPEN or METRICS_ONLY."""
        self._fire_timers(self._now_ns())
        return self._state

    @property
    def metrics(self) -> Metrics:
        """The current state's metrics (OPEN keeps the window that tripped it)."""
        now = self._now_ns()
        self._fire_timers(now)
        return self._metrics.snapshot(now)

    @property
    def state_since(self) -> float:
        """Clock time (seconds) at which the current state was entered."""
        self._fire_timers(self._now_ns())
        return self._since_ns / _NS

    @property
    def retry_after(self) -> float | None:
        """In OPEN, the time after which the next call moves the breaker to HALF_OPEN."""
        self._fire_timers(self._now_ns())
        return self._retry_after_ns / _NS if self._state == OPEN else None

    # -- calls ----------------------------------------------------------------------------

    def try_acquire_permission(self) -> bool:
        """Ask to make a call; True if permitted. A rejected call is counted as not
        permitted. In HALF_OPEN a permitted call takes one of the trial permits, so it
        must be followed by ``on_success``/``on_error`` or ``release_permission``."""
        now = self._now_ns()
        self._fire_timers(now)
        state = self._state
        if state in (CLOSED, DISABLED, METRICS_ONLY):
            return True
        if state == OPEN:
            if now > self._retry_after_ns:  # strictly after, as Instant.isAfter
                self._transition(HALF_OPEN, now, f"wait of {self._wait_text()} over")
                return self._take_permit()
            self._metrics.not_permitted += 1
            return False
        if state == HALF_OPEN:
            return self._take_permit()
        self._metrics.not_permitted += 1  # FORCED_OPEN
        return False

    def release_permission(self) -> None:
        """Give back a permission that was acquired but not used (HALF_OPEN only)."""
        self._fire_timers(self._now_ns())
        if self._state == HALF_OPEN:
            self._permits += 1

    def on_success(self, duration: float) -> None:
        """Record a successful call that took ``duration`` seconds."""
        now = self._now_ns()
        self._fire_timers(now)
        self._record(False, _ns(duration), now)

    def on_error(self, duration: float, exc: BaseException) -> None:
        """Record a call that raised ``exc`` after ``duration`` seconds.

        Ignored exceptions give a HALF_OPEN permit back and count neither way; exceptions
        that are not recorded count as successes (``handleThrowable``)."""
        now = self._now_ns()
        self._fire_timers(now)
        if self.config.ignores(exc):
            if self._state == HALF_OPEN:
                self._permits += 1
            return
        self._record(self.config.records(exc), _ns(duration), now)

    def on_result(self, duration: float, result: Any) -> None:
        """Record a returned value: a failure if ``record_result`` says so, else a success."""
        predicate = self.config.record_result
        if result is not None and predicate is not None and predicate(result):
            now = self._now_ns()
            self._fire_timers(now)
            self._record(True, _ns(duration), now)
        else:
            self.on_success(duration)

    # -- explicit transitions -----------------------------------------------------------

    def transition_to_closed_state(self) -> None:
        """Force CLOSED with fresh metrics."""
        self._manual(CLOSED)

    def transition_to_open_state(self) -> None:
        """Force OPEN (restarts the wait; keeps the current metrics)."""
        self._manual(OPEN)

    def transition_to_half_open_state(self) -> None:
        """Force HALF_OPEN; raises :class:`IllegalStateTransition` from CLOSED or METRICS_ONLY."""
        self._manual(HALF_OPEN)

    def transition_to_disabled_state(self) -> None:
        """Pass every call and record nothing until another explicit transition."""
        self._manual(DISABLED)

    def transition_to_forced_open_state(self) -> None:
        """Reject every call until another explicit transition."""
        self._manual(FORCED_OPEN)

    def transition_to_metrics_only_state(self) -> None:
        """Pass every call and keep metrics, but never change state by itself."""
        self._manual(METRICS_ONLY)

    def reset(self) -> None:
        """Back to a fresh CLOSED state from any state, dropping all metrics."""
        now = self._now_ns()
        self._fire_timers(now)
        previous = self._state
        self._enter(CLOSED, now)
        self._publish(previous, CLOSED, now, "reset()")

    # -- internals --------------------------------------------------------------------------

    def _now_ns(self) -> int:
        return _ns(self._clock())

    def _closed_metrics(self, now_ns: int) -> _CircuitBreakerMetrics:
        config = self.config
        return _CircuitBreakerMetrics(
            config.sliding_window_size, config.sliding_window_type, config, now_ns
        )

    def _wait_ns(self, attempts: int) -> int:
        function = self.config.wait_interval_function_in_open_state
        seconds = function(attempts) if function else self.config.wait_duration_in_open_state
        return _ns(seconds) // _MS * _MS  # resilience4j waits in whole milliseconds

    def _wait_text(self) -> str:
        return _secs(self._wait_ns(self._attempts))

    def _take_permit(self) -> bool:
        if self._permits > 0:
            self._permits -= 1
            return True
        self._metrics.not_permitted += 1
        return False

    def _record(self, failed: bool, duration_ns: int, now_ns: int) -> None:
        state = self._state
        if state in (DISABLED, FORCED_OPEN):
            return
        result = self._metrics.record(failed, duration_ns, now_ns)
        if state == CLOSED:
            if result not in (BELOW_THRESHOLDS, BELOW_MINIMUM_CALLS_THRESHOLD):
                self._transition(OPEN, now_ns, self._metrics.describe(result))
        elif state == HALF_OPEN:
            trials = self._metrics.window.calls
            if result not in (BELOW_THRESHOLDS, BELOW_MINIMUM_CALLS_THRESHOLD):
                reason = f"{self._metrics.describe(result)} in {trials} trial calls"
                self._transition(OPEN, now_ns, reason)
            elif result == BELOW_THRESHOLDS:
                reason = f"{self._metrics.describe(result)} in {trials} trial calls"
                self._transition(CLOSED, now_ns, reason)
        # OPEN records late outcomes of calls permitted before it tripped; METRICS_ONLY
        # records and never changes state.

    def _manual(self, to_state: str) -> None:
        now = self._now_ns()
        self._fire_timers(now)
        self._transition(to_state, now, f"transition_to_{to_state.lower()}_state()")

    def _transition(self, to_state: str, at_ns: int, reason: str) -> None:
        from_state = self._state
        if (from_state, to_state) not in _LEGAL_TRANSITIONS:
            raise IllegalStateTransition(
                f"circuit breaker {self.name!r} cannot go from {from_state} to {to_state}"
            )
        self._enter(to_state, at_ns)
        self._publish(from_state, to_state, at_ns, reason)

    def _enter(self, state: str, at_ns: int) -> None:
        config = self.config
        self._auto_half_open_ns = None
        self._half_open_deadline_ns = None
        if state == CLOSED:
            self._attempts = 0
            self._metrics = self._closed_metrics(at_ns)
        elif state == OPEN:
            # Like OpenState: keeps the metrics of the state it came from.
            self._attempts += 1
            self._retry_after_ns = at_ns + self._wait_ns(self._attempts)
            if config.automatic_transition_from_open_to_half_open_enabled:
                self._auto_half_open_ns = self._retry_after_ns
        elif state == HALF_OPEN:
            permitted = config.permitted_number_of_calls_in_half_open_state
            self._metrics = _CircuitBreakerMetrics(permitted, COUNT_BASED, config, at_ns)
            self._permits = permitted
            max_wait_ms = _ns(config.max_wait_duration_in_half_open_state) // _MS
            if max_wait_ms >= 1:
                self._half_open_deadline_ns = at_ns + max_wait_ms * _MS
        elif state == METRICS_ONLY:
            self._attempts = 0
            self._metrics = self._closed_metrics(at_ns)
        else:  # DISABLED, FORCED_OPEN: empty metrics that only count rejections
            self._attempts = self._attempts + 1 if state == FORCED_OPEN else 0
            self._metrics = _CircuitBreakerMetrics(0, COUNT_BASED, config, at_ns)
        self._state = state
        self._since_ns = at_ns

    def _fire_timers(self, now_ns: int) -> None:
        # Apply scheduled transitions that are due, each at its own due time, in order.
        while True:
            if self._auto_half_open_ns is not None and now_ns >= self._auto_half_open_ns:
                self._transition(
                    HALF_OPEN,
                    self._auto_half_open_ns,
                    f"wait of {self._wait_text()} over (automatic transition)",
                )
            elif self._half_open_deadline_ns is not None and now_ns >= self._half_open_deadline_ns:
                wait = _secs(_ns(self.config.max_wait_duration_in_half_open_state) // _MS * _MS)
                self._transition(
                    self.config.transition_to_state_after_wait_duration,
                    self._half_open_deadline_ns,
                    f"no decision within the maximum wait of {wait} in HALF_OPEN",
                )
            else:
                return

"""Two contrast breakers with the same small interface as ``breaker.CircuitBreaker``:
pybreaker's consecutive-failure breaker and Netflix Hystrix's. The demo's "Breaker"
choice swaps them in, so the reader can compare them with resilience4j on one outage.

Standalone and stdlib-only, like ``breaker.py``, whose timer and transition machinery
(``_Breaker``) they share.
"""

from __future__ import annotations

from collections.abc import Callable

from .breaker import _MS, CLOSED, HALF_OPEN, OPEN, Transition, _Breaker, _ns

__all__ = ["ConsecutiveFailureBreaker", "HystrixBreaker"]


class ConsecutiveFailureBreaker(_Breaker):
    """pybreaker's breaker (danielfm/pybreaker, ``CircuitBreaker(fail_max=5, reset_timeout=60)``).

    CLOSED counts consecutive failures (a success resets the count) and opens when the
    count reaches ``fail_max``. OPEN rejects until ``reset_timeout`` has passed (a call at
    exactly ``opened_at + reset_timeout`` goes through), then lets one trial call run in
    HALF_OPEN: success closes, failure re-opens. ``exclude`` lists exception classes that
    count as successes. pybreaker holds a lock for the whole call, so a second caller waits;
    here a second caller during the trial is rejected instead.
    """

    source = "pybreaker CircuitBreaker(fail_max=5, reset_timeout=60)"

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        fail_max: int = 5,
        reset_timeout: float = 60.0,
        exclude: tuple[type[BaseException], ...] = (),
        name: str = "circuit breaker",
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        super().__init__(clock, name, on_transition)
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self.exclude = tuple(exclude)
        self.fail_counter = 0
        self.not_permitted = 0
        self._state = CLOSED
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """CLOSED, OPEN or HALF_OPEN (pybreaker spells them closed, open, half-open)."""
        return self._state

    def try_acquire_permission(self) -> bool:
        """True if the call may run; rejected calls are counted in ``not_permitted``."""
        now = self._clock()
        if self._state == OPEN:
            if now < self._opened_at + self.reset_timeout:
                self.not_permitted += 1
                return False
            self._move(HALF_OPEN, now, f"reset_timeout of {self.reset_timeout:g} s over")
        if self._state == HALF_OPEN:
            if self._trial_in_flight:
                self.not_permitted += 1
                return False
            self._trial_in_flight = True
        return True

    def on_success(self, duration: float) -> None:
        """A success resets the failure count; in HALF_OPEN it closes the breaker."""
        self.fail_counter = 0
        if self._state == HALF_OPEN:
            self._move(CLOSED, self._clock(), "trial call succeeded")

    def on_error(self, duration: float, exc: BaseException) -> None:
        """A failure counts; excluded exceptions count as successes."""
        if self.exclude and isinstance(exc, self.exclude):
            self.on_success(duration)
            return
        self.fail_counter += 1
        now = self._clock()
        if self._state == HALF_OPEN:
            self._move(OPEN, now, "trial call failed")
        elif self._state == CLOSED and self.fail_counter >= self.fail_max:
            self._move(OPEN, now, f"{self.fail_counter} consecutive failures ≥ {self.fail_max}")

    def _move(self, to_state: str, now: float, reason: str) -> None:
        from_state = self._state
        self._state = to_state
        self._trial_in_flight = False
        if to_state == OPEN:
            self._opened_at = now
        elif to_state == CLOSED:
            self.fail_counter = 0
        self._publish(from_state, to_state, _ns(now), reason)


class HystrixBreaker(_Breaker):
    """Netflix Hystrix's breaker (``HystrixCircuitBreaker.HystrixCircuitBreakerImpl``) with
    its defaults: request volume 20, 50 % errors, 5 s sleep window, one trial call.

    Health counts cover a rolling 10 s window and are re-checked every 500 ms (the health
    snapshot interval), not after every call; only completed 500 ms buckets count. The
    error percentage is truncated to an integer. A call longer than the 1 s execution
    timeout counts as a timeout error. While OPEN, the first call strictly after the sleep
    window is the single trial (HALF_OPEN); every other call is rejected. Any success in
    HALF_OPEN closes the breaker and clears the window; any failure re-opens it.
    """

    source = "Hystrix HystrixCircuitBreakerImpl (volume 20, 50 %, sleep 5 s)"

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        request_volume_threshold: int = 20,
        error_threshold_percentage: int = 50,
        sleep_window: float = 5.0,
        rolling_window: float = 10.0,
        health_snapshot_interval: float = 0.5,
        execution_timeout: float = 1.0,
        name: str = "circuit breaker",
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        super().__init__(clock, name, on_transition)
        self.request_volume_threshold = request_volume_threshold
        self.error_threshold_percentage = error_threshold_percentage
        self.sleep_window = sleep_window
        self.call_timeout = execution_timeout
        self._interval_ns = _ns(health_snapshot_interval)
        self._buckets_in_window = max(1, round(rolling_window / health_snapshot_interval))
        self._buckets: dict[int, list[int]] = {}  # bucket index -> [total, errors]
        self._checked = _ns(clock()) // self._interval_ns  # last health snapshot taken
        self._state = CLOSED
        self._opened_ns = 0
        self.not_permitted = 0

    @property
    def state(self) -> str:
        """CLOSED, OPEN or HALF_OPEN."""
        self._take_snapshots(_ns(self._clock()))
        return self._state

    def health_counts(self) -> tuple[int, int, int]:
        """(total requests, errors, error percentage) of the latest health snapshot."""
        now = _ns(self._clock())
        self._take_snapshots(now)
        return self._counts(now // self._interval_ns)

    def try_acquire_permission(self) -> bool:
        """``attemptExecution``: CLOSED passes; OPEN passes one call after the sleep window."""
        now = _ns(self._clock())
        self._take_snapshots(now)
        if self._state == CLOSED:
            return True
        if self._state == OPEN and (now - self._opened_ns) // _MS > self.sleep_window * 1000:
            self._move(HALF_OPEN, now, f"sleep window of {self.sleep_window:g} s over")
            return True
        self.not_permitted += 1
        return False

    def on_success(self, duration: float) -> None:
        """Count a success, or a timeout if it took longer than the execution timeout."""
        if duration > self.call_timeout:
            self.on_error(duration, TimeoutError("execution timeout"))
            return
        now = _ns(self._clock())
        self._take_snapshots(now)
        self._count(now, error=False)
        if self._state == HALF_OPEN:
            self._buckets.clear()  # metrics.resetStream()
            self._move(CLOSED, now, "trial call succeeded")

    def on_error(self, duration: float, exc: BaseException) -> None:
        """Count a failure (or timeout); in HALF_OPEN re-open."""
        now = _ns(self._clock())
        self._take_snapshots(now)
        self._count(now, error=True)
        if self._state == HALF_OPEN:
            self._move(OPEN, now, "trial call failed")

    def _count(self, now_ns: int, error: bool) -> None:
        bucket = self._buckets.setdefault(now_ns // self._interval_ns, [0, 0])
        bucket[0] += 1
        bucket[1] += error

    def _counts(self, snapshot: int) -> tuple[int, int, int]:
        total = errors = 0
        for index in range(snapshot - self._buckets_in_window, snapshot):
            bucket = self._buckets.get(index)
            if bucket:
                total += bucket[0]
                errors += bucket[1]
        percentage = int(errors / total * 100) if total else 0
        return total, errors, percentage

    def _take_snapshots(self, now_ns: int) -> None:
        current = now_ns // self._interval_ns
        if current <= self._checked:
            return
        # Only snapshots whose window holds data can trip; skip the empty stretch.
        first = self._checked + 1
        if self._buckets:
            first = max(first, min(self._buckets) + 1)
            last = min(current, max(self._buckets) + self._buckets_in_window)
        else:
            last = first - 1
        for snapshot in range(first, last + 1):
            if self._state != CLOSED:
                break  # open() is a no-op in OPEN and HALF_OPEN
            total, _, percentage = self._counts(snapshot)
            if total >= self.request_volume_threshold and (
                percentage >= self.error_threshold_percentage
            ):
                reason = (
                    f"error percentage {percentage} % ≥ {self.error_threshold_percentage} % "
                    f"over {total} requests"
                )
                self._move(OPEN, snapshot * self._interval_ns, reason)
        self._checked = current
        oldest = current - self._buckets_in_window
        for index in [i for i in self._buckets if i < oldest]:
            del self._buckets[index]

    def _move(self, to_state: str, at_ns: int, reason: str) -> None:
        from_state = self._state
        self._state = to_state
        if to_state == OPEN:
            self._opened_ns = at_ns
        self._publish(from_state, to_state, at_ns, reason)

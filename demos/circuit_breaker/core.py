"""The booking flow of the Grab talk as a discrete-event simulation.

A passenger's booking calls, in order: rating (only if the last ride is still unrated: the
"rate your driver" dialog stands in front of the next booking), geofence & city data,
promotions, dispatch and, for cashless riders, payment. Dispatch and geofence data are on
the critical path; rating, promotions and cashless payment are not. With fallbacks, a
failed or rejected off-path call is skipped (payment falls back to cash) and geofence data
comes from a cache; without them any failed call fails the booking.

Two copies of the flow run side by side on the same pre-drawn randomness: the *main*
flow with the reader's settings and a *shadow* flow with no breakers and no fallbacks, so
both completion numbers can be shown. Time is simulated; events run in (time, seq) order
(``demokit.events``); all randomness comes from the ``random.Random`` passed in. A
booking in progress is data (a :class:`Booking`), not a generator, so the whole state
can be copied for the runner's checkpoints.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from demokit.events import EventQueue

from .breaker import CircuitBreaker, CircuitBreakerConfig, Transition
from .contrast import ConsecutiveFailureBreaker, HystrixBreaker

STEP = 0.25
"""Simulated seconds per step."""
CLIENT_TIMEOUT = 5.0
"""The app gives up on a dependency call after this many seconds."""
PATIENCE = 3.0
"""A passenger abandons a booking that has not gone through after this many seconds."""
SLOW_LATENCY = 3.0
"""Mean latency, in seconds, of a dependency slowed down by the "slow" action."""
PASSENGERS = 400
CASHLESS_SHARE = 0.5
"""Share of passengers who pay cashless (cash is common where Grab operates)."""
UNRATED_SHARE = 0.8
"""Share of passengers whose last ride is still unrated when the run starts."""
SHARE_WINDOW = 20
"""Seconds over which the completed-bookings share is measured."""
HISTORY = 90
"""Seconds of history kept for the charts."""
MAX_TIME = 3600.0
"""The run ends after this many simulated seconds."""
EWMA = 0.05
"""Weight of a new call in the running mean latency."""

NO_BREAKER = "NONE"


@dataclass(frozen=True)
class Dependency:
    """A service the booking flow calls."""

    name: str
    label: str
    critical: bool
    fallback: str
    """What a fallback does: "cache", "skip", "cash" or "" (none)."""
    latency_ms: int
    """Default mean latency."""


DEPENDENCIES = (
    Dependency("dispatch", "Dispatch", True, "", 400),
    Dependency("geofence", "Geofence & city data", True, "cache", 60),
    Dependency("rating", "Rating", False, "skip", 100),
    Dependency("payment", "Cashless payment", False, "cash", 250),
    Dependency("promotions", "Promotions", False, "skip", 150),
)
_INDEX = {dep.name: i for i, dep in enumerate(DEPENDENCIES)}
DISPATCH, GEOFENCE, RATING, PAYMENT, PROMOTIONS = range(len(DEPENDENCIES))

# Outcomes of one dependency call, as the booking sees it.
OK, FAILED, REJECTED, ABANDONED = "ok", "failed", "rejected", "abandoned"

OPERATOR_ACTIONS = {
    "force_open": "transition_to_forced_open_state",
    "disable": "transition_to_disabled_state",
    "metrics_only": "transition_to_metrics_only_state",
    "reset": "reset",
}
"""The demo's operator actions and the resilience4j ``CircuitBreaker`` method of each."""

_MARKED = {"OPEN": "breaker_opened", "CLOSED": "breaker_closed", "FORCED_OPEN": "forced_open"}
"""Breaker states whose entry a timeline marks, and the mark's name."""

# Event kinds. Ties in time run in scheduling order (the sequence number).
_ARRIVAL, _RESUME, _OUTCOME = 0, 1, 2

_TIMEOUT_ERROR = TimeoutError("no answer before the client timeout")
_CALL_ERROR = ConnectionError("dependency returned an error")


@dataclass
class Health:
    """What the reader did to a dependency with the break / slow / heal buttons."""

    broken: bool = False
    """Outage: calls get no answer and time out."""
    slowed: bool = False


@dataclass
class DependencyStats:
    """Counters for one dependency in one flow."""

    passed: int = 0
    """Calls that went out (not rejected by a breaker)."""
    failed: int = 0
    """Calls that returned an error or timed out."""
    slow: int = 0
    """Calls slower than the slow-call duration threshold."""
    rejected: int = 0
    """Calls a breaker refused."""
    fallback: int = 0
    """Failed or rejected calls covered by the fallback (cache, skip, cash)."""
    latency: float = 0.0
    """Running mean of the seconds a caller waited per call (a rejection waits 0)."""

    def observe(self, seconds: float) -> None:
        self.latency += EWMA * (seconds - self.latency)


class Flow:
    """One copy of the booking flow: its breakers, fallbacks, passengers and counters."""

    def __init__(self, name: str, unrated: bytearray) -> None:
        self.name = name
        self.breakers: dict[int, Any] = {}
        self.fallbacks = False
        self.unrated = bytearray(unrated)
        self.stats = [DependencyStats() for _ in DEPENDENCIES]
        self.started = 0
        self.completed = 0
        self.abandoned = 0
        self.failed = 0
        self.blocked_by_rating = 0
        """Bookings that ended at the rating step (failed or given up)."""
        self.booking_time = 0.0
        """Running mean of the seconds a completed booking took."""
        self.finished_per_second: list[int] = []
        self.completed_per_second: list[int] = []

    def finish(self, at: float, completed: bool) -> None:
        second = int(at)
        while len(self.finished_per_second) <= second:
            self.finished_per_second.append(0)
            self.completed_per_second.append(0)
        self.finished_per_second[second] += 1
        self.completed_per_second[second] += completed

    def share(self, now: float, window: int = SHARE_WINDOW) -> float | None:
        """Completed / finished bookings over the last ``window`` seconds, or None."""
        end = min(int(now), len(self.finished_per_second) - 1)
        start = max(0, int(now) - window + 1)
        finished = sum(self.finished_per_second[start : end + 1])
        if not finished:
            return None
        return sum(self.completed_per_second[start : end + 1]) / finished

    @property
    def total_share(self) -> float | None:
        """Completed / finished bookings over the whole run."""
        finished = self.completed + self.abandoned + self.failed
        return self.completed / finished if finished else None


@dataclass(frozen=True)
class _Draw:
    """The randomness of one booking, drawn once and used by both flows."""

    passenger: int
    fate: tuple[float, ...]
    """Per dependency: the call fails if this is below the failure rate at call time."""
    jitter: tuple[float, ...]
    """Per dependency: latency = mean × (0.6 + 0.8 × jitter)."""


@dataclass(eq=False)
class Booking:
    """One passenger's booking in one flow: where it is in its plan of calls."""

    flow: Flow
    draw: _Draw
    start: float
    plan: list[int] = field(default_factory=list)
    """Dependencies to call, in order."""
    index: int = 0
    """The call in progress, or the next one."""
    pending: str | None = None
    """The outcome of the call being waited for (known when it started)."""

    @property
    def deadline(self) -> float:
        return self.start + PATIENCE


class BookingSimulation:
    """The demo's simulation (see ``demokit.Simulation``); ``view.render`` draws it."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        self.params = dict(params)
        self.rng = rng
        self.now = 0.0
        self.done = False
        self.steps = 0
        self.calls = 0
        """Dependency calls simulated so far (both flows, rejected ones included)."""
        self.health = [Health() for _ in DEPENDENCIES]
        self.log: list[str] = []
        self.marks: list[tuple[float, str, str]] = []
        """Notable events for a timeline: (time, name, detail); main flow only."""
        self.timelines: list[list[tuple[float, str]]] = [[] for _ in DEPENDENCIES]
        """Per dependency: (time, breaker state) changes of the main flow."""
        self._queue = EventQueue()

        self.cashless = bytearray(rng.random() < CASHLESS_SHARE for _ in range(PASSENGERS))
        unrated = bytearray(rng.random() < UNRATED_SHARE for _ in range(PASSENGERS))
        self.main = Flow("main", unrated)
        self.shadow = Flow("shadow", unrated)
        self.main.fallbacks = bool(self.params["fallbacks"])
        self._build_breakers(bool(self.params["breakers"]), announce=False)
        self._schedule(rng.expovariate(self._arrival_rate()), _ARRIVAL, None)

    # -- the Simulation protocol --------------------------------------------------------------

    def step(self) -> None:
        """Run every event up to the end of the next step."""
        self.steps += 1
        end = self.steps * STEP
        queue = self._queue
        while (event := queue.pop_until(end)) is not None:
            self.now = event.time
            kind, payload = event.kind, event.payload
            if kind == _RESUME:
                self._resume(payload)
            elif kind == _OUTCOME:
                self._outcome(*payload)
            else:
                self._arrive()
        self.now = end
        for breaker in self.main.breakers.values():
            breaker.state  # noqa: B018 - fires due timers so the timeline shows them on time
        if self.steps % 40 == 0:
            self._prune_timelines()
        if self.now >= MAX_TIME:
            self.done = True

    def act(self, action: str, arg: str | None) -> None:
        """``break`` / ``slow`` / ``heal`` a dependency named by ``arg``, or one of the
        operator's actions on its breaker (:data:`OPERATOR_ACTIONS`)."""
        if action not in ("break", "slow", "heal", *OPERATOR_ACTIONS):
            allowed = ", ".join(("break", "slow", "heal", *OPERATOR_ACTIONS))
            raise ValueError(f"unknown action {action!r}; allowed: {allowed}")
        name = arg or "rating"
        if name not in _INDEX:
            raise ValueError(f"unknown dependency {name!r}; allowed: {', '.join(_INDEX)}")
        if action in OPERATOR_ACTIONS:
            self._operate(action, name)
            return
        health = self.health[_INDEX[name]]
        if action == "break":
            health.broken = True
            self._log(f"{name} broken: calls get no answer until the {CLIENT_TIMEOUT:g} s timeout")
        elif action == "slow":
            health.slowed = True
            self._log(f"{name} slowed: answers take about {SLOW_LATENCY:g} s")
        else:
            health.broken = health.slowed = False
            self._log(f"{name} healed")

    def _operate(self, action: str, name: str) -> None:
        """What an operator does to a breaker during an incident, through resilience4j's
        ``transitionTo...State()`` and ``reset()`` (main flow only)."""
        breaker = self.main.breakers.get(_INDEX[name])
        if breaker is None:
            self._log(f"{name} has no breaker: turn circuit breakers on first")
            return
        method = getattr(breaker, OPERATOR_ACTIONS[action], None)
        if method is None:
            self._log(f"{name}: only resilience4j's breaker takes operator actions")
            return
        method()

    def set_param(self, name: str, value: Any) -> None:
        """Apply a live parameter change."""
        self.params[name] = value
        if name == "breakers" and bool(value) != bool(self.main.breakers):
            self._build_breakers(bool(value), announce=True)
        elif name == "fallbacks":
            self.main.fallbacks = bool(value)
            self._log(f"fallbacks {'on' if value else 'off'}")

    # -- breakers ------------------------------------------------------------------------------

    def breaker_config(self) -> CircuitBreakerConfig:
        """The resilience4j configuration the parameters describe."""
        p = self.params
        return CircuitBreakerConfig(
            failure_rate_threshold=p["failure_rate_threshold"],
            slow_call_rate_threshold=p["slow_call_rate_threshold"],
            slow_call_duration_threshold=p["slow_call_duration_threshold"],
            wait_duration_in_open_state=p["wait_duration_in_open_state"],
            permitted_number_of_calls_in_half_open_state=p[
                "permitted_number_of_calls_in_half_open_state"
            ],
            sliding_window_type=p["sliding_window_type"],
            sliding_window_size=p["sliding_window_size"],
            minimum_number_of_calls=p["minimum_number_of_calls"],
        )

    def _build_breakers(self, enabled: bool, announce: bool) -> None:
        self.main.breakers = {}
        mode = self.params["breaker_mode"]
        if enabled:
            config = self.breaker_config() if mode == "resilience4j" else None
            for i, dep in enumerate(DEPENDENCIES):
                self.main.breakers[i] = self._new_breaker(mode, config, dep.name)
        state = "CLOSED" if enabled else NO_BREAKER
        for timeline in self.timelines:
            timeline.append((self.now, state))
        if announce:
            self._log(f"circuit breakers {'on (' + mode + ')' if enabled else 'off'}")

    def _new_breaker(self, mode: str, config: CircuitBreakerConfig | None, name: str) -> Any:
        clock = self._clock
        if mode == "pybreaker":
            return ConsecutiveFailureBreaker(clock, name=name, on_transition=self._on_transition)
        if mode == "hystrix":
            return HystrixBreaker(clock, name=name, on_transition=self._on_transition)
        return CircuitBreaker(config, clock, name=name, on_transition=self._on_transition)

    def _clock(self) -> float:
        return self.now

    def _on_transition(self, event: Transition) -> None:
        i = _INDEX[event.name]
        self.timelines[i].append((event.at, event.to_state))
        self._log(
            f"{event.name}: {event.from_state} → {event.to_state} ({event.reason})", at=event.at
        )
        if event.to_state in _MARKED:
            self.marks.append((event.at, _MARKED[event.to_state], f"{event.name}: {event.reason}"))

    # -- events ----------------------------------------------------------------------------------

    def _schedule(self, at: float, kind: int, payload: Any) -> None:
        self._queue.schedule(at, kind, payload)

    def _arrival_rate(self) -> float:
        return float(self.params["bookings_per_second"])

    def _arrive(self) -> None:
        rng = self.rng
        count = len(DEPENDENCIES)
        draw = _Draw(
            passenger=rng.randrange(PASSENGERS),
            fate=tuple(rng.random() for _ in range(count)),
            jitter=tuple(rng.random() for _ in range(count)),
        )
        for flow in (self.main, self.shadow):
            flow.started += 1
            booking = Booking(flow, draw, self.now)
            booking.plan = [GEOFENCE, PROMOTIONS, DISPATCH]
            if flow.unrated[draw.passenger]:
                booking.plan.insert(0, RATING)
            if self.cashless[draw.passenger]:
                booking.plan.append(PAYMENT)
            self._resume(booking)
        self._schedule(self.now + rng.expovariate(self._arrival_rate()), _ARRIVAL, None)

    def _resume(self, booking: Booking) -> None:
        """Carry a booking on until it waits for a call or ends."""
        if booking.pending is not None:
            outcome, booking.pending = booking.pending, None
            if self._after_call(booking, outcome):
                return
            booking.index += 1
        while booking.index < len(booking.plan):
            outcome, wait = self._call(booking)
            if wait is not None:
                booking.pending = outcome
                self._schedule(self.now + wait, _RESUME, booking)
                return
            if self._after_call(booking, outcome):
                return
            booking.index += 1
        flow = booking.flow
        flow.completed += 1
        flow.booking_time += EWMA * (self.now - booking.start - flow.booking_time)
        flow.unrated[booking.draw.passenger] = 1  # the ride happens; its rating dialog comes next
        flow.finish(self.now, True)

    def _outcome(
        self, flow: Flow, i: int, breaker: Any, duration: float, error: BaseException | None
    ) -> None:
        stats = flow.stats[i]
        if error is not None:
            stats.failed += 1
        if duration > self.params["slow_call_duration_threshold"]:
            stats.slow += 1
        # A breaker replaced by a toggle since the call started is no longer listened to.
        if breaker is not None and flow.breakers.get(i) is breaker:
            if error is None:
                breaker.on_success(duration)
            else:
                breaker.on_error(duration, error)

    # -- the booking ---------------------------------------------------------------------------

    def _after_call(self, booking: Booking, outcome: str) -> bool:
        """What a call's outcome does to its booking; True if the booking ended."""
        flow = booking.flow
        i = booking.plan[booking.index]
        if outcome == ABANDONED or (
            outcome != OK and not (flow.fallbacks and DEPENDENCIES[i].fallback)
        ):
            if outcome == ABANDONED:
                flow.abandoned += 1
            else:
                flow.failed += 1
            if i == RATING:
                flow.blocked_by_rating += 1  # the rate-your-driver dialog stays up
            flow.finish(self.now, False)
            return True
        if outcome != OK:
            flow.stats[i].fallback += 1
        if i == RATING:
            flow.unrated[booking.draw.passenger] = 0
        return False

    def _call(self, booking: Booking) -> tuple[str, float | None]:
        """Start the booking's current call: its outcome (OK, FAILED, REJECTED or
        ABANDONED) and how long the passenger waits for it (None: not at all)."""
        flow, draw, deadline = booking.flow, booking.draw, booking.deadline
        i = booking.plan[booking.index]
        self.calls += 1
        stats = flow.stats[i]
        breaker = flow.breakers.get(i)
        now = self.now
        if breaker is not None and not breaker.try_acquire_permission():
            stats.rejected += 1
            stats.observe(0.0)
            return REJECTED, None
        timeout = CLIENT_TIMEOUT
        if breaker is not None and breaker.call_timeout is not None:
            timeout = min(timeout, breaker.call_timeout)
        health = self.health[i]
        error: BaseException | None = None
        if health.broken:
            duration, error = timeout, _TIMEOUT_ERROR
        else:
            name = DEPENDENCIES[i].name
            mean = SLOW_LATENCY if health.slowed else self.params[f"{name}_latency_ms"] / 1000
            duration = mean * (0.6 + 0.8 * draw.jitter[i])
            if duration > timeout:
                duration, error = timeout, _TIMEOUT_ERROR
            elif draw.fate[i] * 100 < self.params[f"{name}_failure_rate"]:
                error = _CALL_ERROR
        stats.passed += 1
        # The breaker hears about the call when it ends, even if the passenger left.
        self._schedule(now + duration, _OUTCOME, (flow, i, breaker, duration, error))
        if now + duration > deadline:
            stats.observe(deadline - now)
            return ABANDONED, max(0.0, deadline - now)
        stats.observe(duration)
        return (OK if error is None else FAILED), duration

    # -- bookkeeping -------------------------------------------------------------------------

    def _log(self, text: str, at: float | None = None) -> None:
        when = self.now if at is None else at
        self.log.append(f"{when:.1f} s · {text}")
        if len(self.log) > 24:
            del self.log[:-12]

    def _prune_timelines(self) -> None:
        horizon = self.now - HISTORY
        for timeline in self.timelines:
            # Keep the last change before the horizon: it gives the state at the horizon.
            cut = 0
            while cut + 1 < len(timeline) and timeline[cut + 1][0] <= horizon:
                cut += 1
            if cut:
                del timeline[:cut]

    # -- reading ---------------------------------------------------------------------------------

    def breaker_state(self, i: int) -> str:
        """The main flow's breaker state for dependency ``i`` (NONE without a breaker)."""
        timeline = self.timelines[i]
        return timeline[-1][1] if timeline else NO_BREAKER


def create(params: dict, rng: random.Random) -> BookingSimulation:
    """Build the simulation from validated parameters and a seeded generator."""
    return BookingSimulation(params, rng)

"""A deterministic event queue for demo cores, in the manner of SimPy's kernel.

Events are kept as ``(time, seq, event)``: ties in time run in the order they were
scheduled, and ``seq`` is unique, so two events are never compared. An event is data
(a ``kind`` the core dispatches on and a ``payload``), never a closure: a core that
queues only data can be copied with :func:`copy.deepcopy`, which is what the runner's
checkpoints do. Stdlib only; runs on CPython 3.11 and Pyodide's 3.14.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "EventQueue"]


@dataclass(eq=False)
class Event:
    """A queued happening. ``cancel()`` it and the queue skips it without a trace."""

    time: float
    kind: Any
    """What the core dispatches on, e.g. "deliver" or a small int."""
    payload: Any = None
    seq: int = 0
    cancelled: bool = False

    def cancel(self) -> None:
        """Withdraw the event; cancelling twice, or after it ran, does nothing."""
        self.cancelled = True


class EventQueue:
    """Events ordered by ``(time, seq)``; cancelled events are dropped lazily."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Event]] = []
        self._seq = 0

    def schedule(self, time: float, kind: Any, payload: Any = None) -> Event:
        """Queue an event of ``kind`` at simulated ``time``; returns its handle."""
        if time != time:  # NaN would break the heap's order for good
            raise ValueError(f"event time {time!r} is not a number")
        self._seq += 1
        event = Event(time, kind, payload, self._seq)
        heapq.heappush(self._heap, (time, self._seq, event))
        return event

    def _skip_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)

    def peek(self) -> float | None:
        """The time of the next live event, or None when there is none."""
        self._skip_cancelled()
        return self._heap[0][0] if self._heap else None

    def pop(self) -> Event:
        """Remove and return the next live event; IndexError when there is none."""
        self._skip_cancelled()
        if not self._heap:
            raise IndexError("pop from an empty event queue")
        return heapq.heappop(self._heap)[2]

    def pop_until(self, end: float) -> Event | None:
        """The next live event at or before ``end``, removed; None if there is none."""
        self._skip_cancelled()
        if self._heap and self._heap[0][0] <= end:
            return heapq.heappop(self._heap)[2]
        return None

    def __bool__(self) -> bool:
        self._skip_cancelled()
        return bool(self._heap)

    def __len__(self) -> int:
        """Live events queued (cancelled ones not counted)."""
        return sum(1 for _, _, event in self._heap if not event.cancelled)

    def __iter__(self) -> Iterator[Event]:
        """Live events in the heap's storage order: deterministic, not time order."""
        return (event for _, _, event in self._heap if not event.cancelled)

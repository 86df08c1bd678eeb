"""Wall-clock limits for work a contributor's input can make slow: a demo's preview,
and Markdown itself (Python-Markdown slows down badly on, say, a long run of '[')."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


class Deadline:
    """Raise ``error()`` in the main thread once ``seconds`` have passed after
    :meth:`start`, unless :meth:`stop` came first. Off the main thread (``mkdocs serve``
    builds in one) it does nothing: signals reach only the main thread."""

    def __init__(self, seconds: float, error: Callable[[], BaseException]) -> None:
        self.seconds = seconds
        self.error = error
        self._previous = None
        self._armed = False

    def _fire(self, signum, frame) -> None:
        if self._armed:
            self._armed = False
            raise self.error()

    def start(self) -> None:
        self.stop()
        if threading.current_thread() is not threading.main_thread():
            return
        if not hasattr(signal, "setitimer"):
            return
        self._previous = signal.signal(signal.SIGALRM, self._fire)
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def stop(self) -> None:
        if self._previous is None:
            return
        self._armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self._previous = None

    def __enter__(self) -> Deadline:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

"""Time as the simulated mesh sees it: the wall clock in the app, a hand-driven clock in tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds``; False as soon as ``stop`` is set."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        return not stop.wait(seconds)


class ManualClock:
    """Stands still until :meth:`advance` is called, so tests decide exactly when time passes."""

    # How often a sleeper re-checks its stop event: a threading.Event cannot be waited on together
    # with the clock's condition.
    STOP_POLL = 0.02

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._cond = threading.Condition()

    def now(self) -> datetime:
        with self._cond:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._cond:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        with self._cond:
            self._elapsed += seconds
            self._cond.notify_all()

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        with self._cond:
            deadline = self._elapsed + seconds
            while self._elapsed < deadline:
                if stop.is_set():
                    return False
                self._cond.wait(self.STOP_POLL)
        return not stop.is_set()

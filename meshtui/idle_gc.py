"""Full garbage collections when the user is not typing.

A full (generation 2) collection walks every object the process holds: with a full log buffer that
is tens of milliseconds, and when allocation happens to trigger one during a key press the user
feels it. While lines stream in, automatic full collections are off and :meth:`IdleCollector.tick`
(called every few seconds) runs one only when no key came for ``idle`` seconds. Young collections
are unchanged; :meth:`stop` puts the thresholds back.
"""

from __future__ import annotations

import gc
import time

# A generation-2 threshold no program reaches: collections of the oldest generation only run here.
NEVER = 1_000_000


class IdleCollector:
    def __init__(self, idle: float = 1.0) -> None:
        self.idle = idle
        self._saved: tuple[int, int, int] | None = None
        self._last_key = 0.0

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, NEVER)

    def key(self) -> None:
        self._last_key = time.monotonic()

    def tick(self) -> bool:
        """Collect if the user has been idle long enough; True when it did."""
        if self._saved is None or time.monotonic() - self._last_key < self.idle:
            return False
        gc.collect()
        return True

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

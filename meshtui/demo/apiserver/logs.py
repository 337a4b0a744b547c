"""Container log buffers behind pods/log, with kubelet's tailLines / sinceSeconds / timestamps."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

LogKey = tuple[str, str, str]  # (namespace, pod, container)


def rfc3339_nano(moment: datetime) -> str:
    """Go's time.RFC3339Nano: nanosecond fraction with trailing zeros dropped (and no dot if zero)."""
    fraction = f"{moment.microsecond * 1000:09d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


@dataclass
class _Buffer:
    lines: list[tuple[datetime, str]] = field(default_factory=list)
    ended: bool = False  # the container stopped; a new line means it runs again
    # Line count at each stop: a follow stream ends at the first stop after it began, and lines
    # appended after that stop belong to the next run of the container.
    stops: list[int] = field(default_factory=list)

    def stop(self) -> None:
        self.ended = True
        self.stops.append(len(self.lines))


class PodLogs:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._buffers: dict[LogKey, _Buffer] = {}
        self._closing = False

    def append(self, key: LogKey, line: str, at: datetime | None = None) -> None:
        with self._cond:
            buffer = self._buffers.setdefault(key, _Buffer())
            buffer.lines.append((at or datetime.now(UTC), line))
            buffer.ended = False
            self._cond.notify_all()

    def end(self, key: LogKey) -> None:
        with self._cond:
            self._buffers.setdefault(key, _Buffer()).stop()
            self._cond.notify_all()

    def end_pod(self, namespace: str, pod: str) -> None:
        with self._cond:
            for key, buffer in self._buffers.items():
                if key[:2] == (namespace, pod):
                    buffer.stop()
            self._cond.notify_all()

    def close_all(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def read(self, key: LogKey, *, tail: int | None, since_seconds: int | None, timestamps: bool,
             follow: bool, alive: Callable[[], bool] = lambda: True) -> Iterator[str]:
        """Lines (with "\\n") as the kubelet would send them; with ``follow`` blocks for new ones until
        the container's log ends, the pod is deleted, the emulator stops or ``alive()`` turns false
        (the client hung up)."""
        with self._cond:
            buffer = self._buffers.setdefault(key, _Buffer())
            lines = list(buffer.lines)
            position = len(lines)
            endings = len(buffer.stops)
            follow = follow and not buffer.ended
        if since_seconds is not None:
            cutoff = datetime.now(UTC) - timedelta(seconds=since_seconds)
            lines = [entry for entry in lines if entry[0] >= cutoff]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []

        def render(entry: tuple[datetime, str]) -> str:
            return f"{rfc3339_nano(entry[0])} {entry[1]}\n" if timestamps else f"{entry[1]}\n"

        yield from (render(entry) for entry in lines)
        while follow:
            with self._cond:

                def more(seen: int = position) -> bool:
                    return len(buffer.lines) > seen or len(buffer.stops) > endings or self._closing

                self._cond.wait_for(more, timeout=0.5)
                stopped = len(buffer.stops) > endings
                end = buffer.stops[endings] if stopped else len(buffer.lines)
                fresh = buffer.lines[position:end]
                position = end
                done = stopped or self._closing
            yield from (render(entry) for entry in fresh)
            if done or not alive():
                return

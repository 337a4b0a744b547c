"""Follow the istio-proxy logs of several pods at once and hand them over in time-ordered batches.

One reader thread per pod pulls lines from ``backend.proxy_logs`` and parses them; a dispatcher
thread delivers what has arrived every ``batch_interval`` seconds, merged in time order. The
pending queue is bounded: when the consumer lags, the oldest undelivered lines are dropped and
counted, so a flood of lines costs history, never responsiveness. No Textual here.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from typing import Callable, Iterable

from meshtui.backend.base import Backend, BackendError, LogOptions
from meshtui.logs.batch import Batch, Target, pod_key
from meshtui.logs.parser import parse_line, time_key
from meshtui.logs.record import LogRecord

DEFAULT_MAX_PENDING = 20_000


class LogTail:
    """Tails ``targets`` until :meth:`stop`. ``on_batch`` and ``on_error`` run on the dispatcher
    thread; a consumer that blocks in ``on_batch`` (e.g. ``App.call_from_thread``) is what makes
    the back-pressure work."""

    def __init__(
        self,
        backend: Backend,
        targets: Iterable[Target],
        options: LogOptions,
        on_batch: Callable[[Batch], None],
        batch_interval: float = 0.25,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self.backend = backend
        self.options = options
        self.on_batch = on_batch
        self.on_error = on_error
        self.batch_interval = batch_interval
        self.max_pending = max_pending
        self._lock = threading.Lock()
        # Per pod, lines arrive in order; each queue item is (time key, arrival no., pod key, record).
        self._pending: dict[str, deque[tuple[str, int, str, LogRecord]]] = {}
        self._pending_count = 0
        self._arrival = 0
        self._dropped = 0
        self._readers: dict[Target, tuple[threading.Thread, threading.Event]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch, name="logtail-dispatch", daemon=True)
        self._initial = list(dict.fromkeys(targets))

    # -- public ---------------------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Lines dropped so far because the consumer lagged."""
        with self._lock:
            return self._dropped

    @property
    def targets(self) -> list[Target]:
        with self._lock:
            return list(self._readers)

    def start(self) -> None:
        self._dispatcher.start()
        self.set_targets(self._initial)

    def set_targets(self, targets: Iterable[Target]) -> None:
        """Start readers for new pods and stop readers of pods no longer listed."""
        wanted = list(dict.fromkeys(targets))
        with self._lock:
            if self._stop.is_set():
                return
            gone = [t for t in self._readers if t not in wanted]
            for target in gone:
                self._readers.pop(target)[1].set()
            for target in wanted:
                if target not in self._readers:
                    stop = threading.Event()
                    thread = threading.Thread(target=self._read, args=(target, stop),
                                              name=f"logtail-{pod_key(target)}", daemon=True)
                    self._readers[target] = (thread, stop)
                    thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop every reader and the dispatcher; undelivered lines are discarded."""
        with self._lock:
            self._stop.set()
            readers = list(self._readers.values())
            self._readers.clear()
        for _thread, stop in readers:
            stop.set()
        self._wake.set()
        if self._dispatcher.is_alive() and threading.current_thread() is not self._dispatcher:
            self._dispatcher.join(timeout)
        for thread, _stop in readers:
            thread.join(timeout / max(len(readers), 1))

    # -- threads --------------------------------------------------------------------------------

    def _read(self, target: Target, stop: threading.Event) -> None:
        key = pod_key(target)
        last_time = ""
        try:
            for line in self.backend.proxy_logs(target[0], target[1], self.options, stop):
                if stop.is_set():
                    break
                record = parse_line(line)
                # Lines without a time (fragments, raw output) sort with the line before them.
                tkey = time_key(record.time) or last_time
                last_time = tkey
                self._enqueue(key, tkey, record)
        except BackendError as exc:
            if self.on_error is not None and not stop.is_set():
                self.on_error(key, str(exc))

    def _enqueue(self, key: str, tkey: str, record: LogRecord) -> None:
        with self._lock:
            queue = self._pending.get(key)
            if queue is None:
                queue = self._pending[key] = deque()
            self._arrival += 1
            queue.append((tkey, self._arrival, key, record))
            self._pending_count += 1
            if self._pending_count > self.max_pending:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        # The globally oldest pending line is at the head of one of the per-pod queues.
        oldest = min((q for q in self._pending.values() if q), key=lambda q: (q[0][0], q[0][1]))
        oldest.popleft()
        self._pending_count -= 1
        self._dropped += 1

    def _take(self) -> Batch:
        with self._lock:
            queues = [q for q in self._pending.values() if q]
            self._pending = {}
            self._pending_count = 0
        if not queues:
            return []
        if len(queues) == 1:
            return [(item[2], item[3]) for item in queues[0]]
        # Each pod's queue is already in its own order; a k-way merge keeps that order stable.
        return [(item[2], item[3]) for item in heapq.merge(*queues, key=lambda it: (it[0], it[1]))]

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.batch_interval)
            if self._stop.is_set():
                break
            batch = self._take()
            if batch:
                self.on_batch(batch)

"""A total deadline for each API request, and aborting every request in flight at once.

urllib3's timeouts bound each socket operation, not the request: a server that sends one byte a
second never trips a 10 s read timeout. Here every connection registers, as it sends a request,
with the deadline of the thread that sends it; when the deadline passes (or :func:`abort_all` is
called because the user quits) its socket is shut down, which wakes the blocked read at once.

One watchdog thread times every deadline: a ``threading.Timer`` per request started a thread per
request, and waiting for that thread to start was about a sixth of a 200-pod TLS check's client time
on a loaded 2-core machine (tests/bench/bench_tls.py).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any, Iterator

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()
_active: set[Deadline] = set()
_active_lock = threading.Lock()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.aborted = False
        self.finished = False  # the block ended: the watchdog drops it unexpired
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []

    def register(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(conn)
            done = self.expired or self.aborted
        if done:
            _shutdown(conn)

    def finish(self) -> None:
        with self._lock:
            self.finished = True

    def expire(self, *, aborted: bool = False) -> None:
        with self._lock:
            if self.finished and not aborted:
                return  # its connections may be serving another request by now
            self.expired = self.expired or not aborted
            self.aborted = self.aborted or aborted
            connections = list(self._connections)
        for conn in connections:
            _shutdown(conn)


class _Watchdog:
    """Expires deadlines at their time, from one daemon thread started on first use. Finished
    deadlines stay in the heap until their time comes (cheaper than removing them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()  # ties never compare Deadlines
        self._thread: threading.Thread | None = None

    def add(self, d: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + d.seconds, next(self._order), d))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="meshtui-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is d:
                self._cond.notify()  # earlier than what the thread sleeps for

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, d = heapq.heappop(self._heap)
            d.expire()


_watchdog = _Watchdog()


def _shutdown(conn: HTTPConnection) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def deadline(seconds: float, group: set[Deadline] | None = None) -> Iterator[Deadline]:
    """Requests the current thread sends inside the block are cut off ``seconds`` after it began.
    ``group``: a set the deadline is in while active, for :func:`abort_all` of one client."""
    d = Deadline(seconds)
    outer = getattr(_local, "deadline", None)
    _local.deadline = d
    with _active_lock:
        _active.add(d)
        if group is not None:
            group.add(d)
    _watchdog.add(d)
    try:
        yield d
    finally:
        d.finish()
        _local.deadline = outer
        with _active_lock:
            _active.discard(d)
            if group is not None:
                group.discard(d)


def abort_all(group: set[Deadline] | None = None) -> None:
    """Cut every request in flight (of ``group``, else of the process) because the user quits or
    closes the client: their threads return at once with an error."""
    with _active_lock:
        active = list(_active if group is None else group)
    for d in active:
        d.expire(aborted=True)


class _Registering(HTTPConnection):
    """Mixin: a connection joins the sending thread's deadline as the request goes out."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        d: Deadline | None = getattr(_local, "deadline", None)
        if d is not None:
            d.register(self)
        super().request(*args, **kwargs)


class _HTTPConnection(_Registering, HTTPConnection):
    pass


class _HTTPSConnection(_Registering, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}

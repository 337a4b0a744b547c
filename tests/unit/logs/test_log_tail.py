"""LogTail against a small fake at the Backend protocol boundary (proxy_logs only)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

from meshtui.backend.base import BackendError, LogOptions, NotFound
from meshtui.backend.log_tail import LogTail
from meshtui.logs.batch import Batch
from meshtui.logs.record import LogRecord


def access(ts: str, path: str) -> str:
    return (
        f'[2024-05-01T10:00:{ts}Z] "GET {path} HTTP/1.1" 200 - via_upstream - "-" 0 5 1 1 "-" "curl" "id" '
        f'"svc:80" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:2 - default'
    )


class FakeLogs:
    """proxy_logs yields each pod's scripted lines, then (follow) waits for stop or more lines."""

    def __init__(
        self,
        lines: dict[str, list[str]],
        *,
        follow: bool = True,
        errors: dict[str, BackendError] | None = None,
    ) -> None:
        self.lines = {pod: list(v) for pod, v in lines.items()}
        self.follow = follow
        self.errors = errors or {}
        self.calls: list[tuple[str, str, LogOptions]] = []
        self.stopped: list[str] = []
        self.lock = threading.Lock()

    def add(self, pod: str, line: str) -> None:
        with self.lock:
            self.lines.setdefault(pod, []).append(line)

    def proxy_logs(
        self, namespace: str, pod: str, options: LogOptions, stop: threading.Event
    ) -> Iterator[str]:
        self.calls.append((namespace, pod, options))
        if pod in self.errors:
            raise self.errors[pod]
        sent = 0
        while not stop.is_set():
            with self.lock:
                pending = self.lines.get(pod, [])[sent:]
            sent += len(pending)
            yield from pending
            if not self.follow:
                return
            stop.wait(0.01)
        self.stopped.append(pod)


class Collector:
    """Records batches; with a closed ``gate`` it blocks after recording, like a busy UI thread."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, batch: Batch) -> None:
        with self.lock:
            self.batches.append(batch)
        self.gate.wait(5)

    @property
    def items(self) -> list[tuple[str, LogRecord]]:
        with self.lock:
            return [item for batch in self.batches for item in batch]


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_merges_pods_in_time_order_within_a_batch() -> None:
    backend = FakeLogs(
        {
            "a": [access("01.000", "/a1"), access("03.000", "/a3"), "a fragment without time"],
            "b": [access("02.000", "/b2"), access("04.000", "/b4")],
        }
    )
    got = Collector()
    # A long interval: all lines arrive before the first delivery, so they come as one batch.
    tail = LogTail(backend, [("ns", "a"), ("ns", "b")], LogOptions(), got, batch_interval=0.3)
    tail.start()
    try:
        wait_for(lambda: len(got.items) == 5)
    finally:
        tail.stop()
    assert len(got.batches) == 1
    assert [(pod, r.path or r.raw) for pod, r in got.items] == [
        ("ns/a", "/a1"),
        ("ns/b", "/b2"),
        ("ns/a", "/a3"),
        ("ns/a", "a fragment without time"),
        ("ns/b", "/b4"),
    ]
    assert got.items[0][1].kind == "access"


def test_options_reach_the_backend_and_stop_ends_streams() -> None:
    backend = FakeLogs({"a": []})
    options = LogOptions(tail_lines=None, since_seconds=300)
    tail = LogTail(backend, [("ns", "a")], options, Collector(), batch_interval=0.02)
    tail.start()
    wait_for(lambda: len(backend.calls) == 1)
    tail.stop()
    assert backend.calls == [("ns", "a", options)]
    wait_for(lambda: backend.stopped == ["a"])


def test_set_targets_adds_new_pods_and_stops_gone_ones() -> None:
    backend = FakeLogs({"a": [], "b": [], "c": []})
    got = Collector()
    tail = LogTail(backend, [("ns", "a"), ("ns", "b")], LogOptions(), got, batch_interval=0.02)
    tail.start()
    try:
        wait_for(lambda: len(backend.calls) == 2)
        tail.set_targets([("ns", "b"), ("ns", "c")])
        wait_for(lambda: "a" in backend.stopped)
        wait_for(lambda: len(backend.calls) == 3)
        assert sorted(tail.targets) == [("ns", "b"), ("ns", "c")]
        backend.add("c", access("05.000", "/c"))
        wait_for(lambda: [r.path for _, r in got.items] == ["/c"])
    finally:
        tail.stop()


def test_back_pressure_drops_oldest_undelivered_lines_and_counts_them() -> None:
    backend = FakeLogs({"a": []})
    got = Collector()
    tail = LogTail(backend, [("ns", "a")], LogOptions(), got, batch_interval=0.01, max_pending=50)
    tail.start()
    try:
        wait_for(lambda: len(backend.calls) == 1)
        got.gate.clear()  # the consumer lags: it holds on to the first batch
        backend.add("a", access("00.000", "/first"))
        wait_for(lambda: len(got.batches) == 1)
        for i in range(500):
            backend.add("a", access(f"{10 + i // 1000:02d}.{i % 1000:03d}", f"/{i}"))
        wait_for(lambda: tail.dropped == 450)
        got.gate.set()
        wait_for(lambda: len(got.items) == 51)
    finally:
        tail.stop()
    # What survived is the newest 50, still in order.
    assert [r.path for _, r in got.items[1:]] == [f"/{i}" for i in range(450, 500)]


def test_backend_errors_are_reported_per_pod() -> None:
    backend = FakeLogs({"a": [access("01.000", "/a")]}, errors={"gone": NotFound("pod ns/gone not found")})
    errors: list[tuple[str, str]] = []
    got = Collector()
    tail = LogTail(
        backend,
        [("ns", "a"), ("ns", "gone")],
        LogOptions(),
        got,
        batch_interval=0.02,
        on_error=lambda pod, msg: errors.append((pod, msg)),
    )
    tail.start()
    try:
        wait_for(lambda: bool(errors) and len(got.items) == 1)
    finally:
        tail.stop()
    assert errors == [("ns/gone", "pod ns/gone not found")]


def test_finite_streams_deliver_everything() -> None:
    lines = [access(f"{i // 1000:02d}.{i % 1000:03d}", f"/{i}") for i in range(2000)]
    backend = FakeLogs({"a": lines}, follow=False)
    got = Collector()
    tail = LogTail(backend, [("ns", "a")], LogOptions(follow=False), got, batch_interval=0.02)
    tail.start()
    try:
        wait_for(lambda: len(got.items) == 2000)
    finally:
        tail.stop()
    assert tail.dropped == 0
    assert [r.path for _, r in got.items] == [f"/{i}" for i in range(2000)]

"""The TLS check runner: read every sidecar in scope twice, a window apart, and build the report.

Per pod: metrics (pods/proxy :15020) and the certificate (exec ``pilot-agent request GET certs``)
first; then, after the window, metrics again and the access log of the window. istiod's syncz is
read once. An ambient pod has no sidecar: the ztunnel on its node counts its connections, so each
such ztunnel's metrics are read at the same two moments, once for all the pods it serves. Pods are
read ``concurrency`` at a time, each phase of a pod within ``pod_timeout`` seconds (a slow pod
becomes NO DATA, its thread is left to the backend's own request timeout).
Progress and partial evidence go to ``progress``; ``cancel`` stops at the next step and the report
says which pods were not done. Only reads: nothing here writes to the cluster.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Callable, Iterator, Mapping, Protocol, TypeVar, cast

from meshtui.backend.base import BackendError, LogOptions
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import captured, pod_dataplane, ztunnel_for
from meshtui.tls import ztunnel_metrics
from meshtui.tls.metrics import parse_stats
from meshtui.tls.report import TlsReport
from meshtui.tls.syncz import parse_syncz
from meshtui.tls.verdict import PodEvidence, SyncEvidence, ZtunnelEvidence, build_report

DEFAULT_WINDOW_S = 10.0
DEFAULT_CONCURRENCY = 16
DEFAULT_POD_TIMEOUT_S = 8.0
LOG_TAIL_LINES = 2000
POLL_S = 0.05


class TlsSource(Protocol):
    """The read-only part of the Backend protocol a TLS check uses."""

    def proxy_stats(self, namespace: str, pod: str) -> str: ...

    def proxy_request(self, namespace: str, pod: str, path: str, method: str = "GET") -> str: ...

    def proxy_logs(self, namespace: str, pod: str, options: LogOptions,
                   stop: threading.Event) -> Iterator[str]: ...

    def istiod_syncz(self) -> list[str]: ...


class PodScope(Protocol):
    """Anything that names the pods to check (a migration's namespaces, say)."""

    def pods(self, snapshot: Snapshot) -> list[Pod]: ...


@dataclass(frozen=True, slots=True)
class Scope:
    """What to check: one pod, a workload's pods, a namespace, every namespace (mesh), or a set of pods
    (a change preview's affected pods)."""

    kind: str  # pod / workload / namespace / mesh / pods
    namespace: str = ""
    name: str = ""
    keys: frozenset[tuple[str, str]] = frozenset()  # kind "pods": (namespace, name) of each

    def pods(self, snapshot: Snapshot) -> list[Pod]:
        # ztunnel's own pods carry an istio-proxy container but serve nothing: their metrics are the
        # evidence for the ambient pods on their node, not traffic to them.
        pods = [p for p in snapshot.pods.values() if not p.deleting and not p.host_network and not p.is_ztunnel]
        if self.kind == "pods":
            pods = [p for p in pods if p.key in self.keys]
        elif self.kind == "pod":
            pods = [p for p in pods if p.key == (self.namespace, self.name)]
        elif self.kind == "workload":
            pods = [p for p in pods if p.namespace == self.namespace and p.workload_name == self.name]
        elif self.kind == "namespace":
            pods = [p for p in pods if p.namespace == self.namespace]
        return sorted(pods, key=lambda p: p.key)

    def describe(self) -> str:
        if self.kind == "mesh":
            return "the mesh"
        if self.kind == "pods":
            return f"{len(self.keys)} pod{'s' if len(self.keys) != 1 else ''}"
        return f"{self.kind} {self.namespace}/{self.name}" if self.name else f"namespace {self.namespace}"


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    phase: str
    evidence: Mapping[tuple[str, str], PodEvidence]


T = TypeVar("T")
# What a pod's work returns: a sidecar's first sample (stats, when, /certs, its error), its second
# (stats, when, logs, their error), and a ztunnel's sample (stats, when).
_First = tuple[str, datetime, str | None, str]
_Second = tuple[str, datetime, tuple[str, ...] | None, str]
_Sample = tuple[str, datetime]


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, BackendError) else f"{type(exc).__name__}: {exc}"


class _Runner:
    def __init__(self, backend: TlsSource, snapshot: Snapshot, pods: list[Pod], *, window_s: float,
                 concurrency: int, pod_timeout: float, progress: Callable[[Progress], None] | None,
                 cancel: threading.Event, now: Callable[[], datetime], certificates: bool,
                 pass_window: Callable[[float], bool] | None):
        self.backend = backend
        self.snapshot = snapshot
        self.pods = pods
        self.window_s = window_s
        self.pod_timeout = pod_timeout
        self.progress = progress
        self.cancel = cancel
        self.now = now
        self.certificates = certificates
        self.pass_window = pass_window
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="tls-check")
        self.done: dict[tuple[str, str], PodEvidence] = {}
        self.sampled: dict[tuple[str, str], tuple[PodEvidence, datetime]] = {}
        # ztunnel pod key → the ambient pods in scope it serves, and its first sample.
        self.served: dict[tuple[str, str], list[Pod]] = {}
        self.ztunnel_sampled: dict[tuple[str, str], tuple[tuple[ztunnel_metrics.Connections, ...], datetime]] = {}
        self.phase = "first sample"

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress(Progress(len(self.done), len(self.pods), self.phase, dict(self.done)))

    def finish(self, pod: Pod, evidence: PodEvidence) -> None:
        self.done[pod.key] = evidence
        self.report_progress()

    def run_all(self, work: Mapping[tuple[str, str], Callable[[], T]],
                on_result: Callable[[tuple[str, str], T | None, str], None]) -> None:
        """Run each pod's work; call ``on_result(key, value, error)`` as each finishes or times out."""
        started: dict[tuple[str, str], float] = {}

        def timed(key: tuple[str, str], fn: Callable[[], T]) -> T:
            started[key] = time.monotonic()
            return fn()

        # Finished futures arrive on a queue: waiting on all pending futures at once after every
        # completion (concurrent.futures.wait) locks each of them each time, O(pods²) per phase.
        arrived: queue.SimpleQueue[Future[T]] = queue.SimpleQueue()
        pending: dict[Future[T], tuple[str, str]] = {}
        for key, fn in work.items():
            future = self.pool.submit(timed, key, fn)
            pending[future] = key
            future.add_done_callback(arrived.put)
        scanned = time.monotonic()
        while pending and not self.cancel.is_set():
            try:
                future = arrived.get(timeout=POLL_S)
            except queue.Empty:
                pass
            else:
                done = pending.pop(future, None)  # None: it had timed out already
                if done is not None:
                    exc = future.exception()
                    on_result(done, None if exc else future.result(), _message(exc) if exc else "")
            clock = time.monotonic()
            if clock - scanned < POLL_S:
                continue
            scanned = clock
            for future, key in list(pending.items()):
                start = started.get(key)
                if start is not None and clock - start > self.pod_timeout:
                    del pending[future]
                    on_result(key, None, f"timed out after {self.pod_timeout:g}s")
        for future in pending:
            future.cancel()

    def first(self, pod: Pod) -> _First:
        stats = self.backend.proxy_stats(pod.namespace, pod.name)
        at = self.now()  # the window runs from this read, however long /certs takes
        if not self.certificates:
            return stats, at, None, ""
        try:
            return stats, at, self.backend.proxy_request(pod.namespace, pod.name, "/certs"), ""
        except BackendError as exc:
            return stats, at, None, str(exc)

    def second(self, pod: Pod, first_at: datetime) -> _Second:
        stats = self.backend.proxy_stats(pod.namespace, pod.name)
        at = self.now()
        since = max(1, math.ceil((at - first_at).total_seconds()))
        options = LogOptions(tail_lines=LOG_TAIL_LINES, since_seconds=since, follow=False)
        try:
            lines = tuple(self.backend.proxy_logs(pod.namespace, pod.name, options, self.cancel))
        except BackendError as exc:
            return stats, at, None, str(exc)
        return stats, at, lines, ""

    def sample_ztunnel(self, key: tuple[str, str]) -> _Sample:
        return self.backend.proxy_stats(*key), self.now()

    def ztunnel_failed(self, key: tuple[str, str], error: str) -> None:
        for pod in self.served[key]:
            self.finish(pod, PodEvidence(pod, errors=(("stats", f"ztunnel {key[0]}/{key[1]}: {error}"),)))

    def first_ztunnel_done(self, key: tuple[str, str], value: _Sample | None, error: str) -> None:
        if value is None:
            self.ztunnel_failed(key, error)
            return
        text, at = value
        self.ztunnel_sampled[key] = (tuple(ztunnel_metrics.parse(text)), at)

    def second_ztunnel_done(self, key: tuple[str, str], value: _Sample | None, error: str) -> None:
        if value is None:
            self.ztunnel_failed(key, error)
            return
        text, at = value
        before, first_at = self.ztunnel_sampled[key]
        evidence = ZtunnelEvidence(f"{key[0]}/{key[1]}", before, tuple(ztunnel_metrics.parse(text)))
        interval = max((at - first_at).total_seconds(), 1e-3)
        for pod in self.served[key]:
            self.finish(pod, PodEvidence(pod, ztunnel=evidence, interval_s=interval))

    def plan(self, pod: Pod) -> tuple[str, str] | PodEvidence | None:
        """How to read ``pod``: None through its sidecar, a ztunnel's key for an ambient pod, or the
        evidence it already has (no proxy to read, not running, no ztunnel on its node)."""
        ambient = not pod.has_sidecar and captured(pod, pod_dataplane(self.snapshot, pod))
        if not pod.has_sidecar and not ambient:
            return PodEvidence(pod)
        if pod.phase != "Running":
            return PodEvidence(pod, errors=(("pod", f"phase {pod.phase}"),))
        if not ambient:
            return None
        ztunnel = ztunnel_for(self.snapshot, pod)
        if ztunnel is None:
            return PodEvidence(pod, errors=(("stats", f"ambient, but no ztunnel runs on node {pod.node or '?'}"),))
        return ztunnel.key

    def wait_window(self) -> None:
        """Until the clock says the window passed: a test's hand-driven clock advances it too."""
        deadline = self.now().timestamp() + self.window_s
        self.phase = f"waiting {self.window_s:g}s"
        self.report_progress()
        if self.pass_window is not None:
            if not self.pass_window(self.window_s):
                self.cancel.set()
            return
        while not self.cancel.is_set() and self.now().timestamp() < deadline:
            self.cancel.wait(POLL_S)

    def run(self) -> None:
        by_key = {p.key: p for p in self.pods}
        self.report_progress()
        first_phase: dict[tuple[str, str], Callable[[], _First | _Sample]] = {}
        for pod in self.pods:
            how = self.plan(pod)
            if isinstance(how, PodEvidence):
                self.finish(pod, how)
            elif how is None:
                first_phase[pod.key] = partial(self.first, pod)
            else:
                self.served.setdefault(how, []).append(pod)
        first_phase.update({key: partial(self.sample_ztunnel, key) for key in self.served})

        def first_done(key: tuple[str, str], value: _First | None, error: str) -> None:
            pod = by_key[key]
            if value is None:
                self.finish(pod, PodEvidence(pod, errors=(("stats", error),)))
                return
            stats, at, certs, cert_error = value
            errors = (("certs", cert_error),) if cert_error else ()
            self.sampled[key] = (PodEvidence(pod, tuple(parse_stats(stats)), certs=certs, errors=errors), at)

        # Sidecars and ztunnels in one pool, so both windows start together.
        # A key in self.served is a ztunnel's, any other a sidecar's: the key says which sample the value is.
        self.run_all(first_phase, lambda key, value, error: (
            self.first_ztunnel_done(key, cast("_Sample | None", value), error) if key in self.served
            else first_done(key, cast("_First | None", value), error)))
        if self.cancel.is_set() or not (self.sampled or self.ztunnel_sampled):
            return
        self.wait_window()
        if self.cancel.is_set():
            return
        self.phase = "second sample"
        self.report_progress()
        work: dict[tuple[str, str], Callable[[], _Second | _Sample]] = {
            key: partial(self.second, by_key[key], at) for key, (_, at) in self.sampled.items()}

        def second_done(key: tuple[str, str], value: _Second | None, error: str) -> None:
            first, first_at = self.sampled[key]
            if value is None:
                self.finish(first.pod, replace(first, before=None, errors=(*first.errors, ("stats", error))))
                return
            stats, at, logs, log_error = value
            interval = max((at - first_at).total_seconds(), 1e-3)
            errors = (*first.errors, ("logs", log_error)) if log_error else first.errors
            self.finish(first.pod, replace(first, after=tuple(parse_stats(stats)), logs=logs, errors=errors,
                                           interval_s=interval))

        work.update({key: partial(self.sample_ztunnel, key) for key in self.ztunnel_sampled})
        self.run_all(work, lambda key, value, error: (
            self.second_ztunnel_done(key, cast("_Sample | None", value), error) if key in self.served
            else second_done(key, cast("_Second | None", value), error)))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _syncz(backend: TlsSource) -> SyncEvidence:
    try:
        return SyncEvidence(parse_syncz(backend.istiod_syncz()))
    except BackendError as exc:
        return SyncEvidence({}, f"istiod syncz: {exc}")


def run_check(backend: TlsSource, snapshot: Snapshot, scope: PodScope, *, window_s: float = DEFAULT_WINDOW_S,
              concurrency: int = DEFAULT_CONCURRENCY, pod_timeout: float = DEFAULT_POD_TIMEOUT_S,
              progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None,
              now: Callable[[], datetime] | None = None, certificates: bool = True,
              pass_window: Callable[[float], bool] | None = None) -> TlsReport:
    """Check every pod of ``scope``; a cancelled check returns what it had (``report.cancelled``).

    ``certificates=False`` skips the certificates (pods/exec) and istiod's sync state: a caller that
    only wants the traffic (the migration's Observe, every window) saves those reads.
    ``pass_window(seconds)`` lets a caller that drives time itself end the window (False: cancelled);
    without it the check waits until ``now`` has moved on by the window."""
    clock = now or (lambda: datetime.now(UTC))
    stop = cancel or threading.Event()
    started = clock()
    pods = scope.pods(snapshot)
    runner = _Runner(backend, snapshot, pods, window_s=window_s, concurrency=concurrency, pod_timeout=pod_timeout,
                     progress=progress, cancel=stop, now=clock, certificates=certificates, pass_window=pass_window)
    wants_sync = certificates and any(p.has_sidecar for p in pods)
    sync_future = runner.pool.submit(_syncz, backend) if wants_sync else None
    try:
        runner.run()
        sync = SyncEvidence({}) if certificates else SyncEvidence({}, "istiod sync not read (traffic-only check)")
        if sync_future is not None:
            finished, _ = wait([sync_future], timeout=pod_timeout)
            sync = sync_future.result() if finished else SyncEvidence({}, f"istiod syncz: timed out after "
                                                                           f"{pod_timeout:g}s")
    finally:
        runner.close()
    return build_report(snapshot, pods, runner.done, sync, window_s=window_s, started=started, now=clock(),
                        cancelled=stop.is_set())

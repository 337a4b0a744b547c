"""Traffic evidence for the migration: who sends plaintext into the scope right now.

Observe *is* the TLS check (:func:`meshtui.tls.check.run_check`, the ``t`` check) run on the scope's
pods, without certificates and istiod's sync state: the server sidecars' metrics twice, a window
apart, and their access log of that window. So the migration and the check read the same evidence
the same way. From the check's report this module keeps two things:

* the plaintext callers, a caller counting only when its plaintext grew inside the window
  (plaintext *now*, not since the proxy started); one the metrics call "unknown" (no sidecar, no
  metadata exchange) is named from the server's access log (source "logs");
* the pods whose metrics could not be read (403 on pods/proxy, no answer, timeout, not running):
  their callers are unknown, which is not the same as "no plaintext caller".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from meshtui.migrate.scope import Scope
from meshtui.model.snapshot import Snapshot
from meshtui.tls.check import Progress, TlsSource, run_check
from meshtui.tls.report import TlsReport


@dataclass(frozen=True, slots=True, order=True)
class PlaintextCaller:
    """A client seen sending plaintext to a server port in the window. ``workload`` is "unknown"
    when neither the server's metrics nor its access log could name it; ``port`` is the server's
    container port, 0 when the evidence cannot tell."""

    namespace: str
    workload: str
    target_namespace: str
    target_workload: str
    port: int
    rate_per_s: float = 0.0
    source: str = "metrics"

    @property
    def client(self) -> str:
        return f"{self.namespace}/{self.workload}" if self.namespace else self.workload

    @property
    def target(self) -> str:
        return f"{self.target_namespace}/{self.target_workload}:{self.port}"

    def to_data(self) -> dict[str, Any]:
        """The documented JSON shape (docs/migrate.md)."""
        return {"namespace": self.namespace, "workload": self.workload, "target": self.target,
                "rate_per_s": round(self.rate_per_s, 3)}


@dataclass(frozen=True, slots=True, order=True)
class UnreadPod:
    """A pod in scope whose sidecar's metrics the window could not read: its callers are unknown."""

    pod: str  # namespace/name
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {"pod": self.pod, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Observation:
    callers: tuple[PlaintextCaller, ...]
    unread: tuple[UnreadPod, ...]
    window_s: float
    cancelled: bool = False


def plaintext_callers(report: TlsReport) -> list[PlaintextCaller]:
    """The callers the check saw sending plaintext, accepted, inside its window."""
    out = []
    for w in report.workloads:
        for port in w.ports:
            out += [PlaintextCaller(c.namespace, c.workload, w.namespace, w.workload, port.port, c.rate_per_s,
                                    c.evidence)
                    for c in port.plaintext_callers() if c.rate_per_s > 0]
    return sorted(out)


def unread_pods(report: TlsReport) -> list[UnreadPod]:
    """Pods the check read no metrics from (a pod without sidecar is preflight's business: MIG001)."""
    why: dict[str, list[str]] = {}
    for e in report.errors:
        source, _, message = e.message.partition(": ")
        if source in ("stats", "pod"):
            why.setdefault(e.pod, []).append(message)
    return sorted(UnreadPod(pod, "; ".join(reasons)) for pod, reasons in why.items())


def observe(backend: TlsSource, snapshot: Snapshot, scope: Scope, window_s: float, *,
            now: Callable[[], datetime] | None = None, pass_window: Callable[[float], bool] | None = None,
            cancel: threading.Event | None = None,
            progress: Callable[[Progress], None] | None = None) -> Observation:
    """One observe window over the scope's pods (see :func:`meshtui.tls.check.run_check` for
    ``now``, ``pass_window``, ``cancel`` and ``progress``)."""
    report = run_check(backend, snapshot, scope, window_s=window_s, now=now, pass_window=pass_window,
                       cancel=cancel, progress=progress, certificates=False)
    return Observation(tuple(plaintext_callers(report)), tuple(unread_pods(report)), window_s, report.cancelled)

"""A TLS check's result types and its documented JSON shape (docs/tls.md). Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meshtui.model.convert import format_time
from meshtui.tls.certs import CertInfo
from meshtui.tls.syncz import SyncInfo

OK = "OK"
SAFE = "SAFE"
NO_TRAFFIC = "NO TRAFFIC"
NO_DATA = "NO DATA"
PLAINTEXT = "PLAINTEXT"
REJECTING = "REJECTING"
MISMATCH = "MISMATCH"
# Least to most alarming: --fail-on and the panes' summary mark use this order.
VERDICTS = (OK, SAFE, NO_TRAFFIC, NO_DATA, PLAINTEXT, REJECTING, MISMATCH)


def worst(verdicts: list[str]) -> str | None:
    return max(verdicts, key=VERDICTS.index) if verdicts else None


@dataclass(frozen=True, slots=True)
class ClientResult:
    namespace: str
    workload: str
    principal: str
    security: str  # mutual_tls / plaintext / unknown
    requests: int
    connections: int
    rate_per_s: float
    evidence: str  # metrics / logs
    rejected: int = 0
    lines: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        if self.namespace and self.workload:
            return f"{self.namespace}/{self.workload}"
        return self.workload or "unknown"


@dataclass(frozen=True, slots=True)
class PortResult:
    port: int  # 0: the metrics did not say which port
    mode: str
    verdict: str
    why: str
    fix: str
    clients: tuple[ClientResult, ...] = ()

    def plaintext_callers(self) -> list[ClientResult]:
        return [c for c in self.clients if c.security == "plaintext"]


@dataclass(frozen=True, slots=True)
class PodError:
    pod: str  # namespace/name
    message: str


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    namespace: str
    workload: str
    pods: tuple[str, ...]
    ports: tuple[PortResult, ...]
    certs: tuple[CertInfo, ...]
    sync: tuple[SyncInfo, ...]
    # Ambient pods: the ztunnels (namespace/name) whose connection metrics are the evidence.
    ztunnels: tuple[str, ...] = ()

    @property
    def verdict(self) -> str | None:
        return worst([p.verdict for p in self.ports])


@dataclass(frozen=True)
class TlsReport:
    window_s: float
    started: datetime
    workloads: tuple[WorkloadResult, ...]
    errors: tuple[PodError, ...]
    pods_total: int
    pods_done: int
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.pods_done >= self.pods_total

    def verdicts_by_pod(self) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for w in self.workloads:
            v = w.verdict
            if v is not None:
                out.update({(w.namespace, pod): v for pod in w.pods})
        return out

    def verdicts_by_namespace(self) -> dict[str, str]:
        by_ns: dict[str, list[str]] = {}
        for w in self.workloads:
            if w.verdict is not None:
                by_ns.setdefault(w.namespace, []).append(w.verdict)
        return {ns: worst(vs) or "" for ns, vs in by_ns.items()}


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def to_data(report: TlsReport) -> dict[str, Any]:
    """The stable JSON shape documented in docs/tls.md."""
    return {
        "window_s": report.window_s,
        "workloads": [
            {
                "namespace": w.namespace,
                "workload": w.workload,
                "pods": list(w.pods),
                "ports": [
                    {
                        "port": p.port,
                        "mode": p.mode,
                        "verdict": p.verdict,
                        "clients": [
                            {
                                "namespace": c.namespace,
                                "workload": c.workload,
                                "principal": c.principal,
                                "security": c.security,
                                "requests": c.requests,
                                "connections": c.connections,
                                "rate_per_s": round(c.rate_per_s, 3),
                                "evidence": c.evidence,
                            }
                            for c in p.clients
                        ],
                    }
                    for p in w.ports
                ],
                "certs": [
                    {
                        "pod": c.pod,
                        "spiffe_id": c.spiffe_id,
                        "not_after": _time(c.not_after),
                        "seconds_left": c.seconds_left,
                        "root_not_after": _time(c.root_not_after),
                        "status": c.status,
                    }
                    for c in w.certs
                ],
                "sync": [{"pod": s.proxy.rsplit(".", 1)[0], "status": s.status, "proxy_version": s.proxy_version}
                         for s in w.sync],
            }
            for w in report.workloads
        ],
        "errors": [{"pod": e.pod, "message": e.message} for e in report.errors],
    }

"""Evidence from the sidecars + the engine's modes → a verdict per workload port.

Pure: the check runner (meshtui.tls.check) collects :class:`PodEvidence`; this module reads it.
Rates come from two metric samples ``window_s`` apart, callers the metrics cannot name
(``unknown``) are named from the access log, and every verdict says which source it rests on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import Analysis, analyze, pod_ports
from meshtui.policy.report import DISABLE, NONE, PERMISSIVE, STRICT
from meshtui.policy.services import target_port
from meshtui.tls.certs import CertInfo, expected_spiffe_id, parse_certs
from meshtui.tls.logs import AddressBook, LogCaller, log_callers
from meshtui.tls.metrics import CallerRate, Series, inbound, rates
from meshtui.tls.report import (
    MISMATCH,
    NO_DATA,
    NO_TRAFFIC,
    OK,
    PLAINTEXT,
    REJECTING,
    SAFE,
    ClientResult,
    PodError,
    PortResult,
    TlsReport,
    WorkloadResult,
    worst,
)
from meshtui.tls.syncz import NOT_CONNECTED, SyncInfo, proxy_id

TRUST_DOMAIN = "cluster.local"


@dataclass(frozen=True, slots=True)
class PodEvidence:
    """What one pod's sidecar gave (None: not read; see ``errors`` for why)."""

    pod: Pod
    before: tuple[Series, ...] | None = None
    after: tuple[Series, ...] | None = None
    logs: tuple[str, ...] | None = None
    certs: str | None = None
    errors: tuple[tuple[str, str], ...] = ()  # (source, message): source is stats / certs / logs / pod

    @property
    def has_metrics(self) -> bool:
        return self.before is not None and self.after is not None

    def why_no_data(self) -> str:
        if not self.pod.has_sidecar:
            return "no sidecar"
        return "; ".join(f"{src}: {msg}" for src, msg in self.errors if src in ("stats", "pod")) or "not read"


@dataclass(frozen=True, slots=True)
class SyncEvidence:
    proxies: Mapping[str, SyncInfo]
    error: str = ""  # why istiod could not be read


def _metric_port(rate: CallerRate, pod: Pod, snapshot: Snapshot, declared: list[int]) -> int:
    """The server port a caller reached: a destination_port label, else the one target port of the
    Service it called on this pod, else the pod's only port; 0 when the metrics cannot tell."""
    if rate.key.port is not None:
        return rate.key.port
    svc = snapshot.services.get((rate.key.service_namespace, rate.key.service))
    if svc is not None:
        ports = {tp for sp in svc.ports if (tp := target_port(sp, pod)) is not None}
        if len(ports) == 1:
            return ports.pop()
    return declared[0] if len(declared) == 1 else 0


@dataclass(slots=True)
class _PortEvidence:
    metrics: list[CallerRate]
    logs: list[LogCaller]


def _clients(ev: _PortEvidence, window_s: float) -> list[ClientResult]:
    """Metric callers, with plaintext ``unknown`` callers replaced by the ones the log names."""
    named_plaintext = [c for c in ev.logs if c.security == "plaintext" and c.accepted]
    merged: dict[tuple[str, str, str, str], ClientResult] = {}

    def add(c: ClientResult) -> None:
        key = (c.namespace, c.workload, c.security, c.evidence)
        old = merged.get(key)
        if old is not None:
            c = ClientResult(c.namespace, c.workload, c.principal or old.principal, c.security,
                             old.requests + c.requests, old.connections + c.connections,
                             old.rate_per_s + c.rate_per_s, c.evidence, old.rejected + c.rejected,
                             (*old.lines, *c.lines)[:8])
        merged[key] = c

    named_in_metrics = {(m.key.namespace, m.key.workload) for m in ev.metrics
                        if m.key.workload and m.key.security == "plaintext"}
    for m in ev.metrics:
        k = m.key
        if not k.workload and k.security == "plaintext" and named_plaintext:
            continue  # the log names these callers below
        add(ClientResult(k.namespace, k.workload or "unknown", k.principal, k.security, m.requests,
                         m.connections, m.rate_per_s, "metrics", 0, m.lines))
    for lc in ev.logs:
        if lc.security == "mutual_tls" and not lc.rejected:
            continue  # the metrics name mTLS callers, with their principal
        if not lc.rejected and (lc.caller.namespace, lc.caller.workload) in named_in_metrics:
            continue
        rate = lc.accepted / window_s if window_s > 0 else 0.0
        add(ClientResult(lc.caller.namespace, lc.caller.workload, lc.caller.principal, lc.security,
                         lc.accepted, 0, rate, "logs", lc.rejected, tuple(lc.lines)))
    return sorted(merged.values(), key=lambda c: (c.security != "plaintext", c.namespace, c.workload))


def _judge(mode: str, clients: list[ClientResult]) -> tuple[str, str]:
    plaintext_now = [c for c in clients if c.security == "plaintext" and c.rate_per_s > 0 and c.requests]
    mtls_now = [c for c in clients if c.security == "mutual_tls" and c.rate_per_s > 0]
    refused = [c for c in clients if c.rejected]
    names = ", ".join(sorted({c.name for c in plaintext_now}))
    refused_names = ", ".join(sorted({c.name for c in refused}))
    if mode == STRICT:
        if plaintext_now:
            return MISMATCH, f"plaintext accepted from {names} on a port the policy makes STRICT: stale config?"
        if refused:
            return REJECTING, f"refusing plaintext from {refused_names} (access log)"
        return (OK, "only mTLS arrives") if mtls_now else (NO_TRAFFIC, "no requests in the window")
    if mode == PERMISSIVE:
        if refused:
            return MISMATCH, f"refusing connections from {refused_names} on a PERMISSIVE port: stale config?"
        if plaintext_now:
            return PLAINTEXT, f"plaintext now from {names}: STRICT would break them"
        earlier = sum(c.requests + c.connections for c in clients if c.security == "plaintext")
        note = f"; plaintext earlier ({earlier} since the proxy started)" if earlier else ""
        if mtls_now:
            return SAFE, "only mTLS seen in the window" + note
        return NO_TRAFFIC, "no requests in the window" + note
    if mode == DISABLE:
        return (OK, "mTLS disabled by policy; traffic arrives") if plaintext_now or mtls_now else \
            (NO_TRAFFIC, "no requests in the window")
    return NO_DATA, f"mode {mode}"


def _fix(verdict: str, port: int, workload: str, clients: list[ClientResult]) -> str:
    if verdict in (PLAINTEXT, REJECTING):
        steps = []
        for c in clients:
            if c.security != "plaintext" or not (c.rate_per_s or c.rejected):
                continue
            if c.namespace:
                steps.append(f"inject {c.name} (istio-injection=enabled on {c.namespace}, then restart it)")
            else:
                steps.append(f"{c.workload}: cannot be injected")
        steps.append(f"or add a port-level PERMISSIVE exception for {port} on {workload} (p on its pod)")
        return "; ".join(dict.fromkeys(steps))
    if verdict == SAFE:
        return f"safe to switch port {port} to STRICT (only mTLS seen in the window)"
    if verdict == MISMATCH:
        return "the proxy does not enforce what the policy says: check its sync status, istioctl proxy-config " \
               "listener, and PeerAuthentications istiod may have rejected"
    if verdict == NO_TRAFFIC:
        return "nothing called during the window: run the check again with a longer --window, or under load"
    return ""


def _port_result(port: int, modes: set[str], ev: _PortEvidence, window_s: float, workload: str) -> PortResult:
    clients = _clients(ev, window_s)
    judged = [_judge(m, clients) for m in sorted(modes)]
    verdict = worst([v for v, _ in judged]) or NO_DATA
    why = next(w for v, w in judged if v == verdict)
    return PortResult(port, "/".join(sorted(modes)), verdict, why, _fix(verdict, port, workload, clients),
                      tuple(clients))


def _sync_for(pod: Pod, sync: SyncEvidence) -> SyncInfo:
    pid = proxy_id(pod.namespace, pod.name)
    found = sync.proxies.get(pid)
    if found is not None:
        return found
    if sync.error:
        return SyncInfo(pid, NO_DATA, "", sync.error)
    return SyncInfo(pid, NOT_CONNECTED, "", "istiod does not list this proxy")


def _workload(pods: list[Pod], evidence: Mapping[tuple[str, str], PodEvidence], analysis: Analysis,
              sync: SyncEvidence, window_s: float, now: datetime, trust_domain: str) -> WorkloadResult:
    snapshot = analysis.snapshot
    book = AddressBook(snapshot)
    per_port: dict[int, _PortEvidence] = defaultdict(lambda: _PortEvidence([], []))
    modes: dict[int, set[str]] = defaultdict(set)
    certs: list[CertInfo] = []
    syncs: list[SyncInfo] = []
    no_data: list[str] = []
    for pod in pods:
        ev = evidence.get(pod.key) or PodEvidence(pod, errors=(("pod", "not checked (cancelled)"),))
        declared = pod_ports(pod, analysis.services)
        for p in declared:
            per_port[p]  # every declared port shows, with or without traffic
        if not ev.has_metrics:
            no_data.append(f"{pod.name}: {ev.why_no_data()}")
        else:
            assert ev.before is not None and ev.after is not None
            for rate in rates(inbound(ev.before), inbound(ev.after), window_s):
                per_port[_metric_port(rate, pod, snapshot, declared)].metrics.append(rate)
        for lc in log_callers(ev.logs or (), book):
            per_port[lc.port].logs.append(lc)
        if pod.has_sidecar:
            expected = expected_spiffe_id(trust_domain, pod.namespace, pod.service_account)
            if ev.certs is not None:
                certs.append(parse_certs(ev.certs, pod.name, expected, now))
            syncs.append(_sync_for(pod, sync))
    for p in per_port:
        for pod in pods:
            if not pod.has_sidecar:
                modes[p].add(NONE)
            else:
                modes[p].add(analysis.port(pod, p).mode if p else analysis.policies.resolve(pod).mode)
    metric_pods = sum(1 for pod in pods if (evidence.get(pod.key) or PodEvidence(pod)).has_metrics)
    ports = []
    for port in sorted(per_port):
        if metric_pods == 0:
            ports.append(PortResult(port, "/".join(sorted(modes[port])), NO_DATA, "; ".join(no_data),
                                    _no_data_fix(no_data)))
        else:
            ports.append(_port_result(port, modes[port] - {NONE} or {NONE}, per_port[port], window_s,
                                      pods[0].workload_name))
    return WorkloadResult(pods[0].namespace, pods[0].workload_name, tuple(p.name for p in pods), tuple(ports),
                          tuple(certs), tuple(syncs))


def _no_data_fix(reasons: list[str]) -> str:
    text = " ".join(reasons)
    if "no sidecar" in text:
        return "inject the workload (istio-injection=enabled on its namespace, then restart it)"
    if "403" in text or "forbidden" in text.lower() or "cannot" in text:
        return "grant get on pods/proxy (metrics) and create on pods/exec (certificates) in this namespace"
    if "timed out" in text:
        return "the proxy did not answer in time: check the pod is Ready and run the check again"
    return ""


def build_report(snapshot: Snapshot, pods: Iterable[Pod], evidence: Mapping[tuple[str, str], PodEvidence],
                 sync: SyncEvidence, *, window_s: float, started: datetime, now: datetime,
                 cancelled: bool = False, trust_domain: str = TRUST_DOMAIN) -> TlsReport:
    """The report for ``pods`` (the check's scope); pods without evidence yet count as not done."""
    analysis = analyze(snapshot)
    groups: dict[tuple[str, str], list[Pod]] = defaultdict(list)
    scope = sorted(pods, key=lambda p: (p.namespace, p.workload_name, p.name))
    for pod in scope:
        groups[(pod.namespace, pod.workload_name)].append(pod)
    workloads = tuple(
        _workload(members, evidence, analysis, sync, window_s, now, trust_domain)
        for _, members in sorted(groups.items())
        if any(p.key in evidence for p in members)
    )
    errors = tuple(PodError(f"{ev.pod.namespace}/{ev.pod.name}", f"{src}: {msg}")
                   for _, ev in sorted(evidence.items()) for src, msg in ev.errors)
    return TlsReport(window_s, started, workloads, errors, len(scope), len(evidence), cancelled)

"""Evidence from the sidecars + the engine's modes → a verdict per workload port.

Pure: the check runner (meshtui.tls.check) collects :class:`PodEvidence`; this module reads it.
Rates come from two metric samples ``window_s`` apart, callers the metrics cannot name
(``unknown``) are named from the access log, and every verdict says which source it rests on.
Ambient pods have no sidecar: their evidence is the connection metrics of the ztunnel on their node
(meshtui.tls.ztunnel_metrics), judged by the same rules.
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
from meshtui.tls.ztunnel_metrics import Connections, InboundCaller
from meshtui.tls.ztunnel_metrics import inbound as ztunnel_inbound

TRUST_DOMAIN = "cluster.local"


@dataclass(frozen=True, slots=True)
class ZtunnelEvidence:
    """Two samples of the metrics of the ztunnel that serves an ambient pod (its node's)."""

    pod: str  # the ztunnel's namespace/name
    before: tuple[Connections, ...]
    after: tuple[Connections, ...]


@dataclass(frozen=True, slots=True)
class PodEvidence:
    """What one pod's sidecar (or, in ambient mode, its node's ztunnel) gave (None: not read; see
    ``errors`` for why)."""

    pod: Pod
    before: tuple[Series, ...] | None = None
    after: tuple[Series, ...] | None = None
    logs: tuple[str, ...] | None = None
    certs: str | None = None
    errors: tuple[tuple[str, str], ...] = ()  # (source, message): source is stats / certs / logs / pod
    interval_s: float | None = None  # the time between this pod's two samples (None: the window)
    ztunnel: ZtunnelEvidence | None = None

    @property
    def has_metrics(self) -> bool:
        return (self.before is not None and self.after is not None) or self.ztunnel is not None

    def why_no_data(self) -> str:
        reasons = "; ".join(f"{src}: {msg}" for src, msg in self.errors if src in ("stats", "pod"))
        if reasons:
            return reasons
        return "no sidecar" if not self.pod.has_sidecar else "not read"


@dataclass(frozen=True, slots=True)
class SyncEvidence:
    proxies: Mapping[str, SyncInfo]
    error: str = ""  # why istiod could not be read


def _service_port(service_namespace: str, service: str, pod: Pod, snapshot: Snapshot, declared: list[int]) -> int:
    """The one target port of the called Service on this pod, else the pod's only port; 0 when
    neither tells."""
    svc = snapshot.services.get((service_namespace, service))
    if svc is not None:
        ports = {tp for sp in svc.ports if (tp := target_port(sp, pod)) is not None}
        if len(ports) == 1:
            return ports.pop()
    return declared[0] if len(declared) == 1 else 0


def _metric_port(rate: CallerRate, pod: Pod, snapshot: Snapshot, declared: list[int]) -> int:
    """The server port a sidecar's caller reached: a destination_port label, else the Service's."""
    if rate.key.port is not None:
        return rate.key.port
    return _service_port(rate.key.service_namespace, rate.key.service, pod, snapshot, declared)


@dataclass(slots=True)
class _PortEvidence:
    metrics: list[CallerRate]
    logs: list[LogCaller]
    ztunnel: list[InboundCaller]


def _merge(clients: Iterable[ClientResult]) -> list[ClientResult]:
    """One entry per caller, security and source: counts and rates summed (across pods too)."""
    merged: dict[tuple[str, str, str, str], ClientResult] = {}
    for c in clients:
        key = (c.namespace, c.workload, c.security, c.evidence)
        old = merged.get(key)
        if old is not None:
            c = ClientResult(c.namespace, c.workload, c.principal or old.principal, c.security,
                             old.requests + c.requests, old.connections + c.connections,
                             old.rate_per_s + c.rate_per_s, c.evidence, old.rejected + c.rejected,
                             (*old.lines, *c.lines)[:8])
        merged[key] = c
    return sorted(merged.values(), key=lambda c: (c.security != "plaintext", c.namespace, c.workload))


def _clients(ev: _PortEvidence, window_s: float) -> list[ClientResult]:
    """Metric callers, with plaintext ``unknown`` callers replaced by the ones the log names."""
    named_plaintext = [c for c in ev.logs if c.security == "plaintext" and c.accepted]
    named_in_metrics = {(m.key.namespace, m.key.workload) for m in ev.metrics
                        if m.key.workload and m.key.security == "plaintext"}
    out = []
    for m in ev.metrics:
        k = m.key
        if not k.workload and k.security == "plaintext" and named_plaintext:
            continue  # the log names these callers below
        out.append(ClientResult(k.namespace, k.workload or "unknown", k.principal, k.security, m.requests,
                                m.connections, m.rate_per_s, "metrics", 0, m.lines))
    for lc in ev.logs:
        if lc.security == "mutual_tls" and not lc.rejected:
            continue  # the metrics name mTLS callers, with their principal
        if not lc.rejected and (lc.caller.namespace, lc.caller.workload) in named_in_metrics:
            continue
        rate = lc.accepted / window_s if window_s > 0 else 0.0
        out.append(ClientResult(lc.caller.namespace, lc.caller.workload, lc.caller.principal, lc.security,
                                lc.accepted, 0, rate, "logs", lc.rejected, tuple(lc.lines)))
    for zc in ev.ztunnel:
        rate = zc.accepted_in_window / window_s if window_s > 0 else 0.0
        out.append(ClientResult(zc.namespace, zc.workload or "unknown", zc.principal, zc.security, 0, zc.accepted,
                                rate, "metrics", zc.denied_in_window, zc.lines))
    return _merge(out)


def _judge(mode: str, clients: list[ClientResult]) -> tuple[str, str]:
    plaintext_now = [c for c in clients if c.security == "plaintext" and c.rate_per_s > 0
                     and (c.requests or c.connections)]
    mtls_now = [c for c in clients if c.security == "mutual_tls" and c.rate_per_s > 0]
    refused = [c for c in clients if c.rejected]
    names = ", ".join(sorted({c.name for c in plaintext_now}))
    refused_names = ", ".join(sorted({c.name for c in refused}))
    if mode == STRICT:
        if plaintext_now:
            return MISMATCH, f"plaintext accepted from {names} on a port the policy makes STRICT: stale config?"
        if refused:
            return REJECTING, f"refusing plaintext from {refused_names} in the window"
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
                steps.append(f"{c.workload}: not a pod in the mesh, cannot be injected")
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


def _port_result(port: int, judged: list[tuple[str, str, list[ClientResult]]], missing: list[str],
                 workload: str, source: str) -> PortResult:
    """``judged``: (pod name, mode, callers) per pod; the port shows the worst pod's verdict."""
    results = [(*_judge(mode, clients), name) for name, mode, clients in judged]
    # A pod that saw no call says nothing against its replicas that did.
    verdict = worst([v for v, _, _ in results if v != NO_TRAFFIC]) or NO_TRAFFIC
    why = next(w for v, w, _ in results if v == verdict)
    if len(judged) > 1 and len({v for v, _, _ in results}) > 1:
        why += f" ({', '.join(n for v, _, n in results if v == verdict)})"
    if missing:
        why += f"; no data from {'; '.join(missing)}"
    if source:
        why += f"; {source}"
    clients = _merge(c for _, _, pod_clients in judged for c in pod_clients)
    modes = "/".join(sorted({mode for _, mode, _ in judged}))
    return PortResult(port, modes, verdict, why, _fix(verdict, port, workload, clients), tuple(clients))


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
    per_pod: dict[str, dict[int, _PortEvidence]] = {}
    ports: set[int] = set()
    certs: list[CertInfo] = []
    syncs: list[SyncInfo] = []
    missing: list[str] = []
    ztunnels: dict[str, None] = {}
    intervals: dict[str, float] = {}
    for pod in pods:
        ev = evidence.get(pod.key) or PodEvidence(pod, errors=(("pod", "not checked (cancelled)"),))
        declared = pod_ports(pod, analysis.services)
        ports.update(declared)  # every declared port shows, with or without traffic
        if not ev.has_metrics:
            missing.append(f"{pod.name}: {ev.why_no_data()}")
        else:
            found: dict[int, _PortEvidence] = defaultdict(lambda: _PortEvidence([], [], []))
            # ztunnel counts per workload: replicas on one node share a count, taken once.
            if ev.ztunnel is not None and ev.ztunnel.pod not in ztunnels:
                ztunnels[ev.ztunnel.pod] = None
                for zc in ztunnel_inbound(list(ev.ztunnel.before), list(ev.ztunnel.after), pod.namespace,
                                          pod.workload_name):
                    # ztunnel has no port label: the port comes from the Service it names.
                    found[_service_port(zc.service_namespace, zc.service, pod, snapshot, declared)].ztunnel.append(zc)
            if ev.before is not None and ev.after is not None:
                for rate in rates(inbound(ev.before), inbound(ev.after), ev.interval_s or window_s):
                    found[_metric_port(rate, pod, snapshot, declared)].metrics.append(rate)
            for lc in log_callers(ev.logs or (), book):
                found[lc.port].logs.append(lc)
            per_pod[pod.name] = found
            intervals[pod.name] = ev.interval_s or window_s
            ports.update(found)
        if pod.has_sidecar:
            expected = expected_spiffe_id(trust_domain, pod.namespace, pod.service_account)
            if ev.certs is not None:
                certs.append(parse_certs(ev.certs, pod.name, expected, now))
            syncs.append(_sync_for(pod, sync))

    def mode(pod: Pod, port: int) -> str:
        if not analysis.pod(pod).in_mesh:
            return NONE
        return analysis.port(pod, port).mode if port else analysis.policies.resolve(pod).mode

    source = (f"ztunnel metrics on {', '.join(ztunnels)} (per workload on its node), sampled {window_s:g}s apart"
              if ztunnels else "")
    results = []
    name = pods[0].workload_name
    for port in sorted(ports):
        if not per_pod:
            modes = "/".join(sorted({mode(p, port) for p in pods}))
            results.append(PortResult(port, modes, NO_DATA, "; ".join(missing), _no_data_fix(missing)))
            continue
        judged = [(pod.name, mode(pod, port),
                   _clients(per_pod[pod.name].get(port) or _PortEvidence([], [], []), intervals[pod.name]))
                  for pod in pods if pod.name in per_pod]
        results.append(_port_result(port, judged, missing, name, source))
    return WorkloadResult(pods[0].namespace, name, tuple(p.name for p in pods), tuple(results),
                          tuple(certs), tuple(syncs), tuple(ztunnels))


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

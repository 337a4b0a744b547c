"""Verify: failures caused by a step, named by client, from two sources (pure).

* The istio-proxy logs: a line counts when it is an mTLS-shaped failure — plaintext refused by a
  STRICT listener (``NR filter_chain_not_found``), a client's connection terminated by the server
  (``UC`` with ``connection_termination``), or a TLS handshake error — *and* it hit a pod port
  whose mode the step changed. Other failures (an app refusing connections, 404s) are not the
  step's doing.
* The sidecars' metrics: client-reported (``reporter="source"``) requests and TCP connections with
  the ``UC`` response flag (the server closed the connection: what a plaintext client's sidecar
  reports when a STRICT listener refuses it) toward a port the step changed, that grew between a
  sample taken when the verify window began and one taken now. ``UF``/``URX`` (connect refused, a
  TLS error toward a pod without sidecar) are an app or injection problem, not STRICT's doing. A
  client without sidecar reports nothing: only the server's log shows it refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from meshtui.change.plan import ChangePlan
from meshtui.logs.parser import parse_line
from meshtui.logs.record import LogRecord
from meshtui.migrate.plan import port_changes
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.services import target_port
from meshtui.tls.metrics import Series

TLS_PROBLEMS = ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "TLS_error")
# The Envoy response flag a client's sidecar reports when a STRICT server closes its plaintext connection.
REFUSED_FLAG = "UC"
PortKey = tuple[str, str, int]  # (namespace, pod, container port)
PodKey = tuple[str, str]


@dataclass(frozen=True, slots=True, order=True)
class VerifyFailure:
    client: str
    target: str
    reason: str
    count: int = 1
    source: str = "logs"  # logs / metrics


def changed_ports(plan: ChangePlan) -> set[PortKey]:
    return {(pod.namespace, pod.name, port) for pod, port, _, _ in port_changes(plan)}


def host_port(address: str | None) -> tuple[str, int] | None:
    """"10.0.0.1:8080" → ("10.0.0.1", 8080); None for "-" or anything else."""
    if not address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    return (host, int(port)) if port.isdigit() else None


def _reason(record: LogRecord) -> tuple[str, bool] | None:
    """(reason, seen by the server) of an mTLS-shaped failure, else None."""
    details = record.details or ""
    if "NR" in record.flags and details.startswith("filter_chain_not_found") and record.direction != "outbound":
        return "plaintext refused by STRICT (NR filter_chain_not_found)", True
    if record.mtls_problem in TLS_PROBLEMS:
        return f"TLS error ({record.mtls_problem})", record.direction == "inbound"
    if record.direction == "outbound" and "UC" in record.flags and "connection_termination" in details:
        return "connection terminated by the server (UC)", False
    return None


def failures(lines: Iterable[tuple[Pod, str]], snapshot: Snapshot, changed: set[PortKey]) -> list[VerifyFailure]:
    """Failures caused by the step among ``lines`` (the pod whose proxy wrote each line, the line)."""
    by_ip = {p.ip: p for p in snapshot.pods.values() if p.ip}
    counts: Counter[tuple[str, str, str]] = Counter()
    for pod, line in lines:
        record = parse_line(line)
        found = _reason(record)
        if found is None:
            continue
        reason, server_side = found
        if server_side:
            local, remote = host_port(record.downstream_local), host_port(record.downstream_remote)
            if local is None or (pod.namespace, pod.name, local[1]) not in changed:
                continue
            caller = by_ip.get(remote[0]) if remote else None
            client = f"{caller.namespace}/{caller.workload_name}" if caller else (remote[0] if remote else "unknown")
            target = f"{pod.namespace}/{pod.workload_name}:{local[1]}"
        else:
            upstream = host_port(record.upstream_host)
            server = by_ip.get(upstream[0]) if upstream else None
            if upstream is None or server is None or (server.namespace, server.name, upstream[1]) not in changed:
                continue
            client = f"{pod.namespace}/{pod.workload_name}"
            target = f"{server.namespace}/{server.workload_name}:{upstream[1]}"
        counts[(client, target, reason)] += 1
    return sorted(VerifyFailure(c, t, r, n) for (c, t, r), n in counts.items())


def _failure_key(series: Series) -> tuple[str, str, str, str, str, str, str] | None:
    """(source ns, source workload, destination ns, destination workload, service ns, service, flags)
    of a client-reported connection failure, else None."""
    labels = series.labels
    flags = labels.get("response_flags", "")
    if labels.get("reporter") != "source" or REFUSED_FLAG not in flags.split(","):
        return None
    return (labels.get("source_workload_namespace", ""), labels.get("source_workload", ""),
            labels.get("destination_workload_namespace", ""), labels.get("destination_workload", ""),
            labels.get("destination_service_namespace", ""), labels.get("destination_service_name", ""), flags)


def _totals(series: Iterable[Series]) -> Counter[tuple[str, str, str, str, str, str, str]]:
    out: Counter[tuple[str, str, str, str, str, str, str]] = Counter()
    for s in series:
        key = _failure_key(s)
        if key is not None:
            out[key] += int(s.value)
    return out


def _changed_target(snapshot: Snapshot, changed: set[PortKey], namespace: str, workload: str,
                    service_ns: str, service: str) -> int | None:
    """The changed container port of ``workload`` the Service leads to; None when the step changed
    none, or the Service is unknown (then the metrics cannot tell which port failed)."""
    svc = snapshot.services.get((service_ns, service))
    if svc is None:
        return None
    for pod in snapshot.pods_in(namespace):
        if pod.workload_name != workload:
            continue
        ports = {tp for sp in svc.ports if (tp := target_port(sp, pod)) is not None}
        hit = sorted(port for ns, name, port in changed if (ns, name) == pod.key and port in ports)
        if hit:
            return hit[0]
    return None


def metric_failures(before: Mapping[PodKey, Sequence[Series]], after: Mapping[PodKey, Sequence[Series]],
                    snapshot: Snapshot, changed: set[PortKey]) -> list[VerifyFailure]:
    """Client-reported connection failures toward a changed port that grew from ``before`` to
    ``after`` (each: the parsed metrics of a pod, by pod). A pod missing from ``before`` is left out:
    its counters since the proxy started say nothing about the step."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for key, series in after.items():
        if key not in before:
            continue
        then = _totals(before[key])
        for fkey, value in _totals(series).items():
            grown = value - then.get(fkey, 0)
            if value < then.get(fkey, 0):
                grown = value  # the proxy restarted: all it counted is new
            if grown <= 0:
                continue
            src_ns, src, dst_ns, dst, svc_ns, svc, flags = fkey
            port = _changed_target(snapshot, changed, dst_ns, dst, svc_ns, svc)
            if port is None:
                continue
            reason = f"connection failures ({flags}) reported by the client's sidecar"
            counts[(f"{src_ns}/{src}", f"{dst_ns}/{dst}:{port}", reason)] += grown
    return sorted(VerifyFailure(c, t, r, n, "metrics") for (c, t, r), n in counts.items())

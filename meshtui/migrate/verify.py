"""Verify: failures in the istio-proxy logs caused by a step, named by client (pure).

A line counts when it is an mTLS-shaped failure — plaintext refused by a STRICT listener
(``NR filter_chain_not_found``), a client's connection terminated by the server (``UC`` with
``connection_termination``), or a TLS handshake error — *and* it hit a pod port whose mode the
step changed. Other failures (an app refusing connections, 404s) are not the step's doing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from meshtui.change.plan import ChangePlan
from meshtui.logs.parser import parse_line
from meshtui.logs.record import LogRecord
from meshtui.migrate.plan import port_changes
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot

TLS_PROBLEMS = ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "TLS_error")
PortKey = tuple[str, str, int]  # (namespace, pod, container port)


@dataclass(frozen=True, slots=True, order=True)
class VerifyFailure:
    client: str
    target: str
    reason: str
    count: int = 1


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

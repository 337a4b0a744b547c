"""A server sidecar's access log → who reached which port, in plaintext or mTLS, and who was refused.

Istio clients put ``outbound_.PORT_._.HOST`` in the SNI of their mTLS connections, so an inbound
line with no SNI was plaintext. Refused connections (plaintext into STRICT) are ``NR
filter_chain_not_found`` lines or TLS errors. The downstream remote address names the caller: a pod
IP is that pod; a node IP (a pod's hostIP, or a hostNetwork pod's address) means traffic from
outside entered through that node, e.g. a NodePort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from meshtui.logs.parser import parse_line
from meshtui.logs.record import LogRecord
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot

REJECTIONS = frozenset({"filter_chain_not_found", "TLS_error", "WRONG_VERSION_NUMBER", "CERTIFICATE_VERIFY_FAILED"})
MAX_EVIDENCE_LINES = 5


@dataclass(frozen=True, slots=True)
class Caller:
    """A caller named from an address: a pod's workload, or a description of where it came from."""

    namespace: str
    workload: str
    principal: str = ""


@dataclass(slots=True)
class LogCaller:
    caller: Caller
    port: int
    security: str  # plaintext / mutual_tls
    accepted: int = 0
    rejected: int = 0
    lines: list[str] = field(default_factory=list)


class AddressBook:
    """Pod IP → pod, node IP → node name, from one snapshot."""

    def __init__(self, snapshot: Snapshot):
        self.pods: dict[str, Pod] = {}
        self.nodes: dict[str, str] = {}
        for pod in snapshot.pods.values():
            if pod.host_ip and pod.node:
                self.nodes[pod.host_ip] = pod.node
            if not pod.ip or pod.deleting:
                continue
            if pod.host_network:
                self.nodes[pod.ip] = pod.node
            else:
                self.pods[pod.ip] = pod

    def name(self, ip: str) -> Caller:
        pod = self.pods.get(ip)
        if pod is not None:
            return Caller(pod.namespace, pod.workload_name)
        node = self.nodes.get(ip)
        if node:
            return Caller("", f"external via NodePort on node {node}")
        return Caller("", f"unknown ({ip})")


def _host_port(address: str | None) -> tuple[str, int] | None:
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() else None


def _inbound(record: LogRecord) -> bool:
    return record.direction == "inbound" or (record.direction is None and record.mtls_problem in REJECTIONS)


def log_callers(lines: Iterable[str], book: AddressBook) -> list[LogCaller]:
    """Callers of this sidecar per (caller, port, security), with counts and a few example lines."""
    found: dict[tuple[Caller, int, str], LogCaller] = {}
    for line in lines:
        record = parse_line(line)
        if record.kind not in ("access", "tcp", "json") or not _inbound(record):
            continue
        local, remote = _host_port(record.downstream_local), _host_port(record.downstream_remote)
        if local is None or remote is None:
            continue
        rejected = record.mtls_problem in REJECTIONS
        security = "mutual_tls" if record.sni and not rejected else "plaintext"
        caller = book.name(remote[0])
        entry = found.setdefault((caller, local[1], security), LogCaller(caller, local[1], security))
        if rejected:
            entry.rejected += 1
        else:
            entry.accepted += 1
        if len(entry.lines) < MAX_EVIDENCE_LINES:
            entry.lines.append(line)
    return sorted(found.values(), key=lambda c: (c.port, c.caller.namespace, c.caller.workload, c.security))

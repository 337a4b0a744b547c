"""ztunnel's connection metrics → connection counts per source workload and security policy. Pure.

ztunnel (ambient mode) serves Prometheus text on :15020 at /metrics and at /stats/prometheus (the path
sidecars use, so ``Backend.proxy_stats`` reads a ztunnel pod as it reads a sidecar; istio/ztunnel
src/metrics/server.rs). Per connection it counts
``istio_tcp_connections_opened_total`` (and ``..._failed_total`` when the connection failed, e.g. a
policy denial) with the label set of its CommonTrafficLabels: reporter ("source" on the client's node,
"destination" on the server's), source_workload / source_workload_namespace / source_principal,
destination_workload / destination_workload_namespace / destination_principal, response_flags and
connection_security_policy. ztunnel writes "mutual_tls" for HBONE (Istio mTLS) and "unknown" for
everything else, i.e. plaintext into a captured pod (Envoy writes "none" there). A connection its policy
refuses (STRICT's deny of plaintext, an AuthorizationPolicy) is counted as opened with response_flags "-"
and then as failed with "DENY". There is no port label: ztunnel names the Service it guessed
(destination_service_namespace / destination_service_name). Counts are per destination *workload*, not
per pod. Source of the names and values: istio/ztunnel src/proxy/metrics.rs (CommonTrafficLabels,
SecurityPolicy, ResponseFlags, ConnectionResultBuilder) and src/proxy/inbound_passthrough.rs.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

OPENED = "istio_tcp_connections_opened_total"
FAILED = "istio_tcp_connections_failed_total"
MUTUAL_TLS = "mutual_tls"
# ztunnel's value for a connection that did not arrive over HBONE/mTLS.
UNKNOWN = "unknown"
# response_flags of a connection ztunnel's policy refused.
DENY = "DENY"

_SAMPLE = re.compile(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_]\w*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass(frozen=True, slots=True)
class Connections:
    """Connections between two workloads as one ztunnel counted them, for one security policy."""

    reporter: str
    source_namespace: str
    source_workload: str
    source_principal: str
    destination_namespace: str
    destination_workload: str
    service_namespace: str
    service: str
    security_policy: str
    opened: int
    failed: int
    denied: int  # of the failed, those ztunnel's policy refused (response_flags DENY)
    lines: tuple[str, ...] = field(default=(), compare=False)

    @property
    def mtls(self) -> bool:
        return self.security_policy == MUTUAL_TLS


def _labels(text: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if m is None:
            return None
        out[m.group(1)] = re.sub(r'\\[\\"n]', lambda e: _UNESCAPE[e.group(0)], m.group(2))
        pos = m.end()
    return out


def _count(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number >= 0 else None


# The labels a row is keyed by, in the order of Connections' first fields.
_Key = tuple[str, str, str, str, str, str, str, str, str]


def parse(text: str) -> list[Connections]:
    """Every (reporter, source, destination, Service, security policy) ztunnel counted, opened and failed
    summed over the other labels. Lines that are not well-formed samples are skipped."""
    totals: dict[_Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    lines: dict[_Key, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if not line.startswith((OPENED, FAILED)):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        name, raw_labels, raw_value = m.groups()
        if name not in (OPENED, FAILED):
            continue
        labels = _labels(raw_labels or "")
        count = _count(raw_value)
        if labels is None or count is None:
            continue
        get = labels.get
        key: _Key = (
            get("reporter", UNKNOWN), get("source_workload_namespace", UNKNOWN), get("source_workload", UNKNOWN),
            get("source_principal", UNKNOWN), get("destination_workload_namespace", UNKNOWN),
            get("destination_workload", UNKNOWN), get("destination_service_namespace", UNKNOWN),
            get("destination_service_name", UNKNOWN), get("connection_security_policy", UNKNOWN))
        counts = totals[key]
        if name == OPENED:
            counts[0] += count
        else:
            counts[1] += count
            counts[2] += count if labels.get("response_flags") == DENY else 0
        lines[key].append(line)
    return [Connections(*key, opened, failed, denied, lines=tuple(lines[key]))
            for key, (opened, failed, denied) in sorted(totals.items())]


def by_source(rows: list[Connections], namespace: str, workload: str,
              reporter: str = "destination") -> dict[tuple[str, str], dict[str, int]]:
    """Connections opened into ``namespace``/``workload`` per source (namespace, workload), by security
    policy ("mutual_tls" / "unknown"), as counted by ``reporter`` (the server side by default)."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        if (row.reporter, row.destination_namespace, row.destination_workload) != (reporter, namespace, workload):
            continue
        per = out[(row.source_namespace, row.source_workload)]
        per[row.security_policy] = per.get(row.security_policy, 0) + row.opened
    return dict(out)


@dataclass(frozen=True, slots=True)
class InboundCaller:
    """One source of connections into a workload, from two samples of the server's ztunnel."""

    namespace: str  # "" when ztunnel could not name the source
    workload: str
    principal: str  # "" without mTLS: only the handshake proves an identity
    security: str  # mutual_tls / plaintext
    service_namespace: str
    service: str
    accepted: int  # connections ztunnel let through since it started (second sample)
    accepted_in_window: int
    denied_in_window: int  # refused by ztunnel's policy between the samples
    lines: tuple[str, ...]


def _known(value: str) -> str:
    return "" if value == UNKNOWN else value


def _grown(now: int, then: int) -> int:
    """A counter that shrank means ztunnel restarted in between: its whole value is new."""
    return now - then if now >= then else now


def inbound(before: list[Connections], after: list[Connections], namespace: str,
            workload: str) -> list[InboundCaller]:
    """Callers of ``namespace``/``workload`` as the destination ztunnel counted them. On the server
    side "unknown" means the connection did not come over HBONE: plaintext."""
    def mine(rows: list[Connections]) -> dict[tuple[str, ...], Connections]:
        return {(row.source_namespace, row.source_workload, row.source_principal, row.service_namespace,
                 row.service, row.security_policy): row
                for row in rows if row.reporter == "destination"
                and (row.destination_namespace, row.destination_workload) == (namespace, workload)}

    then = mine(before)
    out = []
    for key, row in mine(after).items():
        old = then.get(key)
        opened = _grown(row.opened, old.opened if old else 0)
        failed = _grown(row.failed, old.failed if old else 0)
        denied = _grown(row.denied, old.denied if old else 0)
        out.append(InboundCaller(
            _known(row.source_namespace), _known(row.source_workload), _known(row.source_principal),
            MUTUAL_TLS if row.mtls else "plaintext", _known(row.service_namespace), _known(row.service),
            row.opened - row.failed, max(0, opened - failed), denied, row.lines))
    return sorted(out, key=lambda c: (c.namespace, c.workload, c.security, c.service))

"""ztunnel's connection metrics → connection counts per source workload and security policy. Pure.

ztunnel (ambient mode) serves Prometheus text on :15020 at /metrics and at /stats/prometheus (the path
sidecars use, so ``Backend.proxy_stats`` reads a ztunnel pod as it reads a sidecar; istio/ztunnel
src/metrics/server.rs). Per connection it counts
``istio_tcp_connections_opened_total`` (and ``..._failed_total`` when the connection failed, e.g. a
policy denial) with the label set of its CommonTrafficLabels: reporter ("source" on the client's node,
"destination" on the server's), source_workload / source_workload_namespace / source_principal,
destination_workload / destination_workload_namespace / destination_principal, response_flags and
connection_security_policy. ztunnel writes "mutual_tls" for HBONE (Istio mTLS) and "unknown" for
everything else, i.e. plaintext into a captured pod (Envoy writes "none" there). Source of the names
and values: istio/ztunnel src/proxy/metrics.rs (CommonTrafficLabels, SecurityPolicy, ResponseFlags).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

OPENED = "istio_tcp_connections_opened_total"
FAILED = "istio_tcp_connections_failed_total"
MUTUAL_TLS = "mutual_tls"
# ztunnel's value for a connection that did not arrive over HBONE/mTLS.
UNKNOWN = "unknown"

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
    security_policy: str
    opened: int
    failed: int

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


def parse(text: str) -> list[Connections]:
    """Every (reporter, source, destination, security policy) ztunnel counted, opened and failed summed
    over the other labels. Lines that are not well-formed samples are skipped."""
    totals: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for line in text.splitlines():
        if not line.startswith(("istio_tcp_connections_opened_total", "istio_tcp_connections_failed_total")):
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
        key = (
            labels.get("reporter", UNKNOWN),
            labels.get("source_workload_namespace", UNKNOWN),
            labels.get("source_workload", UNKNOWN),
            labels.get("source_principal", UNKNOWN),
            labels.get("destination_workload_namespace", UNKNOWN),
            labels.get("destination_workload", UNKNOWN),
            labels.get("connection_security_policy", UNKNOWN),
        )
        totals[key][0 if name == OPENED else 1] += count
    return [Connections(*key, opened, failed) for key, (opened, failed) in sorted(totals.items())]


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

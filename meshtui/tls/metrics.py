"""Istio's standard metrics from a sidecar → inbound traffic per caller, as counters and rates.

Reads both shapes a sidecar serves: the Prometheus text of pilot-agent's merged endpoint
(``:15020/stats/prometheus``) and Envoy's ``/stats`` text, where Istio encodes the labels into the
stat name (``reporter=.=destination;.;source_workload=.=...;_istio_requests_total: 1``). Only
``reporter="destination"`` series count: they are what the server's own sidecar saw arrive.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

REQUESTS = "istio_requests_total"
CONNECTIONS = "istio_tcp_connections_opened_total"
METRICS = (REQUESTS, CONNECTIONS)

# connection_security_policy values → the names meshtui reports.
SECURITY = {"mutual_tls": "mutual_tls", "none": "plaintext"}

_PROM_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$")
_PROM_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_ENVOY_TAGGED = re.compile(r"(.*);\.;_(" + "|".join(METRICS) + r"): (\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    labels: Mapping[str, str]
    value: float
    line: str


def _unescape(value: str) -> str:
    return re.sub(r"\\[\\\"n]", lambda m: _ESCAPES[m.group(0)], value)


def _prometheus(line: str) -> Series | None:
    m = _PROM_LINE.match(line)
    if m is None or m.group(1) not in METRICS:
        return None
    name, body, raw = m.groups()
    labels: dict[str, str] = {}
    pos = 0
    body = body or ""
    while pos < len(body):
        lm = _PROM_LABEL.match(body, pos)
        if lm is None or lm.end() == pos:
            return None
        labels[lm.group(1)] = _unescape(lm.group(2))
        pos = lm.end()
    try:
        value = float(raw)
    except ValueError:
        return None
    return Series(name, labels, value, line) if math.isfinite(value) else None


def _envoy(line: str) -> Series | None:
    m = _ENVOY_TAGGED.match(line)
    if m is None:
        return None
    labels: dict[str, str] = {}
    for part in m.group(1).split(";.;"):
        key, sep, value = part.partition("=.=")
        if not sep:
            return None
        labels[key] = value
    return Series(m.group(2), labels, float(m.group(3)), line)


def parse_stats(text: str) -> list[Series]:
    """The request and TCP-connection series in a stats dump (either shape); other lines are skipped."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        series = _envoy(line) if ";.;" in line else _prometheus(line)
        if series is not None:
            out.append(series)
    return out


@dataclass(frozen=True, slots=True)
class CallerKey:
    """One caller of a server sidecar as the destination reporter labels it."""

    namespace: str
    workload: str
    principal: str
    security: str  # mutual_tls / plaintext / unknown
    service: str  # destination_service_name ("" if unknown)
    service_namespace: str
    port: int | None  # destination_port when the mesh adds that label, else None


@dataclass(frozen=True, slots=True)
class Traffic:
    requests: int = 0
    connections: int = 0
    lines: tuple[str, ...] = ()


def _int_label(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _unknown(value: str | None) -> str:
    return "" if value in (None, "", "unknown") else str(value)


def inbound(series: Iterable[Series]) -> dict[CallerKey, Traffic]:
    """Destination-reported requests and TCP connections, summed per caller."""
    out: dict[CallerKey, Traffic] = {}
    for s in series:
        labels = s.labels
        if labels.get("reporter") != "destination":
            continue
        key = CallerKey(
            namespace=_unknown(labels.get("source_workload_namespace")),
            workload=_unknown(labels.get("source_workload")),
            principal=_unknown(labels.get("source_principal")),
            security=SECURITY.get(labels.get("connection_security_policy", ""), "unknown"),
            service=_unknown(labels.get("destination_service_name")),
            service_namespace=_unknown(labels.get("destination_service_namespace")),
            port=_int_label(labels.get("destination_port")),
        )
        old = out.get(key, Traffic())
        count = int(s.value)
        out[key] = Traffic(
            requests=old.requests + (count if s.name == REQUESTS else 0),
            connections=old.connections + (count if s.name == CONNECTIONS else 0),
            lines=(*old.lines, s.line),
        )
    return out


@dataclass(frozen=True, slots=True)
class CallerRate:
    """A caller's totals since the proxy started (second sample) and its rate across the window."""

    key: CallerKey
    requests: int
    connections: int
    rate_per_s: float
    lines: tuple[str, ...]


def rates(before: Mapping[CallerKey, Traffic], after: Mapping[CallerKey, Traffic],
          window_s: float) -> list[CallerRate]:
    """Per caller: counters from ``after``, rate = growth / window. A counter that shrank means the
    proxy restarted in between: its whole value is new."""
    out = []
    for key, now in after.items():
        then = before.get(key, Traffic())
        grown = 0
        for new, old in ((now.requests, then.requests), (now.connections, then.connections)):
            grown += new - old if new >= old else new
        rate = grown / window_s if window_s > 0 else 0.0
        out.append(CallerRate(key, now.requests, now.connections, rate, now.lines))
    return sorted(out, key=lambda c: (c.key.namespace, c.key.workload, c.key.security, c.key.service))

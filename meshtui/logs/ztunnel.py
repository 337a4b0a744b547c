"""ztunnel's access lines (ambient mode) → :class:`LogRecord`, and which lines concern one pod.

ztunnel writes one line per connection when it ends (target "access", message "connection complete";
level error with an ``error`` field when it failed) and "connection failed" when it denies a
connection before it knows the peers. Fields are ``key=value`` with string values quoted:
src.addr, src.workload, src.namespace, src.identity (only for mTLS), dst.addr, dst.hbone_addr,
dst.service, dst.workload, dst.namespace, dst.identity, direction, bytes_sent, bytes_recv, duration
("1ms"). Format: istio/ztunnel src/proxy/metrics.rs (``access_log!``, ``log_early_deny``); examples:
https://istio.io/latest/docs/ambient/usage/troubleshoot-ztunnel/ ("Verifying ztunnel traffic through
logs"). Real pods separate time, level, target and message with tabs; the docs print spaces.
"""

from __future__ import annotations

import re
from typing import Callable

from meshtui.logs.record import LogRecord, ZtunnelAccess
from meshtui.model.objects import Pod

_LINE = re.compile(
    r"(\d{4}-\d\d-\d\dT\S+)\s+(\w+)\s+access\s+(connection complete|connection failed)(?:\s+(.*))?$", re.S
)
_FIELD = re.compile(r'([\w.]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))')
_DURATION = re.compile(r"(\d+)ms$")
_PROBLEM_LEVELS = frozenset({"warn", "warning", "error"})

# "connection closed due to policy rejection: explicitly denied by: ..." is how STRICT refuses
# plaintext (istiod turns STRICT into a ztunnel deny rule); TLS errors are handshake failures.
_POLICY = "policy rejection"


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _FIELD.finditer(text):
        key, quoted, bare = m.groups()
        value = quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted is not None else bare
        out[key] = value
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _mtls_problem(error: str | None) -> str | None:
    if not error:
        return None
    if _POLICY in error:
        return "ztunnel_policy"
    if "tls" in error.lower() or "certificate" in error.lower():
        return "TLS_error"
    return None


def parse_ztunnel(line: str, body: str) -> LogRecord | None:
    """A ztunnel access line, or None when ``body`` is not one (``line`` is kept as the raw text)."""
    m = _LINE.match(body)
    if m is None:
        return None
    time, level, message, rest = m.groups()
    f = _fields(rest or "")
    error = f.get("error") or None
    peers = ZtunnelAccess(
        src_addr=f.get("src.addr"), src_workload=f.get("src.workload"), src_namespace=f.get("src.namespace"),
        src_identity=f.get("src.identity"), dst_addr=f.get("dst.addr"), dst_hbone_addr=f.get("dst.hbone_addr"),
        dst_service=f.get("dst.service"), dst_workload=f.get("dst.workload"),
        dst_namespace=f.get("dst.namespace"), dst_identity=f.get("dst.identity"), error=error,
    )
    direction = f.get("direction")
    duration = _DURATION.match(f.get("duration", ""))
    mtls = _mtls_problem(error)
    return LogRecord(
        raw=line, kind="ztunnel", time=time, level=level, logger="access", message=message,
        direction=direction if direction in ("inbound", "outbound") else None,  # type: ignore[arg-type]
        bytes_in=_int(f.get("bytes_recv")), bytes_out=_int(f.get("bytes_sent")),
        duration_ms=int(duration.group(1)) if duration else None,
        upstream_host=peers.dst_addr, downstream_remote=peers.src_addr, authority=peers.dst_service,
        details=error, problem=bool(error) or level.lower() in _PROBLEM_LEVELS, mtls_problem=mtls,
        ztunnel=peers,
    )


def _host(addr: str | None) -> str | None:
    return addr.rsplit(":", 1)[0] if addr else None


def involves(record: LogRecord, pod: Pod) -> bool:
    """The line is about a connection from or to ``pod`` (by workload name, else by IP)."""
    z = record.ztunnel
    if z is None:
        return False
    if (z.src_workload == pod.name and z.src_namespace in (None, pod.namespace)) or \
            (z.dst_workload == pod.name and z.dst_namespace in (None, pod.namespace)):
        return True
    if not pod.ip:
        return False
    return pod.ip in (_host(z.src_addr), _host(z.dst_addr), _host(z.dst_hbone_addr))


def pod_filter(pod: Pod, ztunnel_key: str) -> Callable[[str, LogRecord], bool]:
    """For logs tailed on behalf of an ambient pod: from the ztunnel (pod key "ns/name"), the lines
    about the pod's connections; from its waypoints, the requests to or from the pod's address."""

    def keep(key: str, record: LogRecord) -> bool:
        if key == ztunnel_key:
            return involves(record, pod)
        return bool(pod.ip) and pod.ip in (_host(record.upstream_host), _host(record.downstream_remote))

    return keep


def describe_peers(record: LogRecord) -> str:
    """"mTLS src-workload → dst-workload" (or "plain ..."), for the columns."""
    z = record.ztunnel
    if z is None:
        return ""
    src = z.src_workload or _host(z.src_addr) or "?"
    dst = z.dst_workload or z.dst_service or _host(z.dst_addr) or "?"
    mtls = "mTLS " if z.src_identity or z.dst_identity else "plain"
    return f"{mtls} {src} → {dst}"

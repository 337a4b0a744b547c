"""istio-proxy log lines → :class:`LogRecord`, through a chain of formats (first match wins).

Chain: optional `kubectl logs --prefix` and `--timestamps` prefixes (or the CRI node-log prefix
"TIME stdout F " that log shippers such as fluent-bit keep) are stripped, then Istio's default TEXT
access-log format (1.9+, and 1.5–1.8's without %RESPONSE_CODE_DETAILS% /
%CONNECTION_TERMINATION_DETAILS%, with or without the quoted %DYNAMIC_METADATA(istio.mixer:status)%),
JSON-encoded access logs, the proxy's own log lines (Envoy's `[time][thread][level][logger]` and
pilot-agent's tab-separated lines), else a raw line.
:func:`parse_line` never raises: the viewer must survive any byte the cluster sends.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any, Callable, TypeVar

import msgspec

from meshtui.logs.record import Direction, Kind, LogRecord, documented_access
from meshtui.logs.ztunnel import parse_ztunnel

__all__ = ["LogRecord", "parse_documented", "parse_line", "pod_prefix", "time_key"]

# What an access line becomes: LogRecord, or its printed form (documented_access); called with
# LogRecord's fields, positionally.
T = TypeVar("T")
Build = Callable[..., T]

# `kubectl logs --prefix` writes "[pod/NAME/CONTAINER] "; `--timestamps` writes RFC3339Nano + space;
# the CRI log file on the node (what log shippers read) adds the stream and a full/partial tag.
_KUBECTL_PREFIX = re.compile(r"\[pod/([^\]\s/]+)/[^\]\s]+\] ")
_KUBECTL_TIME = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?:(?:stdout|stderr) [FP] )?"
)

# Istio's default TEXT format. Envoy prints "-" for an absent value: the field patterns below
# match it without capturing, so an absent field reads as None with no per-field Python work.
_F = r"(?:-|(\S+))"  # unquoted field
_Q = r'"(?:-|([^"]*))"'  # quoted field
_N = r"(?:-|(\d+))"  # number
# The first optional group is %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% (Istio >= 1.9):
# before 1.9 the quoted transport-failure reason follows the flags directly, and Envoy never
# starts those two unquoted tokens with a quote. Istio 1.5–1.8 (Mixer era) put the quoted
# "%DYNAMIC_METADATA(istio.mixer:status)%" before it: of two quoted fields there, the second is
# the transport failure.
_ACCESS = re.compile(
    rf'\[([^\]]+)\] "(\S+) (\S+) (\S+)" {_N} {_F} (?:(?:-|([^"\s]\S*)) {_F} )?(?:"[^"]*" )?{_Q} '
    rf'{_N} {_N} {_N} \S+ {_Q} {_Q} {_Q} {_Q} {_Q} {_F} {_F} {_F} {_F}(?: {_F}(?: {_F})?)?\s*$'
)

# Envoy: "[2024-08-27 20:00:10.142][15][debug][connection] [source/...:12] [C3] message".
_ENVOY = re.compile(r"\[(\d{4}-\d\d-\d\d[ T][^\]]*)\]\[(\d+)\]\[(\w+)\]\[([\w.\-]+)\] ?(.*)", re.S)
# pilot-agent (zap): "2024-08-27T20:00:10.142Z\tinfo\txdsproxy\tmessage".
_AGENT = re.compile(r"(\d{4}-\d\d-\d\dT[^\t]+)\t(\w+)\t(?:([\w.\-]+)\t)?(.*)", re.S)

_PROBLEM_LEVELS = frozenset({"warn", "warning", "error", "err", "critical", "fatal"})
_NO_FLAGS: tuple[str, ...] = ()
# Istio's outbound catch-alls, and the internal listener that originates HBONE tunnels.
_OUTBOUND_CLUSTERS = frozenset({"PassthroughCluster", "BlackHoleCluster", "connect_originate"})


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _direction(cluster: str | None, sni: str | None) -> Direction | None:
    if cluster:
        if cluster.startswith("outbound|") or cluster in _OUTBOUND_CLUSTERS:
            return "outbound"
        if cluster.startswith(("inbound|", "InboundPassthroughCluster")):
            return "inbound"
    # Istio clients put "outbound_.PORT_.SUBSET_.HOST" in SNI; seeing it means we are the server.
    if sni and sni.startswith("outbound_."):
        return "inbound"
    return None


def _mtls_problem(direction: str | None, details: str | None, transport: str | None) -> str | None:
    if transport:
        if "CERTIFICATE_VERIFY_FAILED" in transport:
            return "CERTIFICATE_VERIFY_FAILED"
        if "WRONG_VERSION_NUMBER" in transport:
            return "WRONG_VERSION_NUMBER"
        if "TLS_error" in transport:
            return "TLS_error"
    if details:
        if details.startswith("filter_chain_not_found") and direction != "outbound":
            return "filter_chain_not_found"
        if details.startswith("rbac_access_denied"):
            return "rbac_denied"
        if "connection_termination" in details:
            return "connection_termination"
        if "CERTIFICATE_VERIFY_FAILED" in details:
            return "CERTIFICATE_VERIFY_FAILED"
        if "WRONG_VERSION_NUMBER" in details:
            return "WRONG_VERSION_NUMBER"
        if "TLS_error" in details:
            return "TLS_error"
    return None


def _is_problem(code: int | None, flags: tuple[str, ...], mtls: str | None, transport: str | None) -> bool:
    return bool(flags) or mtls is not None or transport is not None or (code is not None and code >= 400)


def _access(build: Build[T], line: str, body: str, prefix_time: str | None) -> T | None:
    m = _ACCESS.match(body)
    if m is None:
        return None
    (time, method, path, protocol, code_s, flags_s, details, termination, transport, b_in, b_out, dur, xff,
     user_agent, request_id, authority, upstream_host, cluster, u_local, d_local, d_remote, sni, route) = m.groups()
    return _record(
        build, line, "tcp" if method == "-" and path == "-" else "access", time or prefix_time,
        None if method == "-" else method, None if path == "-" else path, None if protocol == "-" else protocol,
        int(code_s) if code_s else None, flags_s, details, termination,
        transport or None,  # a quoted field may be empty ("")
        int(b_in) if b_in else None, int(b_out) if b_out else None, int(dur) if dur else None,
        upstream_host or None, cluster, authority or None, sni, request_id or None, user_agent or None, xff or None,
        u_local, d_local, d_remote, route,
    )


def _record(build: Build[T], line: str, kind: Kind, time: str | None, method: str | None, path: str | None,
            protocol: str | None, code: int | None, flags_s: str | None, details: str | None, termination: str | None,
            transport: str | None, b_in: int | None, b_out: int | None, dur: int | None,
            upstream_host: str | None, cluster: str | None, authority: str | None, sni: str | None,
            request_id: str | None, user_agent: str | None, xff: str | None, u_local: str | None,
            d_local: str | None, d_remote: str | None, route: str | None) -> T:
    """An access line (TEXT or JSON) from its fields, absent ones None, built by ``build``."""
    flags = tuple(flags_s.split(",")) if flags_s else _NO_FLAGS
    direction = _direction(cluster, sni)
    # Most lines are "via_upstream" with no transport failure: nothing to look for in them.
    mtls = _mtls_problem(direction, details, transport) if transport or (details and details != "via_upstream") \
        else None
    # Positional, in LogRecord's field order: this runs once per line, and 28 keywords cost three
    # times as much as the arguments themselves (tests/bench/bench_logs_cli.py).
    return build(
        line, kind, time, direction, method, path, protocol, code, flags, details, termination, transport,
        b_in, b_out, dur, upstream_host, cluster, authority, sni, request_id, user_agent, xff,
        u_local, d_local, d_remote, route,
        None, None, None,  # level, logger, message: the proxy's own lines only
        _is_problem(code, flags, mtls, transport), mtls,
    )


_ABSENT = frozenset({"-", ""})  # how Envoy writes a value it does not have


def _text(value: Any) -> str | None:
    """A JSON value as text: None for null, "-" and ""; other types as Python prints them."""
    if value.__class__ is not str:  # runs ~20 times per JSON line: the common case first
        if value is None:
            return None
        value = str(value)
    return None if value in _ABSENT else value


class _JsonAccess(msgspec.Struct, gc=False):
    """The fields of a JSON-encoded access log line (Istio's JSON encoding uses the TEXT format's
    names) that the record reads; other keys are skipped while decoding. Values stay as decoded
    (any JSON type); start_time and response_code are UNSET when absent, to tell an access line."""

    start_time: Any = msgspec.UNSET
    response_code: Any = msgspec.UNSET
    method: Any = None
    path: Any = None
    protocol: Any = None
    response_flags: Any = None
    response_code_details: Any = None
    connection_termination_details: Any = None
    upstream_transport_failure_reason: Any = None
    bytes_received: Any = None
    bytes_sent: Any = None
    duration: Any = None
    upstream_host: Any = None
    upstream_cluster: Any = None
    authority: Any = None
    requested_server_name: Any = None
    request_id: Any = None
    user_agent: Any = None
    x_forwarded_for: Any = None
    upstream_local_address: Any = None
    downstream_local_address: Any = None
    downstream_remote_address: Any = None
    route_name: Any = None


# C decoding straight into the fields read: no dict of every key per line.
_decode_json_access = msgspec.json.Decoder(_JsonAccess).decode


# _JsonAccess's text fields, in _record's order on either side of the response code.
_json_request = attrgetter("method", "path", "protocol")
_json_outcome = attrgetter(
    "response_flags", "response_code_details", "connection_termination_details", "upstream_transport_failure_reason",
)
_json_peers = attrgetter(
    "upstream_host", "upstream_cluster", "authority", "requested_server_name", "request_id", "user_agent",
    "x_forwarded_for", "upstream_local_address", "downstream_local_address", "downstream_remote_address",
    "route_name",
)


def _json(build: Build[T], line: str, body: str, prefix_time: str | None) -> T | None:
    try:
        data = _decode_json_access(body)
    except (msgspec.DecodeError, RecursionError):  # not JSON, or JSON but not an object
        return None
    start_time, response_code = data.start_time, data.response_code
    if start_time is msgspec.UNSET and response_code is msgspec.UNSET:
        return None
    time = (None if start_time is msgspec.UNSET else _text(start_time)) or prefix_time
    method, path, protocol = map(_text, _json_request(data))
    flags_s, details, termination, transport = map(_text, _json_outcome(data))
    upstream_host, cluster, authority, sni, request_id, user_agent, xff, u_local, d_local, d_remote, route = map(
        _text, _json_peers(data))
    return _record(build, line, "json", time, method, path, protocol, _int(response_code), flags_s, details,
                   termination, transport, _int(data.bytes_received), _int(data.bytes_sent), _int(data.duration),
                   upstream_host, cluster, authority, sni, request_id, user_agent, xff, u_local, d_local, d_remote,
                   route)


def _own(line: str, time: str, level: str, logger: str | None, message: str) -> LogRecord:
    mtls = _mtls_problem(None, message, None)
    # An RBAC "enforced denied" debug line is worth showing even though its level is debug.
    return LogRecord(
        raw=line, kind="envoy", time=time, level=level, logger=logger, message=message,
        problem=level.lower() in _PROBLEM_LEVELS or mtls is not None, mtls_problem=mtls,
    )


def parse_line(line: str) -> LogRecord:
    """Parse one line (trailing newline allowed). Never raises."""
    try:
        return _parse(LogRecord, line.rstrip("\r\n"))
    except Exception:  # a parser bug must cost one line's columns, never the viewer
        return LogRecord(raw=line)


def parse_documented(line: str) -> msgspec.Struct:
    """``parse_line(line).documented()``, with access lines (most of a log) built straight into
    their printed form. Never raises."""
    try:
        out = _parse(documented_access, line.rstrip("\r\n"))
    except Exception:
        out = LogRecord(raw=line)
    return out.documented() if isinstance(out, LogRecord) else out


def pod_prefix(line: str) -> str | None:
    """The pod named by a `kubectl logs --prefix` "[pod/NAME/CONTAINER] " prefix, if the line has one."""
    if not line.startswith("[pod/"):
        return None
    m = _KUBECTL_PREFIX.match(line)
    return m.group(1) if m else None


def _parse(build: Build[T], line: str) -> T | LogRecord:
    body = line
    prefix_time = None
    if body.startswith("[pod/"):
        m = _KUBECTL_PREFIX.match(body)
        if m:
            body = body[m.end():]
    if body[:1].isdigit():
        # ztunnel's own time looks like kubectl's --timestamps prefix: try its format first.
        record = parse_ztunnel(line, body)
        if record is not None:
            return record
        m = _KUBECTL_TIME.match(body)
        if m:
            prefix_time = m.group(1)
            body = body[m.end():]
    first = body[:1]
    if first == "[":
        access = _access(build, line, body, prefix_time)
        if access is not None:
            return access
        m = _ENVOY.match(body)
        if m:
            time, _thread, level, logger, message = m.groups()
            return _own(line, time, level, logger, message)
    elif first == "{":
        access = _json(build, line, body, prefix_time)
        if access is not None:
            return access
    elif first.isdigit():
        record = parse_ztunnel(line, body)
        if record is not None:
            return record
        m = _AGENT.match(body)
        if m:
            time, level, logger, message = m.groups()
            return _own(line, time, level, logger, message)
    return LogRecord(raw=line, time=prefix_time)


def time_key(time: str | None) -> str:
    """A sortable key for Envoy's, Istio's and kubectl's time formats ("" sorts first)."""
    if not time or len(time) < 19:
        return ""
    # "2024-08-27 20:00:10.142" (Envoy) and "2024-08-27T20:00:10.142Z" (access log) align on
    # date, a separator, then time; normalise the separator and keep millisecond precision.
    return time[:10] + "T" + time[11:23]

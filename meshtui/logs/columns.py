"""A log record laid out as the viewer's columns: plain text segments with a style key each.

Pure: the widget maps style keys to theme styles. Columns: [pod] time dir tls code flags
method+path from upstream, then details, transport failure, duration and authority/SNI for
whoever scrolls right. Code and flags come before the path so the answer to "what failed" stays
on screen in a narrow pane; the width given decides how much room path, client and upstream
share (a wide terminal gives them more, a narrow pane drops the time before cutting them short).
Envoy's own lines show level, logger and message; anything else shows the raw text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshtui.logs.record import LogRecord
from meshtui.text import safe_line

Segment = tuple[str, str]  # (text, style key; "" = the widget's base style)

FLAGS_WIDTH = 4  # one flag and its padding; several flags take what they need
POD_WIDTH = 20
POD_STYLES = 6  # pods cycle through style keys "pod-0" .. "pod-5"
_DIR_WIDTH = 4
_TLS_WIDTH = 6
_CODE_WIDTH = 4
_FIXED = _DIR_WIDTH + _TLS_WIDTH + _CODE_WIDTH + FLAGS_WIDTH + 1
_SHARED_MIN = 44  # path + client + upstream: below this the time column gives way
_TLS_LABELS = {"mtls": ("mTLS", "tls-mtls"), "tls": ("TLS", "tls-other"), "plaintext": ("plain", "tls-plain")}

_LEVEL_STYLES = {
    "warning": "code-4xx", "warn": "code-4xx", "error": "code-5xx", "err": "code-5xx",
    "critical": "code-5xx", "fatal": "code-5xx", "debug": "dim", "trace": "dim",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths for one view width. ``time`` is 12 (with ms), 8 or 0 (hidden)."""

    time: int = 12
    path: int = 36
    client: int = 24
    upstream: int = 32


DEFAULT_LAYOUT = Layout()


def layout_for(width: int, *, show_time: bool = True, pod_width: int = 0) -> Layout:
    """Share ``width`` (0: unknown, the defaults) between the columns: path 40%, client 35% and
    upstream 25% of what the fixed columns leave, never less than a readable minimum."""
    if width <= 0:
        return DEFAULT_LAYOUT if show_time else Layout(time=0)
    rest = width - _FIXED - pod_width
    time = 0
    if show_time:
        # Milliseconds only where they cost the shared columns nothing they need.
        for candidate, needs in ((12, _SHARED_MIN + 12), (8, _SHARED_MIN)):
            if rest - candidate - 1 >= needs:
                time = candidate
                break
    rest -= time + 1 if time else 0
    rest = max(rest - 3, 16 + 12 + 10)  # three separating spaces; the minimums below
    path = max(16, rest * 40 // 100)
    client = max(12, rest * 35 // 100)
    return Layout(time=time, path=path, client=client, upstream=max(10, rest - path - client))


def _printable(segments: list[Segment]) -> list[Segment]:
    """A log line may carry escape sequences, bidi overrides or other control characters: shown
    as-is they would drive the terminal (isprintable() is the fast path for the usual line). A tab
    only spaces text out: it stays a space."""
    return [(text if text.isprintable() else safe_line(text.replace("\t", " ")), style) for text, style in segments]


def code_style(code: int | None) -> str:
    if code is None or code == 0:
        return "dim"
    if code >= 500:
        return "code-5xx"
    if code >= 400:
        return "code-4xx"
    if code >= 300:
        return "code-3xx"
    return "code-2xx"


def short_time(time: str | None, width: int = 12) -> str:
    """"HH:MM:SS.mmm" (or "HH:MM:SS" for width 8) from any of the ISO/Envoy/kubectl forms, padded."""
    if time and len(time) >= 19:
        return time[11 : 11 + width].ljust(width)
    return " " * width


# A Deployment pod is WORKLOAD-<pod-template-hash>-<5 chars>; the hash is the same for all of a
# ReplicaSet's pods, so it only costs room. Kubernetes draws both from this alphabet.
_POD_NAME = re.compile(r"(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-([bcdfghjklmnpqrstvwxz2456789]{5})")


def short_pod(pod: str) -> str:
    """A short name for a "namespace/pod" key: the ReplicaSet hash dropped, and a name still too
    long cut in the middle, so that the distinct tail stays ("reviews-v1-x2k4p")."""
    name = pod.rsplit("/", 1)[-1]
    m = _POD_NAME.fullmatch(name)
    if m:
        name = f"{m.group(1)}-{m.group(2)}"
    if len(name) > POD_WIDTH:
        name = name[: POD_WIDTH - 7] + "…" + name[-6:]
    return name


def short_upstream(record: LogRecord) -> str:
    """Istio's cluster names, shortened: "outbound|9080|v1|reviews.default.svc.cluster.local" →
    "reviews.default:9080 v1", "inbound|9080||" → "inbound:9080"; else the cluster or host."""
    cluster = record.upstream_cluster
    if cluster and cluster.count("|") == 3:
        direction, port, subset, host = cluster.split("|")
        if direction == "inbound":
            return f"inbound:{port}"
        host = host.removesuffix(".svc.cluster.local")
        return f"{host}:{port} {subset}" if subset else f"{host}:{port}"
    return cluster or record.upstream_host or ""


def _fit_client(text: str, width: int, wrap: bool) -> str:
    """A "namespace/workload" too long for its column loses the namespace before the workload."""
    if len(text) > width and not wrap and "/" in text:
        namespace, _, workload = text.partition("/")
        room = width - len(workload) - 2
        if room >= 0:
            return (namespace[:room] + "…/" + workload).ljust(width)
    return _fit(text, width, wrap)


def _fit(text: str, width: int, wrap: bool) -> str:
    if len(text) > width and not wrap:
        return text[: width - 1] + "…"
    return text.ljust(width)


def row_segments(record: LogRecord, *, pod: str | None = None, pod_index: int = 0, show_time: bool = True,
                 wrap: bool = False, client: str | None = None, layout: Layout | None = None) -> list[Segment]:
    """The columns for one line. ``pod`` is the short name shown (coloured by ``pod_index``) in
    multi-pod views; ``client`` names the downstream peer when the caller resolved it."""
    layout = layout or (DEFAULT_LAYOUT if show_time else Layout(time=0))
    out: list[Segment] = []
    kind = record.kind
    if kind == "marker":
        return _printable([(record.message or record.raw, "marker")])
    if pod is not None:
        out.append((_fit(pod, POD_WIDTH, False) + " ", f"pod-{pod_index % POD_STYLES}"))
    if layout.time:
        out.append((short_time(record.time, layout.time) + " ", "time"))
    if kind == "envoy":
        level = record.level or ""
        out.append((level[:5].ljust(5) + " ", _LEVEL_STYLES.get(level.lower(), "")))
        if record.logger:
            out.append((f"[{record.logger}] ", "dim"))
        out.append((record.message or "", "mtls" if record.mtls_problem else ""))
        return _printable(out)
    if kind == "ztunnel":
        return _printable(out + ztunnel_segments(record, wrap, layout))
    if kind == "raw":
        # The raw line already carries its own time when it has one.
        out.append((record.raw, "dim"))
        return _printable(out)
    direction = record.direction
    out.append(("in  " if direction == "inbound" else "out " if direction == "outbound" else "    ",
                direction or "dim"))
    tls, tls_style = _TLS_LABELS.get(record.tls or "", ("", "dim"))
    out.append((tls.ljust(_TLS_WIDTH), tls_style))
    out.append((str(record.code if record.code is not None else "-").rjust(3) + " ", code_style(record.code)))
    out.append((",".join(record.flags).ljust(FLAGS_WIDTH) + " ", "flag"))
    if record.method is None and record.path is None:
        request = "TCP"
    else:
        request = f"{record.method or '-'} {record.path or '-'}"
    out.append((_fit(request, layout.path, wrap) + " ", "tcp" if request == "TCP" else ""))
    peer = client or record.downstream_remote or ""
    out.append((_fit_client(peer, layout.client, wrap) + " ", "client"))
    out.append((_fit(short_upstream(record), layout.upstream, wrap) + " ", "upstream"))
    if record.details and record.details != "via_upstream":
        out.append((record.details + " ", "mtls" if record.mtls_problem else "details"))
    if record.transport_failure:
        out.append((_fit(record.transport_failure, 40, wrap) + " ", "mtls" if record.mtls_problem else "details"))
    if record.duration_ms is not None:
        out.append((f"{record.duration_ms}ms ", "dim"))
    target = record.authority or record.sni
    if target:
        out.append((target, ""))
    return _printable(out)


def ztunnel_segments(record: LogRecord, wrap: bool, layout: Layout = DEFAULT_LAYOUT) -> list[Segment]:
    """direction, peers and whether mTLS carried them, bytes, duration, then the error if any."""
    from meshtui.logs.ztunnel import describe_peers

    direction = record.direction
    out: list[Segment] = [("in  " if direction == "inbound" else "out " if direction == "outbound" else "    ",
                           direction or "dim")]
    # The peers take the room of a request line's path and client.
    out.append((_fit(describe_peers(record), layout.path + layout.client, wrap) + " ", "tcp"))
    out.append((f"↑{record.bytes_out or 0} ↓{record.bytes_in or 0} ", "dim"))
    if record.duration_ms is not None:
        out.append((f"{record.duration_ms}ms ", "dim"))
    if record.details:
        out.append((record.details, "mtls" if record.mtls_problem else "code-5xx"))
    elif record.authority:
        out.append((record.authority, ""))
    return out


def row_text(segments: list[Segment]) -> str:
    return "".join(text for text, _style in segments)

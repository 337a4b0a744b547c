"""A log record laid out as the viewer's columns: plain text segments with a style key each.

Pure: the widget maps style keys to theme styles. Columns: [pod] time dir code flags
method+path (or TCP) details upstream duration authority/SNI. Code and flags come before the path
so the answer to "what failed" stays on screen in a narrow pane. Envoy's own lines show level, logger and
message; anything else shows the raw text.
"""

from __future__ import annotations

from meshtui.logs.record import LogRecord
from meshtui.text import safe_line

Segment = tuple[str, str]  # (text, style key; "" = the widget's base style)

PATH_WIDTH = 36  # method + path column when not wrapping
FLAGS_WIDTH = 4  # one flag and its padding; several flags take what they need
POD_WIDTH = 18
POD_STYLES = 6  # pods cycle through style keys "pod-0" .. "pod-5"

_LEVEL_STYLES = {
    "warning": "code-4xx", "warn": "code-4xx", "error": "code-5xx", "err": "code-5xx",
    "critical": "code-5xx", "fatal": "code-5xx", "debug": "dim", "trace": "dim",
}


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


def short_time(time: str | None) -> str:
    """"HH:MM:SS.mmm" from any of the ISO/Envoy/kubectl forms, padded to 12 columns."""
    if time and len(time) >= 19:
        return time[11:23].ljust(12)
    return " " * 12


def short_pod(pod: str) -> str:
    name = pod.rsplit("/", 1)[-1]
    if len(name) > POD_WIDTH:
        name = name[: POD_WIDTH - 1] + "…"
    return name.ljust(POD_WIDTH)


def _fit(text: str, width: int, wrap: bool) -> str:
    if wrap:
        return text.ljust(width)
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)


def row_segments(record: LogRecord, *, pod: str | None = None, pod_index: int = 0,
                 show_time: bool = True, wrap: bool = False) -> list[Segment]:
    """The columns for one line. ``pod`` is shown (coloured by ``pod_index``) for multi-pod views."""
    out: list[Segment] = []
    if pod is not None:
        out.append((short_pod(pod) + " ", f"pod-{pod_index % POD_STYLES}"))
    if show_time:
        out.append((short_time(record.time) + " ", "time"))
    kind = record.kind
    if kind == "envoy":
        level = record.level or ""
        out.append((level[:5].ljust(5) + " ", _LEVEL_STYLES.get(level.lower(), "")))
        if record.logger:
            out.append((f"[{record.logger}] ", "dim"))
        out.append((record.message or "", "mtls" if record.mtls_problem else ""))
        return _printable(out)
    if kind == "raw":
        # The raw line already carries its own time when it has one.
        out.append((record.raw, "dim"))
        return _printable(out)
    direction = record.direction
    out.append(("in  " if direction == "inbound" else "out " if direction == "outbound" else "    ",
                direction or "dim"))
    if record.method is None and record.path is None:
        request = "TCP"
    else:
        request = f"{record.method or '-'} {record.path or '-'}"
    out.append((str(record.code if record.code is not None else "-").rjust(3) + " ", code_style(record.code)))
    out.append((",".join(record.flags).ljust(FLAGS_WIDTH) + " ", "flag"))
    out.append((_fit(request, PATH_WIDTH, wrap) + " ", "tcp" if request == "TCP" else ""))
    if record.details and record.details != "via_upstream":
        out.append((record.details + " ", "mtls" if record.mtls_problem else "details"))
    if record.transport_failure:
        out.append((_fit(record.transport_failure, 40, wrap) + " ",
                    "mtls" if record.mtls_problem else "details"))
    upstream = record.upstream_cluster or record.upstream_host
    if upstream:
        out.append((upstream + " ", "upstream"))
    if record.duration_ms is not None:
        out.append((f"{record.duration_ms}ms ", "dim"))
    target = record.authority or record.sni
    if target:
        out.append((target, ""))
    return _printable(out)


def row_text(segments: list[Segment]) -> str:
    return "".join(text for text, _style in segments)

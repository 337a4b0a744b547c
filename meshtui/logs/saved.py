"""Log lines as meshtui saves them and reads them back, and the change markers among them. Pure.

A saved line from a live tail carries the pod it came from as `kubectl logs --prefix` writes it
("[pod/NAME/istio-proxy] "), so a saved multi-pod log (and any `kubectl logs --prefix` output)
opens with its pods told apart. A change marker is saved as its own text.
"""

from __future__ import annotations

import re
from datetime import datetime

from meshtui.logs.parser import parse_line, pod_prefix
from meshtui.logs.record import LogRecord

MARKER_POD = ""  # the pod key of change markers: not a pod, never given a column or colour
_MARKER = re.compile(r"── \d\d:\d\d:\d\d .+ ──")


def change_marker(what: str, at: datetime) -> LogRecord:
    """The line put in every open log stream when meshtui changes the cluster, e.g.
    "── 08:12:24 Set mTLS STRICT on namespace kubestock-staging applied ──"."""
    text = f"── {at:%H:%M:%S} {what} ──"
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return LogRecord(raw=text, kind="marker", time=stamp, message=text)


def saved_line(pod: str, record: LogRecord) -> str:
    """The line to write for an entry: prefixed with its pod when it came from a live tail (a
    "namespace/pod" key) and does not carry a prefix already."""
    _namespace, sep, name = pod.partition("/")
    if record.kind == "marker" or not sep or record.raw.startswith("[pod/"):
        return record.raw
    return f"[pod/{name}/istio-proxy] {record.raw}"


def read_line(line: str, source: str) -> tuple[str, LogRecord]:
    """(pod, record) for a line of a file: the pod its prefix names, else ``source``. A marker
    line meshtui saved comes back as a marker. (Only in files: a pod's own output never does.)"""
    line = line.rstrip("\r\n")
    if line.startswith("── ") and _MARKER.fullmatch(line):
        return MARKER_POD, LogRecord(raw=line, kind="marker", message=line)
    return pod_prefix(line) or source, parse_line(line)

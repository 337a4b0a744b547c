"""What a log tail hands over: lines of several pods, each tagged with its pod. Shared by the tail
(which reads) and the views (which show), so a view needs no backend to name them."""

from __future__ import annotations

from meshtui.logs.record import LogRecord

Target = tuple[str, str]  # (namespace, pod)
Batch = list[tuple[str, LogRecord]]  # (pod key "namespace/pod", record)


def pod_key(target: Target) -> str:
    return f"{target[0]}/{target[1]}"

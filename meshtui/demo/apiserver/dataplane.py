"""What the API server relays from the data plane: pods/log, pods/proxy and pods/exec.

The server owns the API objects; what a pod's containers answer lives behind :class:`DataPlane`.
Tests script the answers (:class:`ScriptedDataPlane`); the demo's simulated mesh derives them from
its traffic model (``meshtui.demo.dataplane``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from meshtui.demo.apiserver.logs import LogKey, PodLogs

# (namespace, pod, container, command) -> (stdout, stderr, exit code)
ExecHandler = Callable[[str, str, str, list[str]], tuple[str, str, int]]


class DataPlane(Protocol):
    def log(self, key: LogKey, *, tail: int | None, since_seconds: int | None, timestamps: bool, follow: bool,
            alive: Callable[[], bool]) -> Iterator[str]:
        """Lines with "\\n", as the kubelet streams them; blocks while following."""
        ...

    def proxy(self, namespace: str, pod: str, port: int, path: str) -> tuple[str, int] | None:
        """The pod's answer to GET ``path`` on ``port`` and its HTTP status; None when it answers 404."""
        ...

    def exec(self, namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
        ...

    def pod_deleted(self, namespace: str, pod: str) -> None:
        ...

    def close(self) -> None:
        ...


class ScriptedDataPlane:
    """Answers that tests set: appended log lines, fixed proxy texts, an exec handler."""

    def __init__(self) -> None:
        self.logs = PodLogs()
        self._proxy_texts: dict[tuple[str, str, int, str], tuple[str, int]] = {}
        self._exec_handler: ExecHandler | None = None
        self._lock = threading.Lock()

    def append_log(self, key: LogKey, line: str, at: datetime | None = None) -> None:
        self.logs.append(key, line, at)

    def end_log(self, key: LogKey) -> None:
        self.logs.end(key)

    def set_proxy_response(self, namespace: str, pod: str, port: int, path: str, text: str,
                           status: int = 200) -> None:
        with self._lock:
            self._proxy_texts[(namespace, pod, port, path.lstrip("/"))] = (text, status)

    def on_exec(self, handler: ExecHandler) -> None:
        self._exec_handler = handler

    def log(self, key: LogKey, *, tail: int | None, since_seconds: int | None, timestamps: bool, follow: bool,
            alive: Callable[[], bool]) -> Iterator[str]:
        return self.logs.read(key, tail=tail, since_seconds=since_seconds, timestamps=timestamps, follow=follow,
                              alive=alive)

    def proxy(self, namespace: str, pod: str, port: int, path: str) -> tuple[str, int] | None:
        with self._lock:
            return self._proxy_texts.get((namespace, pod, port, path.lstrip("/")))

    def exec(self, namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
        if self._exec_handler is None:
            return "", f"exec: {command[0]}: not found\n", 126
        return self._exec_handler(namespace, pod, container, command)

    def pod_deleted(self, namespace: str, pod: str) -> None:
        self.logs.end_pod(namespace, pod)

    def close(self) -> None:
        self.logs.close_all()

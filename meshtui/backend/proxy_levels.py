"""Envoy's logger levels read and changed through the proxy's admin API (pilot-agent request)."""

from __future__ import annotations

from typing import Mapping

from meshtui.backend.base import Backend
from meshtui.logs.levels import DEBUG_LOGGERS, logging_path, parse_levels


def read_levels(backend: Backend, namespace: str, pod: str) -> dict[str, str]:
    return parse_levels(backend.proxy_request(namespace, pod, "/logging", "POST"))


def raise_levels(backend: Backend, namespace: str, pod: str,
                 loggers: tuple[str, ...] = DEBUG_LOGGERS, level: str = "debug") -> dict[str, str]:
    """Set ``loggers`` to ``level`` and return their previous levels (for :func:`restore_levels`)."""
    current = read_levels(backend, namespace, pod)
    # A logger this Envoy does not know is left out: Envoy answers an unknown name with an error.
    previous = {name: current[name] for name in loggers if name in current}
    if previous:
        backend.proxy_request(namespace, pod, logging_path(dict.fromkeys(previous, level)), "POST")
    return previous


def restore_levels(backend: Backend, namespace: str, pod: str, previous: Mapping[str, str]) -> None:
    if previous:
        backend.proxy_request(namespace, pod, logging_path(previous), "POST")

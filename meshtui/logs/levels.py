"""Envoy logger levels through the admin `/logging` endpoint (pilot-agent request in the proxy).

Envoy answers `/logging` with "active loggers:" then one "  name: level" line per logger. A
POST with `?name=level` pairs changes those loggers; a POST without a query changes nothing and
lists them, which is how the current levels are read (the endpoint mutates server state, so
Envoy's admin refuses GET on recent versions).
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

from meshtui.backend.base import Backend

# What issue #5 raises to see handshakes and connection closes: the mTLS story in Envoy's words.
DEBUG_LOGGERS: tuple[str, ...] = ("connection", "tls")
LEVELS = frozenset({"trace", "debug", "info", "warning", "warn", "error", "critical", "off"})


def parse_levels(text: str) -> dict[str, str]:
    """{logger: level} from a `/logging` answer; unknown lines are ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, level = line.strip().partition(":")
        level = level.strip()
        if sep and name and level in LEVELS and " " not in name:
            out[name] = level
    return out


def logging_path(levels: Mapping[str, str]) -> str:
    return "/logging?" + urlencode(sorted(levels.items())) if levels else "/logging"


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

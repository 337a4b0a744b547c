"""Envoy logger levels through the admin `/logging` endpoint (pilot-agent request in the proxy).

Envoy answers `/logging` with "active loggers:" then one "  name: level" line per logger. A
POST with `?name=level` pairs changes those loggers; a POST without a query changes nothing and
lists them, which is how the current levels are read (the endpoint mutates server state, so
Envoy's admin refuses GET on recent versions).
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

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

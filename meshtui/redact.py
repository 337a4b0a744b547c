"""Credentials never reach a message: what meshtui knows is secret is replaced by ``***``.

Two nets: every secret meshtui has seen (kubeconfig tokens and passwords, tokens an exec plugin
printed, the Authorization header values built from them) is remembered here and replaced
wherever it appears; and anything shaped like a credential (``Bearer x``, ``token: x``,
``password=x``) is masked even if meshtui never saw it, since servers echo request bodies back.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from typing import Any

# Shorter values would mask ordinary words ("a", "dev") in messages; no real credential is this short.
MIN_SECRET_LENGTH = 6
_SHAPED = re.compile(
    r"""(?i)((?:bearer|basic)\s+|(?:token|password|passwd|secret|client-key-data)["']?\s*[=:]\s*["']?)"""
    r"""[^\s"',}]+"""
)
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def remember(*secrets: Any) -> None:
    """Add values to scrub from now on (None, empty and non-strings are ignored)."""
    global _pattern
    new = {s.strip() for s in secrets if isinstance(s, str) and len(s.strip()) >= MIN_SECRET_LENGTH}
    with _lock:
        if new <= _known:
            return
        _known.update(new)
        # Longest first, so a secret that contains another is replaced whole.
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_known, key=len, reverse=True)))


def remember_basic_auth(username: Any, password: Any) -> None:
    """A password, and the base64 Authorization value that carries it."""
    if isinstance(password, str) and password:
        remember(password)
        pair = f"{username or ''}:{password}".encode()
        remember(base64.b64encode(pair).decode())


def scrub(text: str) -> str:
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub("***", text)
    return _SHAPED.sub(lambda m: m.group(1) + "***", text)


class ScrubbingFilter(logging.Filter):
    """Rewrites each record's message scrubbed, so no handler can print a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        return True

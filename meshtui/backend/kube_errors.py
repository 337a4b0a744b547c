"""Turning HTTP statuses and transport failures into one-line :class:`BackendError` messages.

The API server's own ``Status.message`` is the best explanation for 403/404/409/422 (it names the
verb, resource and namespace, or the failing field), so it is kept verbatim; everything is squeezed
to a single line and scrubbed of anything that looks like a credential.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import urllib3.exceptions as u3

from meshtui.backend.base import (
    BackendError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unauthorized,
)
from meshtui.redact import scrub

_MAX_LEN = 300
# OpenSSL's words for a TLS handshake that got an HTTP answer (1.1: wrong version; 3.x: record layer).
_PLAIN_HTTP_SIGNS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG")

_BY_STATUS: dict[int, type[BackendError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def one_line(text: str) -> str:
    """Whitespace collapsed, credentials masked, length capped: safe to show and to log."""
    text = scrub(" ".join(str(text).split()))
    return text if len(text) <= _MAX_LEN else text[: _MAX_LEN - 1] + "…"


def status_message(body: bytes | str | None) -> str:
    """The ``message`` of a Kubernetes Status body, else the body itself."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return one_line(text)
    if isinstance(data, dict) and data.get("message"):
        return one_line(str(data["message"]))
    return one_line(text)


def http_error(status: int, body: bytes | str | None, *, server: str, auth: str) -> BackendError:
    message = status_message(body)
    if status == 401:
        return Unauthorized(
            f"{server} rejected the credentials (401): {auth} credentials expired or invalid",
            details={"message": message},
        )
    cls = _BY_STATUS.get(status)
    if cls is Forbidden:
        if not message:
            return Forbidden(f"forbidden by {server}")
        # The server's text usually reads '<resource> "x" is forbidden: User ... cannot ...' already.
        return Forbidden(message if "forbidden" in message.lower() else f"forbidden: {message}")
    if cls is not None:
        return cls(message or f"HTTP {status} from {server}")
    suffix = f": {message}" if message else ""
    return BackendError(f"{server} answered HTTP {status}{suffix}", status=status)


def transport_error(exc: BaseException, *, server: str) -> BackendError:
    """Connection-level failures: refused, timed out, TLS verification, dropped mid-response."""
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, u3.SSLError | ssl.SSLError):
        reason = _ssl_reason(exc)
        if any(s in reason.upper().replace(" ", "_") for s in _PLAIN_HTTP_SIGNS):
            return ConnectionFailed(f"{server} answered in plain HTTP, not HTTPS: use an http:// server "
                                    "address in the kubeconfig, or check the port")
        return ConnectionFailed(f"TLS verification failed for {server}: {one_line(reason)}")
    # urllib3 derives NameResolutionError from NewConnectionError and that from ConnectTimeoutError.
    if isinstance(exc, u3.NameResolutionError):
        return ConnectionFailed(f"cannot resolve the host of {server}")
    if isinstance(exc, u3.NewConnectionError | ConnectionRefusedError):
        return ConnectionFailed(f"cannot connect to {server}: connection refused")
    if isinstance(exc, u3.ConnectTimeoutError | socket.timeout | TimeoutError):
        return ConnectionFailed(f"connection to {server} timed out")
    if isinstance(exc, u3.ReadTimeoutError):
        return ConnectionFailed(f"{server} did not answer in time (read timed out)")
    if isinstance(exc, u3.ProtocolError | ConnectionError):
        return ConnectionFailed(f"connection to {server} dropped")
    return ConnectionFailed(f"cannot talk to {server}: {one_line(str(exc) or type(exc).__name__)}")


def _ssl_reason(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return getattr(inner, "verify_message", None) or getattr(inner, "reason", None) or str(inner)

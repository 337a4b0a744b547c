"""HTTP statuses and transport failures become one clear line of the right BackendError class."""

from __future__ import annotations

import json
import ssl

import pytest
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
from meshtui.backend.kube_errors import http_error, one_line, status_message, transport_error

SERVER = "https://10.0.0.1:6443"


def status_body(code: int, message: str) -> bytes:
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                       "message": message}).encode()


FORBIDDEN = ('namespaces "prod" is forbidden: User "dev" cannot patch resource "namespaces" in API group "" '
             'at the cluster scope')

CONFLICT = ('Operation cannot be fulfilled on peerauthentications.security.istio.io "default": '
            "the object has been modified; please apply your changes to the latest version and try again")
VERIFY_FAILED = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
AUTH = "exec plugin gke-gcloud-auth-plugin"


@pytest.mark.parametrize(
    ("status", "message", "cls", "expected"),
    [
        (401, "Unauthorized", Unauthorized,
         f"{SERVER} rejected the credentials (401): exec plugin gke-gcloud-auth-plugin credentials expired"
         " or invalid"),
        (403, FORBIDDEN, Forbidden, FORBIDDEN),
        (403, "RBAC: access denied", Forbidden, "forbidden: RBAC: access denied"),
        (404, 'pods "x" not found', NotFound, 'pods "x" not found'),
        (409, CONFLICT, Conflict, CONFLICT),
        (410, "too old resource version: 1 (20)", Gone, "too old resource version: 1 (20)"),
        (422, 'PeerAuthentication.security.istio.io "p" is invalid: spec: Invalid value: "object":\n'
              "portLevelMtls requires selector", Invalid,
         'PeerAuthentication.security.istio.io "p" is invalid: spec: Invalid value: "object": portLevelMtls'
         " requires selector"),
        (500, "etcdserver: request timed out", BackendError,
         f"{SERVER} answered HTTP 500: etcdserver: request timed out"),
    ],
)
def test_http_statuses(status: int, message: str, cls: type[BackendError], expected: str) -> None:
    err = http_error(status, status_body(status, message), server=SERVER, auth=AUTH)
    assert type(err) is cls
    assert str(err) == expected
    assert err.status == status


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (u3.MaxRetryError(None, "/", u3.NewConnectionError(None, "[Errno 111] Connection refused")),
         f"cannot connect to {SERVER}: connection refused"),
        (u3.ConnectTimeoutError(None, "timed out"), f"connection to {SERVER} timed out"),
        (u3.ReadTimeoutError(None, "/", "read timed out"),
         f"{SERVER} did not answer in time (read timed out)"),
        (u3.ProtocolError("Connection aborted.", ConnectionResetError()), f"connection to {SERVER} dropped"),
        (u3.SSLError(ssl.SSLCertVerificationError(1, VERIFY_FAILED)),
         f"TLS verification failed for {SERVER}: {VERIFY_FAILED}"),
    ],
)
def test_transport_failures_name_the_server(exc: BaseException, expected: str) -> None:
    err = transport_error(exc, server=SERVER)
    assert isinstance(err, ConnectionFailed)
    assert str(err) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\n  b\tc", "a b c"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig failed", "Authorization: Bearer *** failed"),
        ('{"token": "abc123", "password":"pw"}', '{"token": "***", "password":"***"}'),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_one_line_collapses_and_masks(text: str, expected: str) -> None:
    assert one_line(text) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", ""),
        (b"plain text error", "plain text error"),
        (status_body(404, "gone"), "gone"),
        (b'{"kind": "Status"}', '{"kind": "Status"}'),
    ],
)
def test_status_message(body: bytes, expected: str) -> None:
    assert status_message(body) == expected

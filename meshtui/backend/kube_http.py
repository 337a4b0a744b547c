"""Raw HTTP to the API server through the official client's connection pool and auth.

Lists and watches are read as bytes and parsed with msgspec instead of the client's model classes,
which take two to three times as long for a 5,000-pod list (tests/bench/bench_kube_scale.py). msgspec
decodes a page and a watch event 1.3-2× faster than :mod:`json` (tests/bench/bench_decode.py).
Auth (bearer token, client cert, exec plugin and OIDC refresh) still comes from the client's
``Configuration``.

Every request has a total deadline (:mod:`meshtui.backend.deadline`): ``json``/``text`` from send to
the last byte, a streaming ``open`` until the headers arrived.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator, Sequence
from urllib.parse import quote

import msgspec
import urllib3
from kubernetes import client

from meshtui.backend.base import BackendError, ConnectionFailed
from meshtui.backend.deadline import POOL_CLASSES, Deadline, abort_all, deadline
from meshtui.backend.kube_errors import http_error, transport_error

Query = Sequence[tuple[str, Any]]
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)


class KubeHttp:
    """One API server: requests return parsed JSON or an open streaming response."""

    def __init__(self, configuration: client.Configuration, *, auth_method: str, timeout: float):
        self.api = client.ApiClient(configuration)
        # Connections that join the sending thread's deadline (see deadline.py).
        self.api.rest_client.pool_manager.pool_classes_by_scheme = POOL_CLASSES
        self._deadlines: set[Deadline] = set()
        self.server = configuration.host
        self.auth_method = auth_method
        self.timeout = timeout

    def open(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        *,
        content_type: str = JSON,
        accept: str = JSON,
        timeout: float | tuple[float, float | None] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Send a request and return the unread response; non-2xx raises the matching BackendError.
        The headers must arrive within the request timeout (``timeout``'s first value if a pair)."""
        limit = (timeout[0] if isinstance(timeout, tuple) else timeout) or self.timeout
        with deadline(limit, self._deadlines) as d:
            try:
                return self._open(method, path, query, body, content_type, accept, timeout)
            except BackendError:
                self._raise_if_cut(d, path)
                raise

    def _raise_if_cut(self, d: Deadline, path: str) -> None:
        if d.aborted:
            raise ConnectionFailed(f"request to {self.server} stopped") from None
        if d.expired:
            raise ConnectionFailed(
                f"{self.server} did not answer {path.split('?')[0]} within {d.seconds:g}s"
            ) from None

    def _open(self, method: str, path: str, query: Query, body: Any, content_type: str, accept: str,
              timeout: float | tuple[float, float | None] | None) -> urllib3.BaseHTTPResponse:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in query if v is not None]
        try:
            request = self.api.param_serialize(
                method,
                path,
                query_params=params,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            # RESTResponse.response (unannotated in the client) is the urllib3 response it wraps.
            answer = self.api.call_api(*request, _request_timeout=timeout or self.timeout)
            resp: urllib3.BaseHTTPResponse = answer.response
        except client.ApiException as exc:
            # The client reports TLS failures as ApiException(status=0) with the SSL error as reason.
            raise transport_error(urllib3.exceptions.SSLError(exc.reason), server=self.server) from None
        except _TRANSPORT_ERRORS as exc:
            raise transport_error(exc, server=self.server) from None
        if not 200 <= resp.status <= 299:
            try:
                data = resp.read()
            except _TRANSPORT_ERRORS:
                data = b""
            finally:
                resp.release_conn()
            raise http_error(resp.status, data, server=self.server, auth=self.auth_method)
        return resp

    def read(self, resp: urllib3.BaseHTTPResponse) -> bytes:
        try:
            return resp.read()
        except _TRANSPORT_ERRORS as exc:
            raise transport_error(exc, server=self.server) from None
        finally:
            resp.release_conn()

    def json(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        *,
        content_type: str = JSON,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        with deadline(timeout or self.timeout, self._deadlines) as d:
            try:
                data = self.read(self._open(method, path, query, body, content_type, JSON, timeout))
            except BackendError:
                self._raise_if_cut(d, path)
                raise
            self._raise_if_cut(d, path)  # a cut connection may look like a short body
        try:
            value = decode_json(data) if data else {}
        except (ValueError, RecursionError):
            raise BackendError(f"{self.server} sent a response that is not JSON for {path}") from None
        return value if isinstance(value, dict) else {}

    def text(self, path: str, query: Query = (), *, timeout: float | None = None) -> str:
        with deadline(timeout or self.timeout, self._deadlines) as d:
            try:
                data = self.read(self._open("GET", path, query, None, JSON, "*/*", timeout))
            except BackendError:
                self._raise_if_cut(d, path)
                raise
            self._raise_if_cut(d, path)
        return data.decode("utf-8", "replace")

    def lines(self, resp: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        """Lines of a streaming response as they arrive (watch events, followed logs)."""
        pending = b""
        try:
            # read_chunked yields each chunk as the server flushes it; read1 returns what is buffered.
            chunks = resp.read_chunked() if resp.chunked else iter(lambda: resp.read1(65536), b"")
            for chunk in chunks:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                yield from complete
        except _TRANSPORT_ERRORS as exc:
            raise transport_error(exc, server=self.server) from None
        except (AttributeError, ValueError):
            # close_quietly() from another thread (stop, quit) pulls the file from under urllib3's
            # reader, which then fails with these instead of a transport error.
            raise ConnectionFailed(f"connection to {self.server} closed") from None
        if pending:
            yield pending

    def close(self) -> None:
        """Requests still in flight in other threads end at once with an error."""
        abort_all(self._deadlines)
        self.api.close()


# One decoder: it caches the dictionary keys it has seen, which repeat in every object of a list.
_decode = msgspec.json.Decoder().decode


def decode_json(data: bytes) -> Any:
    """Raises ValueError (or RecursionError) for what is not JSON. msgspec refuses NaN, Infinity and
    lone surrogate escapes, which Python's json reads: a body with them is read the slower way
    rather than refused whole (kube-apiserver never sends them; an emulator or proxy might)."""
    try:
        return _decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


def close_quietly(resp: urllib3.BaseHTTPResponse | None) -> None:
    """Abort a streaming response from another thread so its reader wakes up at once."""
    if resp is None:
        return
    # shutdown() (urllib3 >= 2.3) is safe while another thread is blocked in read(); it raises
    # ValueError or RuntimeError once the connection went back to the pool.
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        resp.shutdown()
    with contextlib.suppress(OSError):
        resp.close()


def encode_path(*parts: str) -> str:
    """An API path from segments, each percent-encoded (names never contain '/', but be strict)."""
    return "/" + "/".join(quote(p, safe="") for p in parts if p)

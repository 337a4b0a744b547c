"""Istio's own `request` commands over the exec websocket: `pilot-agent request METHOD PATH` in a
sidecar (Envoy admin) and `pilot-discovery request METHOD PATH` in istiod (its debug endpoints,
which answer localhost without authentication)."""

from __future__ import annotations

import json
import re
import threading

from kubernetes import client
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

from meshtui.backend.base import BackendError
from meshtui.backend.kube_errors import http_error, one_line, transport_error
from meshtui.model.objects import PROXY_CONTAINER

_HANDSHAKE = re.compile(r"Handshake status (\d{3})")


def pilot_agent_request(
    configuration: client.Configuration,
    namespace: str,
    pod: str,
    path: str,
    method: str,
    *,
    timeout: float,
    auth_method: str,
) -> str:
    """Envoy admin output through pilot-agent; a non-zero exit raises with the command's stderr."""
    return request_command(configuration, namespace, pod, PROXY_CONTAINER, "pilot-agent", path, method,
                           timeout=timeout, auth_method=auth_method)


def load_in_background() -> None:
    """Import the client's exec API now, on a thread of its own.

    Its first use imports CoreV1Api's module and models: about 1 s of CPU, and several seconds of
    wall time when a TLS check's 16 threads all wait on that import. Paid once the cluster is
    loaded, the first check does not pay it.
    """
    threading.Thread(target=_import_core_api, name="exec-api-import", daemon=True).start()


def _import_core_api() -> None:
    client.CoreV1Api  # noqa: B018 (the attribute's lazy import is the work)


def request_command(
    configuration: client.Configuration,
    namespace: str,
    pod: str,
    container: str,
    program: str,
    path: str,
    method: str,
    *,
    timeout: float,
    auth_method: str,
) -> str:
    """The stdout of `PROGRAM request METHOD PATH` in a container."""
    # kubernetes.stream swaps call_api on the ApiClient while it runs, so exec gets a client of its own.
    api = client.ApiClient(configuration)
    server = configuration.host
    try:
        ws = stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            pod,
            namespace,
            command=[program, "request", method, path],
            container=container,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
            _request_timeout=timeout,
        )
        ws.run_forever(timeout=timeout)
        if ws.is_open():
            ws.close()
            raise BackendError(f"{program} request {path} in {namespace}/{pod} timed out ({timeout:g}s)")
        out: str = ws.read_channel(STDOUT_CHANNEL)  # a text (not binary) stream: the client decodes it
        err = ws.read_channel(STDERR_CHANNEL)
        status = _status(ws.read_channel(ERROR_CHANNEL))
        ws.close()  # the server ended the stream; the client's socket still needs closing
    except client.ApiException as exc:
        found = _HANDSHAKE.search(str(exc.reason or ""))
        if found:
            body = str(exc.reason).split("-+-+-")[-1] if "-+-+-" in str(exc.reason) else ""
            raise http_error(int(found.group(1)), body, server=server, auth=auth_method) from None
        raise transport_error(ConnectionError(str(exc.reason)), server=server) from None
    finally:
        api.close()
    if status.get("status") not in (None, "Success"):
        detail = one_line(err or str(status.get("message") or "command failed"))
        raise BackendError(f"{program} request {path} failed in {namespace}/{pod}: {detail}")
    return out


def _status(raw: str) -> dict[str, object]:
    """The exec's outcome the server writes on the error channel: a JSON Status (empty while the
    command succeeds). Read as JSON, not as YAML as the client does: pure-Python YAML was a visible
    part of a 200-pod TLS check's CPU time."""
    try:
        status = json.loads(raw or "{}")
    except ValueError:
        return {"status": "Failure", "message": raw}
    return status if isinstance(status, dict) else {"status": "Failure", "message": raw}

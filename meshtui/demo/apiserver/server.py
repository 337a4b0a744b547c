"""The Emulator: a threaded HTTP server speaking the Kubernetes REST API on 127.0.0.1."""

from __future__ import annotations

import copy
import threading
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import yaml

from meshtui.demo.apiserver import status as st
from meshtui.demo.apiserver.admission import apply_defaults
from meshtui.demo.apiserver.dataplane import DataPlane, ExecHandler, ScriptedDataPlane
from meshtui.demo.apiserver.handler import Handler, Request
from meshtui.demo.apiserver.istio_crds import gateway_api_types, istio_types
from meshtui.demo.apiserver.resources import BUILTINS, ResourceType, load_crds
from meshtui.demo.apiserver.store import BOOKMARK, CLOSE, Store, format_now
from meshtui.demo.apiserver.store import now as store_now

REQUEST_HISTORY = 20_000


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr, under the demo's TUI; a client that hangs up
        # mid-request (a stopped log follow) is normal, and the handler already answers with a
        # Status for its own failures.
        return


class Emulator:
    """An in-process kube-apiserver. See README.md beside this file for what it covers.

    ``crds``: a CRD file to serve Istio's types from (tests pass Istio's own); without one, the
    embedded :mod:`istio_crds`. ``dataplane``: what pods answer on log/proxy/exec; without one,
    answers the test knobs below set.
    """

    def __init__(self, *, istio: bool = True, token: str = "emulator-token", user: str = "tester",
                 crds: Path | None = None, dataplane: DataPlane | None = None,
                 now: Callable[[], datetime] | None = None):
        # Ambient's waypoints are Gateway API Gateways: where Istio runs, those CRDs are installed too.
        istio_kinds = ((load_crds(crds) if crds is not None else istio_types()) + gateway_api_types()
                       if istio else ())
        types = [*BUILTINS, *istio_kinds]
        self.store = Store(types, (lambda: format_now(now())) if now else store_now)
        self._scripted = ScriptedDataPlane()
        self.dataplane: DataPlane = dataplane or self._scripted
        self.token = token
        self.user = user
        self.requests: list[Request] = []
        self.internal_errors: list[str] = []
        self._by_path = {(rt.group, v, rt.plural): rt for rt in types for v in rt.versions}
        # A kind name can be served by two groups (Istio's Gateway, the Gateway API's): the first
        # registered answers to the bare name, and add() tells them apart by apiVersion.
        self._by_kind: dict[str, ResourceType] = {}
        for rt in types:
            self._by_kind.setdefault(rt.kind, rt)
        self._by_group_kind = {(rt.group, rt.kind): rt for rt in types}
        self._denied: set[tuple[str, str, str | None]] = set()
        self._failures: list[dict[str, Any]] = []
        self.gone_as_http = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        handler = type("EmulatorHandler", (Handler,), {"emulator": self})
        self._server = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="kube-emulator",
                                        daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        self.store.broadcast(CLOSE)
        self.dataplane.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, path: Path | str, *, token: str | None = None, context: str = "emulator",
                   namespace: str = "default") -> Path:
        """Write a kubeconfig (plain http, bearer token) that the official client and kubectl load."""
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": f"{context}-user", "user": {"token": self.token if token is None else token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user",
                                                       "namespace": namespace}}],
        }
        target = Path(path)
        target.write_text(yaml.safe_dump(config))
        return target

    # -- seeding and inspection ----------------------------------------------------------------

    def add(self, obj: dict[str, Any], *, owned: bool = False) -> dict[str, Any]:
        """Seed ``obj``. The store keeps a copy, unless ``owned``: the caller built it for the store and
        never touches it again (the demo's seed, where the copies cost a tenth of the start-up)."""
        group = obj.get("apiVersion", "").rpartition("/")[0]
        rt = self._by_group_kind.get((group, obj["kind"])) or self._by_kind[obj["kind"]]
        version = obj.get("apiVersion", "").rpartition("/")[2] or rt.versions[0]
        seeded = obj if owned else copy.deepcopy(obj)
        seeded["apiVersion"] = rt.api_version(version)
        return self.store.add(rt, apply_defaults(rt, seeded))

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return self.store.all(self._by_kind[kind])

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        rt = self._by_kind[kind]
        return self.store.find(rt, namespace if rt.namespaced else "", name)

    @property
    def resource_version(self) -> int:
        return self.store.resource_version

    # -- knobs -----------------------------------------------------------------------------------

    def deny(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Forbid ``verb`` on ``resource`` ("pods", "pods/log", ...) in ``namespace`` (None: everywhere)."""
        with self._lock:
            self._denied.add((verb, resource, namespace))

    def allow_all(self) -> None:
        with self._lock:
            self._denied.clear()

    def fail_next(self, n: int, status: int | dict[str, Any] = 500) -> None:
        """The next ``n`` authenticated requests fail with ``status`` (a code or a full Status body)."""
        body = status if isinstance(status, dict) else st.generic_failure(status)
        with self._lock:
            self._failures.extend(body for _ in range(n))

    def expire_watch_history(self, *, as_http_error: bool = False) -> None:
        """Compact: watches and continue tokens from earlier resourceVersions get 410 Gone. The real
        watch cache answers such a watch with HTTP 200 and one ERROR event; ``as_http_error`` makes
        the watch request itself fail with HTTP 410 instead (what a watch served from etcd does)."""
        self.gone_as_http = as_http_error
        self.store.expire_history()

    def drop_watches(self) -> None:
        self.store.broadcast(CLOSE)

    def bookmark(self) -> None:
        """Send a BOOKMARK now to every watch that asked for them (the real server does so ~1/min)."""
        self.store.broadcast(BOOKMARK)

    def append_log(self, namespace: str, pod: str, container: str, line: str,
                   at: datetime | None = None) -> None:
        self._scripted.append_log((namespace, pod, container), line, at)

    def end_log(self, namespace: str, pod: str, container: str) -> None:
        self._scripted.end_log((namespace, pod, container))

    def set_proxy_response(self, namespace: str, pod: str, port: int, path: str, text: str,
                           status: int = 200) -> None:
        """What the pod answers on PORT/PATH through pods/proxy; the API server relays its status."""
        self._scripted.set_proxy_response(namespace, pod, port, path, text, status)

    def on_exec(self, handler: ExecHandler) -> None:
        """Answer exec requests with ``handler(namespace, pod, container, command)`` →
        (stdout, stderr, exit code); without one, exec fails like a missing binary (exit 126)."""
        self._scripted.on_exec(handler)

    # -- used by the handler ---------------------------------------------------------------------

    def record(self, request: Request) -> None:
        """Keep the latest requests for inspection; a long demo session must not grow without bound."""
        with self._lock:
            self.requests.append(request)
            if len(self.requests) > REQUEST_HISTORY:
                del self.requests[: REQUEST_HISTORY // 2]

    def take_failure(self) -> dict[str, Any] | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def is_denied(self, verb: str, resource: str, namespace: str | None) -> bool:
        with self._lock:
            return (verb, resource, None) in self._denied or (verb, resource, namespace) in self._denied

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    @property
    def types(self) -> list[ResourceType]:
        return self.store.types

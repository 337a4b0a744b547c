"""KubeBackend: the Backend protocol against a real cluster through the official ``kubernetes`` client.

Reads go through :class:`KubeHttp` as raw JSON and :mod:`meshtui.model.convert`; the client supplies
configuration, auth and the exec websocket. Thread-safe: the app calls it from several workers.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote

from meshtui.backend import kube_config, kube_load, kube_plugin
from meshtui.backend.base import (
    FIELD_MANAGER,
    Access,
    BackendError,
    ClusterInfo,
    Forbidden,
    Gone,
    Invalid,
    LoadStep,
    LogOptions,
    NotFound,
    Unauthorized,
    WatchStatus,
    label_patch,
    restart_patch,
)
from meshtui.backend.kube_exec import load_in_background, pilot_agent_request, request_command
from meshtui.backend.kube_http import MERGE_PATCH, KubeHttp, encode_path
from meshtui.backend.kube_load import LIST_THREADS, Page
from meshtui.backend.kube_logs import ProxyLogStream
from meshtui.backend.kube_resources import CORE_KINDS, ISTIO_KINDS, ResourceKind, discover_istio
from meshtui.backend.kube_watch import Key, KindState, WatchRunner
from meshtui.model.convert import Malformed, describe, format_time, from_k8s
from meshtui.model.objects import DeniedRead, MeshSettings, Namespace, Pod, Workload
from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot, key_of

PAGE_SIZE = 500
ISTIO_NAMESPACE = "istio-system"
RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")
PROXY_STATUS_PORT = 15020
ISTIOD_MONITORING_PORT = 15014
SYNCZ_PATH = "debug/syncz"


class KubeBackend:
    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        request_timeout: float = 10.0,
    ):
        self._kubeconfig = kubeconfig
        self._wanted_context = context
        self._namespace = namespace
        self._timeout = request_timeout
        self._lock = threading.Lock()
        self._loaded: kube_config.LoadedConfig | None = None
        self._http: KubeHttp | None = None
        self._istio: tuple[ResourceKind, ...] | None = None
        # (istiod version, revisions) as connect() found them: a load right after it asks again for nothing.
        self._control_plane: tuple[str, tuple[str, ...]] | None = None
        self._states: dict[str, KindState] = {}
        # Malformed objects the last snapshot left out: (kind, "Kind ns/name") → reason.
        self._skipped: dict[tuple[str, str], str] = {}

    # -- connection ------------------------------------------------------------------------------
    @property
    def context(self) -> str:
        if self._loaded is not None:
            return self._loaded.context
        if self._wanted_context:
            return self._wanted_context
        try:
            return kube_config.list_contexts(self._kubeconfig)[1]
        except BackendError:
            return ""

    @property
    def namespace(self) -> str | None:
        return self._namespace

    def _client(self) -> KubeHttp:
        with self._lock:
            if self._http is None:
                loaded = kube_config.load(self._kubeconfig, self._wanted_context)
                self._loaded = loaded
                self._http = KubeHttp(
                    loaded.configuration, auth_method=loaded.auth_method, timeout=self._timeout
                )
            return self._http

    def _istio_kinds(self) -> tuple[ResourceKind, ...]:
        http = self._client()
        if self._istio is None:
            self._istio = discover_istio(http)
        return self._istio

    def connect(self) -> ClusterInfo:
        http = self._client()
        version = http.json("GET", "/version")
        istio = discover_istio(http)
        self._istio = istio
        self._control_plane = self._istiod(http) if istio else ("", ())
        istio_version = self._control_plane[0]
        loaded = self._loaded
        assert loaded is not None
        return ClusterInfo(
            context=loaded.context,
            server=loaded.server,
            user=loaded.user,
            istio_installed=bool(istio),
            istio_version=istio_version,
            namespace=self._namespace,
            kubernetes_version=str(version.get("gitVersion") or ""),
        )

    def _istiod(self, http: KubeHttp) -> tuple[str, tuple[str, ...]]:
        """(istiod image tag, revisions) from the istiod Deployments, as `istioctl version` shows the
        control plane; empty when the user may not read istio-system."""
        try:
            path = encode_path("apis", "apps", "v1", "namespaces", ISTIO_NAMESPACE, "deployments")
            doc = http.json("GET", path, [("labelSelector", "app=istiod")])
        except BackendError:
            return "", ()
        version, revisions = "", []
        items = doc.get("items")
        for item in items if isinstance(items, list) else ():
            try:
                istiod = from_k8s(item, "Deployment")
            except Malformed:
                continue
            assert isinstance(istiod, Workload)
            revisions.append(istiod.labels.get("istio.io/rev") or "default")
            for c in istiod.containers:
                if c.name == "discovery" and ":" in c.image.rsplit("/", 1)[-1]:
                    version = version or c.image.rsplit(":", 1)[-1]
        return version, tuple(sorted(set(revisions)))

    def contexts(self) -> list[str]:
        return kube_config.list_contexts(self._kubeconfig)[0]

    def switch_context(self, name: str) -> ClusterInfo:
        """Reconnect to another context. A running watch() keeps the old cluster: stop it, then call
        snapshot() and watch() again."""
        loaded = kube_config.load(self._kubeconfig, name)
        with self._lock:
            old, self._http = (
                self._http,
                KubeHttp(loaded.configuration, auth_method=loaded.auth_method, timeout=self._timeout),
            )
            self._loaded, self._wanted_context = loaded, name
            self._istio, self._states, self._control_plane = None, {}, None
        if old is not None:
            old.close()
        return self.connect()

    def close(self) -> None:
        """Ends requests in flight and a credential plugin still running (the user quits)."""
        kube_plugin.stop_all()
        http = self._http  # not under the lock: _client() may hold it while a plugin runs
        self._http = None
        if http is not None:
            http.close()

    # -- reading ---------------------------------------------------------------------------------
    def _list(self, rk: ResourceKind, namespace: str | None = None) -> tuple[dict[Key, ModelObject], str]:
        """Every object of a kind in scope (or in ``namespace``) and the list's resourceVersion."""
        objects: dict[Key, ModelObject] = {}
        version = ""
        for page in self._pages(rk, namespace):
            if page.first:
                objects = {}
            objects.update(page.objects)
            version = page.resource_version
        return objects, version

    def _pages(self, rk: ResourceKind, namespace: str | None = None) -> Iterator[Page]:
        """Pages of PAGE_SIZE. A continue token that expired between pages (410) starts the list
        again: the only remedy there is."""
        try:
            yield from self._pages_once(rk, namespace)
        except Gone:
            yield from self._pages_once(rk, namespace)

    def _pages_once(self, rk: ResourceKind, namespace: str | None) -> Iterator[Page]:
        """Malformed items are left out and remembered in ``self._skipped`` (reported with the snapshot)."""
        http = self._client()
        path = rk.collection(namespace or self._namespace)
        base: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
        if self._namespace and not rk.namespaced:
            base.append(("fieldSelector", f"metadata.name={self._namespace}"))
        token: str | None = None
        first = True
        while True:
            doc = http.json("GET", path, [*base, ("continue", token)])
            objects = {key_of(obj): obj for obj in self._convert_items(doc, rk.kind)}
            raw_meta = doc.get("metadata")
            meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            token = meta.get("continue") or None
            if token is not None and not isinstance(token, str):
                raise BackendError(f"{http.server} sent a list whose continue token is not a string")
            remaining = meta.get("remainingItemCount")
            yield Page(objects, str(meta.get("resourceVersion") or ""),
                       remaining if isinstance(remaining, int) else None, first)
            if token is None:
                return
            first = False

    def _convert_items(self, doc: Mapping[str, Any], kind: str) -> Iterator[ModelObject]:
        items = doc.get("items")
        for item in items if isinstance(items, list) else ():
            try:
                obj = from_k8s(item, kind)
            except Malformed as exc:
                with self._lock:
                    self._skipped[(kind, describe(item, kind))] = str(exc)
                continue
            if obj is not None:
                yield obj

    def _list_scoped_namespace(self, rk: ResourceKind) -> tuple[dict[Key, ModelObject], str | None]:
        """With -n, users often may not list namespaces: then show the one namespace, unwatched."""
        try:
            return self._list(rk)
        except Forbidden:
            assert self._namespace is not None
            ns = Namespace(name=self._namespace)
            return {key_of(ns): ns}, None

    def _root_policies(self, istio: tuple[ResourceKind, ...], root: str) -> tuple[list[ModelObject], DeniedRead | None]:
        """The root namespace's PeerAuthentications: they decide the mesh level of every namespace.
        When RBAC refuses, the mesh level is unknown, which is not the same as absent: say which read
        failed."""
        rk = next((k for k in istio if k.kind == "PeerAuthentication"), None)
        if rk is None:
            return [], None
        try:
            doc = self._client().json("GET", rk.collection(root), [])
        except Forbidden:
            return [], DeniedRead("PeerAuthentication", root)
        except NotFound:
            return [], None
        return list(self._convert_items(doc, rk.kind)), None

    def _mesh_settings(self, istio: tuple[ResourceKind, ...], denied: list[DeniedRead]) -> MeshSettings:
        control_plane, self._control_plane = self._control_plane, None
        if control_plane is None:
            control_plane = self._istiod(self._client()) if istio else ("", ())
        version, revisions = control_plane
        return MeshSettings(istio_installed=bool(istio), istio_version=version, revisions=revisions,
                            denied=tuple(denied))

    def _start_reading(self) -> None:
        with self._lock:
            self._skipped = {}

    def _skipped_notes(self) -> list[str]:
        with self._lock:
            return [f"{where}: {reason}" for (_, where), reason in sorted(self._skipped.items())]

    def snapshot(self) -> Snapshot:
        self._start_reading()
        istio = self._istio_kinds()
        kinds = (*CORE_KINDS, *istio)

        def fetch(rk: ResourceKind) -> tuple[dict[Key, ModelObject], str | None]:
            if rk.kind == "Namespace" and self._namespace:
                return self._list_scoped_namespace(rk)
            return self._list(rk)

        with ThreadPoolExecutor(max_workers=LIST_THREADS, thread_name_prefix="list") as pool:
            results = list(pool.map(fetch, kinds))
        states: dict[str, KindState] = {}
        objects: list[ModelObject] = []
        for rk, (found, rv) in zip(kinds, results, strict=True):
            objects.extend(found.values())
            if rv is not None:
                states[rk.kind] = KindState(rk, rv, found)
        self._states = states
        denied: list[DeniedRead] = []
        if self._namespace and self._namespace != ISTIO_NAMESPACE:
            # With -n the root namespace's policies are read once (not watched in this scope: a
            # mesh-wide change needs a restart or -A).
            mesh_policies, mesh_denied = self._root_policies(istio, ISTIO_NAMESPACE)
            objects.extend(mesh_policies)
            denied.extend(d for d in (mesh_denied,) if d is not None)
        if self._namespace and "Namespace" not in states:
            # The Namespace could not be listed: its labels (injection) are unknown, not empty.
            denied.insert(0, DeniedRead("Namespace", self._namespace))
        return Snapshot.build(objects, self._mesh_settings(istio, denied), self._skipped_notes())

    def namespace_objects(self, namespace: str) -> list[ModelObject]:
        kinds = [rk for rk in (*CORE_KINDS, *self._istio_kinds()) if rk.namespaced]
        with ThreadPoolExecutor(max_workers=LIST_THREADS, thread_name_prefix="list-ns") as pool:
            found = list(pool.map(lambda rk: self._list(rk, namespace)[0], kinds))
        return [obj for objects in found for obj in objects.values()]

    def load(self, first: Callable[[list[str]], str | None], root_namespace: str) -> Iterator[LoadStep]:
        if self._namespace:
            # One namespace is small: list it whole.
            snap = self.snapshot()
            yield LoadStep(tuple(snap.objects()), snap.mesh, pods=len(snap.pods))
            load_in_background()
            yield LoadStep(pods=len(snap.pods), pods_total=len(snap.pods), complete=snap)
            return
        self._start_reading()
        istio = self._istio_kinds()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="first") as pool:
            # What does not depend on the chosen namespace is read while the namespaces are listed.
            root = pool.submit(self._root_policies, istio, root_namespace)
            settings = pool.submit(self._mesh_settings, istio, [])
            namespaces, _ = self._list(CORE_KINDS[0])
            chosen = first(sorted(key[1] for key in namespaces))
            scoped = self.namespace_objects(chosen) if chosen else []
            root_policies, root_denied = root.result()
            mesh = settings.result()
        # A refused read of the root policies makes the first step's mesh level provisional; the
        # cluster-wide lists below then fail the load the way snapshot() fails.
        first_mesh = replace(mesh, denied=(root_denied,)) if root_denied else mesh
        pods = sum(1 for obj in scoped if isinstance(obj, Pod))
        yield LoadStep([*namespaces.values(), *root_policies, *scoped], first_mesh, pods=pods)
        states = yield from kube_load.stream((*CORE_KINDS, *istio), self._pages)
        self._states = states
        objects = [obj for st in states.values() for obj in st.known.values()]
        complete = Snapshot.build(objects, mesh, self._skipped_notes())
        load_in_background()
        yield LoadStep(pods=len(complete.pods), pods_total=len(complete.pods), complete=complete)

    def watch(
        self,
        emit: Callable[[list[ChangeEvent]], None],
        stop: threading.Event,
        status: WatchStatus | None = None,
    ) -> None:
        if not self._states:
            self.snapshot()
        states = [KindState(st.rk, st.resource_version, dict(st.known)) for st in self._states.values()]
        runner = WatchRunner(self._client(), states, self._list, namespace=self._namespace, stop=stop)
        runner.run(emit, status)
        # A later watch() resumes where this one stopped instead of replaying from the snapshot.
        self._states = {st.rk.kind: st for st in states}

    def proxy_logs(
        self, namespace: str, pod: str, options: LogOptions, stop: threading.Event
    ) -> Iterator[str]:
        return ProxyLogStream(self._client(), namespace, pod, options, stop).lines()

    # -- generic mutations -----------------------------------------------------------------------
    def _kind(self, kind: str) -> ResourceKind:
        for rk in CORE_KINDS:
            if rk.kind == kind:
                return rk
        if any(rk.kind == kind for rk in ISTIO_KINDS):
            for rk in self._istio_kinds():
                if rk.kind == kind:
                    return rk
            raise NotFound(f"Istio is not installed in this cluster (no {kind} API served)")
        raise Invalid(f"meshtui does not handle the kind {kind!r}")

    def _namespace_of(self, rk: ResourceKind, body: Mapping[str, Any]) -> str:
        if not rk.namespaced:
            return ""
        return str((body.get("metadata") or {}).get("namespace") or self._namespace or "default")

    @staticmethod
    def _with_api_version(rk: ResourceKind, body: Mapping[str, Any]) -> dict[str, Any]:
        # Istio's v1 and v1beta1 schemas are the same, so a manifest written for either is sent as the
        # version this cluster serves (the server rejects a body whose apiVersion differs from the URL's).
        api_version = f"{rk.group}/{rk.version}" if rk.group else rk.version
        return {**body, "apiVersion": api_version, "kind": rk.kind}

    @staticmethod
    def _write_query(dry_run: bool) -> list[tuple[str, Any]]:
        return [("fieldManager", FIELD_MANAGER), ("dryRun", "All" if dry_run else None)]

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        rk = self._kind(kind)
        try:
            return self._client().json("GET", rk.item(namespace, name))
        except NotFound:
            return None

    def create(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        rk = self._kind(kind)
        path = rk.collection(self._namespace_of(rk, body) or None)
        return self._client().json("POST", path, self._write_query(dry_run), self._with_api_version(rk, body))

    def patch(
        self, kind: str, namespace: str, name: str, patch: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        rk = self._kind(kind)
        return self._client().json(
            "PATCH",
            rk.item(namespace, name),
            self._write_query(dry_run),
            dict(patch),
            content_type=MERGE_PATCH,
        )

    def delete(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        dry_run: bool = False,
        resource_version: str | None = None,
    ) -> None:
        rk = self._kind(kind)
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if resource_version:
            options["preconditions"] = {"resourceVersion": resource_version}
        query = [("dryRun", "All" if dry_run else None)]
        self._client().json("DELETE", rk.item(namespace, name), query, options)

    def label_namespace(
        self, name: str, labels: Mapping[str, str | None], *, dry_run: bool = False
    ) -> dict[str, Any]:
        return self.patch("Namespace", "", name, label_patch(labels), dry_run=dry_run)

    def restart_workload(
        self, kind: str, namespace: str, name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        if kind not in RESTARTABLE:
            raise Invalid(f"cannot restart a {kind}; only {', '.join(RESTARTABLE)}")
        stamp = format_time(datetime.now(UTC))
        return self.patch(kind, namespace, name, restart_patch(stamp), dry_run=dry_run)

    # -- proxy reads -----------------------------------------------------------------------------
    def proxy_stats(self, namespace: str, pod: str) -> str:
        return self._client().text(self._pod_proxy_path(namespace, pod, PROXY_STATUS_PORT, "stats/prometheus"))

    def _pod_proxy_path(self, namespace: str, pod: str, port: int, path: str) -> str:
        # pods/proxy takes "name:port" in one segment; the colon must stay literal.
        return (
            encode_path("api", "v1", "namespaces", namespace, "pods")
            + f"/{quote(pod, safe='')}:{port}/proxy/{path}"
        )

    def istiod_syncz(self) -> list[str]:
        """Each running istiod's /debug/syncz. Through pods/proxy first; istiod answers 401 to callers
        that are neither localhost nor authenticated as it authenticates xDS clients, and the API
        server forwards no credentials, so then through `pilot-discovery request` in the pod."""
        http = self._client()
        path = encode_path("api", "v1", "namespaces", ISTIO_NAMESPACE, "pods")
        doc = http.json("GET", path, [("labelSelector", "app=istiod"), ("fieldSelector", "status.phase=Running")])
        names = sorted(str((item.get("metadata") or {}).get("name") or "") for item in doc.get("items") or ())
        if not names:
            raise NotFound(f"no running istiod pod (app=istiod) in {ISTIO_NAMESPACE}")
        texts: list[str] = []
        failure: BackendError | None = None
        for name in filter(None, names):
            try:
                try:
                    texts.append(http.text(self._pod_proxy_path(ISTIO_NAMESPACE, name, ISTIOD_MONITORING_PORT,
                                                                SYNCZ_PATH)))
                except Unauthorized:
                    loaded = self._loaded
                    assert loaded is not None
                    texts.append(request_command(
                        loaded.configuration, ISTIO_NAMESPACE, name, "discovery", "pilot-discovery",
                        "/" + SYNCZ_PATH, "GET", timeout=self._timeout, auth_method=http.auth_method))
            except BackendError as exc:
                failure = failure or exc
        if not texts and failure is not None:
            raise failure
        return texts

    def proxy_request(self, namespace: str, pod: str, path: str, method: str = "GET") -> str:
        http = self._client()
        loaded = self._loaded
        assert loaded is not None
        return pilot_agent_request(
            loaded.configuration,
            namespace,
            pod,
            path,
            method,
            timeout=self._timeout,
            auth_method=http.auth_method,
        )

    # -- RBAC ------------------------------------------------------------------------------------
    def can_i(self, verb: str, resource: str, group: str = "", namespace: str = "") -> Access:
        plural, _, sub = resource.partition("/")
        attrs: dict[str, Any] = {"verb": verb, "resource": plural, "group": group}
        if sub:
            attrs["subresource"] = sub
        if namespace:
            attrs["namespace"] = namespace
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        result = self._client().json(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review
        )
        status = result.get("status") or {}
        allowed = bool(status.get("allowed")) and not status.get("denied")
        what = f"{resource}.{group}" if group else resource
        where = f"in namespace {namespace}" if namespace else "cluster-wide"
        reason = f"{'may' if allowed else 'may not'} {verb} {what} {where}"
        server_reason = str(status.get("reason") or status.get("evaluationError") or "")
        return Access(allowed, f"{reason} ({server_reason})" if server_reason else reason)

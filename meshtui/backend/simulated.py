"""SimulatedBackend: the demo mesh behind ``meshtui --demo``, a complete :class:`Backend`.

State is a store of Kubernetes JSON dicts that behaves like an API server where meshtui can tell:
resourceVersions, 404/409/422 with the server's wording, dry runs, watch events. Controllers are
simulated just enough to make the UI's actions visible: a template change rolls pods one at a time
(with the sidecar decided by the namespace's injection label at creation, like Istio's webhook), and
the traffic model writes istio-proxy logs that obey the current policies.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import random
import re
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import parse_qsl, urlsplit

from meshtui.backend.base import (
    MUTABLE_KINDS,
    Access,
    BackendError,
    ClusterInfo,
    Conflict,
    ConnectionFailed,
    Invalid,
    LoadStep,
    LogOptions,
    NotFound,
    WatchStatus,
    label_patch,
    load_at_once,
    merge_patch,
    restart_patch,
)
from meshtui.backend.clock import Clock, ManualClock, SystemClock
from meshtui.backend.demo_mesh import (
    ISTIO_VERSION,
    NODES,
    ROOT_NAMESPACE,
    demo_objects,
    pod_from_template,
    pod_status,
    safe_string,
    spiffe_id,
    template_hash,
)
from meshtui.backend.traffic import (
    ENVOY_LEVELS,
    ENVOY_LOGGERS,
    MAX_CATCH_UP,
    TrafficModel,
    envoy_stats_text,
    prometheus_text,
)
from meshtui.model.convert import format_time, from_k8s
from meshtui.model.objects import MeshSettings, Namespace, Pod
from meshtui.model.snapshot import ChangeEvent, EventType, ModelObject, Snapshot

CONTEXT = "demo"
KUBERNETES_VERSION = "v1.31.4"
# Kinds the store serves read-only besides MUTABLE_KINDS.
READ_ONLY_KINDS: dict[str, tuple[str, str, str]] = {
    "Pod": ("", "v1", "pods"),
    "Service": ("", "v1", "services"),
    "VirtualService": ("networking.istio.io", "v1", "virtualservices"),
    "Gateway": ("networking.istio.io", "v1", "gateways"),
}
ALL_KINDS = {**MUTABLE_KINDS, **READ_ONLY_KINDS}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

# Rolling-update timing, in simulated seconds: image pull + init, then readiness, then grace period.
POD_STARTS_AFTER = 2.0
POD_READY_AFTER = 4.0
POD_GONE_AFTER = 3.0
WATCH_POLL = 0.05  # real seconds between checks of a watcher's stop event
LOG_POLL = 0.25  # clock seconds between checks for new log lines
JOURNAL_LIMIT = 5000
CERT_LIFETIME = timedelta(hours=24)
LOG_HISTORY_AT_START = timedelta(seconds=60)

MTLS_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")
AUTHZ_ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

Key = tuple[str, str, str]  # (kind, namespace, name)


def _key(kind: str, namespace: str, name: str) -> tuple[str, str, str]:
    """The store key; namespaces are cluster-scoped whatever namespace a caller passes."""
    return (kind, "" if kind == "Namespace" else namespace, name)


def _resource(kind: str) -> str:
    """The "plural.group" an API server names in its messages, e.g. peerauthentications.security.istio.io."""
    group, _, plural = ALL_KINDS[kind]
    return f"{plural}.{group}" if group else plural


def _qualified_kind(kind: str) -> str:
    group = ALL_KINDS[kind][0]
    return f"{kind}.{group}" if group else kind


def _api_version(kind: str) -> str:
    group, version, _ = ALL_KINDS[kind]
    return f"{group}/{version}" if group else version


def _quote(value: Any) -> str:
    return json.dumps(value)


def _selector_errors(spec: Mapping[str, Any], path: str) -> list[str]:
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    errors = []
    if any("*" in k for k in labels):
        errors.append(
            f'{path}.selector.matchLabels: Invalid value: "object": wildcard not allowed in label key match'
        )
    if any(k == "" for k in labels):
        errors.append(f'{path}.selector.matchLabels: Invalid value: "object": key must not be empty')
    for k, v in labels.items():
        if "*" in str(v):
            errors.append(
                f'{path}.selector.matchLabels[{k}]: Invalid value: "string": '
                "wildcard not allowed in label value match"
            )
    return errors


def _peer_authentication_errors(spec: Mapping[str, Any]) -> list[str]:
    """The PeerAuthentication CRD's schema and CEL rules (manifests/charts/base/files/crd-all.gen.yaml)."""
    errors = []
    supported = ", ".join(_quote(m) for m in MTLS_MODES)
    mode = (spec.get("mtls") or {}).get("mode")
    if mode is not None and mode not in MTLS_MODES:
        errors.append(f"spec.mtls.mode: Unsupported value: {_quote(mode)}: supported values: {supported}")
    port_level = spec.get("portLevelMtls")
    if port_level is not None:
        if not port_level:
            errors.append(
                "spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at "
                "least 1 properties"
            )
        for port, value in port_level.items():
            pmode = (value or {}).get("mode")
            if pmode is not None and pmode not in MTLS_MODES:
                errors.append(
                    f"spec.portLevelMtls[{port}].mode: Unsupported value: {_quote(pmode)}: "
                    f"supported values: {supported}"
                )
        if not all(str(p).isdigit() and 0 < int(p) <= 65535 for p in port_level):
            errors.append('spec.portLevelMtls: Invalid value: "object": port must be between 1-65535')
    errors += _selector_errors(spec, "spec")
    if port_level is not None and not (spec.get("selector") or {}).get("matchLabels"):
        errors.append('spec: Invalid value: "object": portLevelMtls requires selector')
    return errors


def _destination_rule_errors(spec: Mapping[str, Any]) -> list[str]:
    errors = [] if spec.get("host") else ["spec.host: Required value"]
    tls_mode = ((spec.get("trafficPolicy") or {}).get("tls") or {}).get("mode")
    if tls_mode is not None and tls_mode not in TLS_MODES:
        errors.append(
            f"spec.trafficPolicy.tls.mode: Unsupported value: {_quote(tls_mode)}: supported values: "
            + ", ".join(_quote(m) for m in TLS_MODES)
        )
    return errors


def _authorization_policy_errors(spec: Mapping[str, Any]) -> list[str]:
    action = spec.get("action")
    errors = _selector_errors(spec, "spec")
    if action is not None and action not in AUTHZ_ACTIONS:
        errors.append(
            f"spec.action: Unsupported value: {_quote(action)}: supported values: "
            + ", ".join(_quote(a) for a in AUTHZ_ACTIONS)
        )
    return errors


SPEC_VALIDATORS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "PeerAuthentication": _peer_authentication_errors,
    "DestinationRule": _destination_rule_errors,
    "AuthorizationPolicy": _authorization_policy_errors,
}


def _invalid(kind: str, name: str, errors: list[str]) -> Invalid:
    detail = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return Invalid(f"{_qualified_kind(kind)} {_quote(name)} is invalid: {detail}", details={"causes": errors})


def _pod_hash(pod: Mapping[str, Any]) -> str:
    return (pod["metadata"].get("labels") or {}).get("pod-template-hash", "")


def _owner(pod: Mapping[str, Any]) -> str:
    refs = pod["metadata"].get("ownerReferences") or [{}]
    return refs[0].get("name", "")


class SimulatedBackend:
    """The demo mesh. Thread-safe: the app calls it from several workers at once."""

    def __init__(
        self,
        seed: int = 7,
        clock: Clock | None = None,
        namespace: str | None = None,
        latency: float = 0.0,
        *,
        denied: set[tuple[str, str]] | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._scope = namespace
        self._latency = latency
        self._denied = set(denied or ())
        self._rng = random.Random(seed * 7919 + 1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closed = False
        start = self._clock.now()
        self._objects: dict[Key, dict[str, Any]] = {}
        for obj in demo_objects(start, seed):
            meta = obj["metadata"]
            self._objects[(obj["kind"], meta.get("namespace", ""), meta["name"])] = obj
        self._rv = max(int(o["metadata"]["resourceVersion"]) for o in self._objects.values())
        self._ip_host = 160
        self._model = Snapshot.build(
            (m for m in (from_k8s(o) for o in self._objects.values()) if m is not None), self._mesh()
        )
        self._journal: list[ChangeEvent] = []
        self._journal_base = 0  # journal positions are absolute; this many were dropped from the front
        self._mark = 0  # journal position at the last snapshot(): where watch() starts
        self._pending: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        # The proxies have been running for a while: their logs already hold a minute of traffic.
        # A hand-driven clock gets every call replayed, however far a test advances it.
        catch_up = None if isinstance(self._clock, ManualClock) else MAX_CATCH_UP
        self._traffic = TrafficModel(seed, start - LOG_HISTORY_AT_START, max_catch_up=catch_up)
        self._acting_at: datetime | None = None

    # --- connection ----------------------------------------------------------------------------
    @property
    def context(self) -> str:
        return CONTEXT

    def connect(self) -> ClusterInfo:
        self._delay()
        return ClusterInfo(
            context=CONTEXT,
            server="simulated://demo",
            user="demo",
            istio_installed=True,
            istio_version=ISTIO_VERSION,
            namespace=self._scope,
            kubernetes_version=KUBERNETES_VERSION,
        )

    def contexts(self) -> list[str]:
        return [CONTEXT]

    def switch_context(self, name: str) -> ClusterInfo:
        if name != CONTEXT:
            raise ConnectionFailed(f'context "{name}" does not exist (the demo has only "{CONTEXT}")')
        return self.connect()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    # --- reading -------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        self._delay()
        with self._lock:
            self._tick()
            self._mark = self._journal_base + len(self._journal)
            if self._scope is None:
                return self._model
            return Snapshot.build((o for o in self._model.objects() if self._in_scope(o)), self._model.mesh)

    def load(self, first: Callable[[list[str]], str | None], root_namespace: str) -> Iterator[LoadStep]:
        return load_at_once(self)

    def namespace_objects(self, namespace: str) -> list[ModelObject]:
        return [o for o in self.snapshot().objects() if getattr(o, "namespace", None) == namespace]

    def watch(
        self,
        emit: Callable[[list[ChangeEvent]], None],
        stop: threading.Event,
        status: WatchStatus | None = None,
    ) -> None:
        with self._lock:
            cursor = self._mark
        if status:
            status("watching")
        while not stop.is_set():
            with self._lock:
                if self._closed:
                    return
                self._tick()
                end = self._journal_base + len(self._journal)
                start = max(cursor, self._journal_base)
                batch = [e for e in self._journal[start - self._journal_base :] if self._in_scope(e.obj)]
                cursor = end
                if not batch:
                    self._changed.wait(WATCH_POLL)
            if batch:
                emit(batch)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self._check_kind(kind, ALL_KINDS)
        self._delay()
        with self._lock:
            self._tick()
            obj = self._objects.get((kind, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def proxy_logs(
        self, namespace: str, pod: str, options: LogOptions, stop: threading.Event
    ) -> Iterator[str]:
        self._delay()
        with self._lock:
            self._tick(traffic=True)
            model = self._pod(namespace, pod)
            if options.container not in {c.name for c in (*model.containers, *model.init_containers)}:
                raise BackendError(f"container {options.container} is not valid for pod {pod}", status=400)
            log = self._traffic.log(namespace, pod)
            entries = list(log.lines)
            seen = log.total
        if options.since_seconds is not None:
            cutoff = self._clock.now() - timedelta(seconds=options.since_seconds)
            entries = [e for e in entries if e[0] >= cutoff]
        if options.tail_lines is not None:
            entries = entries[-options.tail_lines :] if options.tail_lines > 0 else []
        yield from self._render(entries, options)
        while options.follow and not stop.is_set():
            if not self._clock.sleep(LOG_POLL, stop):
                return
            with self._lock:
                self._tick(traffic=True)
                if (namespace, pod) not in self._model.pods:
                    return
                log = self._traffic.log(namespace, pod)
                entries = log.since(seen)
                seen = log.total
            yield from self._render(entries, options)

    @staticmethod
    def _render(entries: list[tuple[datetime, str]], options: LogOptions) -> Iterator[str]:
        for at, line in entries:
            yield f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {line}" if options.timestamps else line

    # --- mutations -----------------------------------------------------------------------------
    @contextmanager
    def _writing(self, kind: str) -> Iterator[None]:
        """Every write: a kind the API serves, the configured latency, then the store locked and
        simulated time caught up, so the write lands after everything that happened before it."""
        self._check_kind(kind, MUTABLE_KINDS)
        self._delay()
        with self._lock:
            self._tick()
            yield

    def create(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        with self._writing(kind):
            obj = self._prepare(kind, body)
            meta = obj["metadata"]
            key = _key(kind, meta.get("namespace", ""), meta["name"])
            if key in self._objects:
                raise Conflict(f"{_resource(kind)} {_quote(meta['name'])} already exists")
            meta |= {
                "uid": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                "creationTimestamp": format_time(self._clock.now()),
                "generation": 1,
            }
            meta.pop("deletionTimestamp", None)
            if dry_run:
                meta["resourceVersion"] = ""
                return obj
            self._store(key, obj, "ADDED")
            if kind == "Deployment":
                self._surge(key)
            return copy.deepcopy(obj)

    def replace(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        with self._writing(kind):
            obj = self._prepare(kind, body)
            meta = obj["metadata"]
            key = _key(kind, meta.get("namespace", ""), meta["name"])
            current = self._existing(key)
            rv = meta.get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise self._modified(kind, meta["name"])
            return self._update(key, current, obj, dry_run)

    def patch(
        self, kind: str, namespace: str, name: str, patch: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        with self._writing(kind):
            key = _key(kind, namespace, name)
            current = self._existing(key)
            rv = (patch.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise self._modified(kind, name)
            merged = merge_patch(current, patch)
            merged["metadata"] = {**merged.get("metadata", {}), "name": name}
            if kind != "Namespace":
                merged["metadata"]["namespace"] = namespace
            return self._update(key, current, self._prepare(kind, merged), dry_run)

    def delete(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        dry_run: bool = False,
        resource_version: str | None = None,
    ) -> None:
        with self._writing(kind):
            key = _key(kind, namespace, name)
            current = self._existing(key)
            stored = current["metadata"]["resourceVersion"]
            if resource_version is not None and resource_version != stored:
                raise Conflict(
                    f"Operation cannot be fulfilled on {_resource(kind)} {_quote(name)}: the ResourceVersion "
                    f"in the precondition ({resource_version}) does not match the ResourceVersion in record "
                    f"({stored}). The object might have been modified"
                )
            if dry_run:
                return
            self._remove(key)
            # Garbage collection of what the object owned, as the namespace and GC controllers do.
            if kind == "Namespace":
                for dep_key in [k for k in self._objects if k[1] == name]:
                    self._remove(dep_key)
            elif kind in WORKLOAD_KINDS:
                for pod_key in self._owned_pods(current):
                    self._terminate(pod_key)

    def label_namespace(
        self, name: str, labels: Mapping[str, str | None], *, dry_run: bool = False
    ) -> dict[str, Any]:
        return self.patch("Namespace", "", name, label_patch(labels), dry_run=dry_run)

    def restart_workload(
        self, kind: str, namespace: str, name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        if kind not in WORKLOAD_KINDS:
            raise BackendError(
                f"{kind} {namespace}/{name} cannot be restarted: not a Deployment, StatefulSet or DaemonSet",
                status=400,
            )
        return self.patch(
            kind, namespace, name, restart_patch(format_time(self._clock.now())), dry_run=dry_run
        )

    # --- proxies -------------------------------------------------------------------------------
    def proxy_stats(self, namespace: str, pod: str) -> str:
        self._delay()
        with self._lock:
            self._tick(traffic=True)
            model = self._proxied_pod(namespace, pod)
            return prometheus_text(self._traffic.counters(namespace, pod), model.proxy_version)

    def proxy_request(self, namespace: str, pod: str, path: str, method: str = "GET") -> str:
        self._delay()
        url = urlsplit(path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        with self._lock:
            self._tick(traffic=True)
            model = self._proxied_pod(namespace, pod)
            if url.path == "/logging":
                return self._logging(namespace, pod, method, query)
            if method != "GET":
                raise BackendError(f"{method} {url.path}: method not allowed", status=405)
            if url.path == "/certs":
                return self._certs(model)
            if url.path == "/stats":
                return envoy_stats_text(self._traffic.counters(namespace, pod), model.proxy_version)
            if url.path == "/stats/prometheus":
                return prometheus_text(self._traffic.counters(namespace, pod), model.proxy_version)
            if url.path == "/ready":
                return "LIVE\n"
        raise BackendError(f"envoy admin: invalid path {url.path}", status=404)

    def _logging(self, namespace: str, pod: str, method: str, query: Mapping[str, str]) -> str:
        if query:
            if method != "POST":
                raise BackendError(
                    "envoy admin /logging: this endpoint requires POST to change levels", status=405
                )
            changes: dict[str, str] = {}
            for key, value in query.items():
                # ?level=X sets every logger; ?name=X sets one, as Envoy's admin handler reads it.
                logger, level = ("*", value) if key == "level" else (key, value)
                if level not in ENVOY_LEVELS:
                    raise BackendError(f"envoy admin /logging: unknown level {level!r}", status=400)
                if logger != "*" and logger not in ENVOY_LOGGERS:
                    raise BackendError(f"envoy admin /logging: unknown logger {logger!r}", status=400)
                changes[logger] = level
            self._traffic.set_log_levels(namespace, pod, changes)
        levels = self._traffic.log_levels(namespace, pod)
        return "active loggers:\n" + "".join(f"  {name}: {levels[name]}\n" for name in sorted(levels))

    def _certs(self, pod: Pod) -> str:
        """Envoy's /certs for the workload certificate istiod issued: 24 h, rotated at half-life."""
        now = self._clock.now()
        half = CERT_LIFETIME / 2
        issued = now - timedelta(seconds=(now - pod.created).total_seconds() % half.total_seconds())
        expires = issued + CERT_LIFETIME
        serial = f"{uuid.uuid5(uuid.NAMESPACE_URL, pod.name + issued.isoformat()).int:032x}"
        root_from = datetime(2025, 3, 2, 9, 14, 7, tzinfo=now.tzinfo)
        root_to = root_from + timedelta(days=3650)

        def cert(sans: list[dict[str, str]], serial: str, start: datetime, end: datetime) -> dict[str, Any]:
            return {
                "path": "<inline>",
                "serial_number": serial,
                "subject_alt_names": sans,
                "days_until_expiration": str(max(0, (end - now).days)),
                "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expiration_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }

        body = {
            "certificates": [
                {
                    "ca_cert": [cert([], "4e3b7c1b9a5d2f60c8a1e7d3b2f9c4a1", root_from, root_to)],
                    "cert_chain": [],
                },
                {
                    "ca_cert": [],
                    "cert_chain": [
                        cert(
                            [{"uri": spiffe_id(pod.namespace, pod.service_account)}], serial, issued, expires
                        )
                    ],
                },
            ]
        }
        return json.dumps(body, indent=1)

    # --- RBAC ----------------------------------------------------------------------------------
    def can_i(self, verb: str, resource: str, group: str = "", namespace: str = "") -> Access:
        if (verb, resource) in self._denied:
            where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            api = f'in API group "{group}"' if group else 'in API group ""'
            return Access(False, f'User "demo" cannot {verb} resource "{resource}" {api}{where}')
        return Access(True)

    # --- simulated time ------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Step a ManualClock and everything that happens in that time (rollouts, traffic)."""
        if not isinstance(self._clock, ManualClock):
            raise TypeError("advance() needs a SimulatedBackend built with a ManualClock")
        self._clock.advance(seconds)
        with self._lock:
            self._tick(traffic=True)

    def observed_plaintext(self) -> list[tuple[str, str, str, int]]:
        with self._lock:
            self._tick(traffic=True)
            return self._traffic.observed_plaintext()

    def _tick(self, *, traffic: bool = False) -> None:
        """Run the controllers' actions due by now, then (when asked) the traffic.

        Traffic is computed lazily, only for readers of logs and stats, but never across a change:
        :meth:`_record` first brings it up to the moment of every change, so each call sees the
        policies and pods of its own time.
        """
        now = self._clock.now()
        while self._pending and self._pending[0][0] <= now:
            at, _, action = heapq.heappop(self._pending)
            self._acting_at = at
            try:
                action()
            finally:
                self._acting_at = None
        if traffic:
            self._traffic.run(now, self._model, self._cluster_ips())

    def _now(self) -> datetime:
        """The clock's time, or while a scheduled action runs, the time it was due."""
        return self._acting_at or self._clock.now()

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(
            self._pending, (self._now() + timedelta(seconds=seconds), next(self._sequence), action)
        )

    # --- store internals -----------------------------------------------------------------------
    def _delay(self) -> None:
        if self._latency:
            time.sleep(self._latency)

    @staticmethod
    def _check_kind(kind: str, allowed: Mapping[str, Any]) -> None:
        if kind not in allowed:
            raise BackendError(f"meshtui does not manage {kind} objects here", status=400)

    def _mesh(self) -> MeshSettings:
        return MeshSettings(root_namespace=ROOT_NAMESPACE, auto_mtls=True, istio_version=ISTIO_VERSION)

    def _in_scope(self, obj: ModelObject) -> bool:
        if self._scope is None:
            return True
        if isinstance(obj, Namespace):
            return obj.name == self._scope
        return obj.namespace == self._scope

    def _cluster_ips(self) -> dict[tuple[str, str], str]:
        return {
            (k[1], k[2]): o["spec"].get("clusterIP", "")
            for k, o in self._objects.items()
            if k[0] == "Service"
        }

    def _pod(self, namespace: str, name: str) -> Pod:
        pod = self._model.pods.get((namespace, name))
        if pod is None:
            raise NotFound(f'pods "{name}" not found')
        return pod

    def _proxied_pod(self, namespace: str, name: str) -> Pod:
        pod = self._pod(namespace, name)
        if not pod.has_sidecar:
            raise NotFound(f"pod {namespace}/{name} has no istio-proxy container")
        return pod

    def _existing(self, key: Key) -> dict[str, Any]:
        obj = self._objects.get(key)
        if obj is None:
            raise NotFound(f"{_resource(key[0])} {_quote(key[2])} not found")
        return obj

    @staticmethod
    def _modified(kind: str, name: str) -> Conflict:
        return Conflict(
            f"Operation cannot be fulfilled on {_resource(kind)} {_quote(name)}: the object has been "
            "modified; please apply your changes to the latest version and try again"
        )

    def _prepare(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A validated deep copy of ``body``, as the API server would admit it."""
        obj = copy.deepcopy(dict(body))
        expected = _api_version(kind)
        if obj.get("apiVersion", expected) != expected or obj.get("kind", kind) != kind:
            raise BackendError(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                f"expected API version ({expected})",
                status=400,
            )
        obj["apiVersion"], obj["kind"] = expected, kind
        meta = obj.setdefault("metadata", {})
        name = meta.get("name") or ""
        if not name:
            raise _invalid(kind, name, ["metadata.name: Required value: name or generateName is required"])
        if not DNS1123_SUBDOMAIN.fullmatch(name) or len(name) > 253:
            raise _invalid(kind, name, [f"metadata.name: Invalid value: {_quote(name)}: {DNS1123_MESSAGE}"])
        if kind == "Namespace":
            meta.pop("namespace", None)
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        else:
            ns = meta.get("namespace") or ""
            if not ns:
                raise BackendError(f"{kind} {name}: the namespace of the object must be set", status=400)
            if ("Namespace", "", ns) not in self._objects:
                raise NotFound(f'namespaces "{ns}" not found')
        errors = SPEC_VALIDATORS.get(kind, lambda _spec: [])(obj.get("spec") or {})
        if errors:
            raise _invalid(kind, name, errors)
        return obj

    def _update(
        self, key: Key, current: dict[str, Any], obj: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        meta, old_meta = obj["metadata"], current["metadata"]
        for field in ("uid", "creationTimestamp", "resourceVersion"):
            meta[field] = old_meta.get(field)
        generation = int(old_meta.get("generation") or 1)
        if obj.get("spec") != current.get("spec"):
            generation += 1
        meta["generation"] = generation
        if "status" in current:
            obj["status"] = copy.deepcopy(current["status"])
        template_changed = (obj.get("spec") or {}).get("template") != (current.get("spec") or {}).get(
            "template"
        )
        if key[0] == "Deployment" and template_changed:
            annotations = meta.setdefault("annotations", {})
            revision = int(old_meta.get("annotations", {}).get("deployment.kubernetes.io/revision", "1"))
            annotations["deployment.kubernetes.io/revision"] = str(revision + 1)
        if dry_run:
            return obj
        self._store(key, obj, "MODIFIED")
        if key[0] == "Deployment" and obj.get("spec") != current.get("spec"):
            self._surge(key)
        return copy.deepcopy(obj)

    def _store(self, key: Key, obj: dict[str, Any], event: EventType) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[key] = obj
        self._record(event, obj)

    def _remove(self, key: Key) -> None:
        obj = self._objects.pop(key, None)
        if obj is None:
            return
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._record("DELETED", obj)
        if key[0] == "Pod":
            self._traffic.forget(key[1], key[2])

    def _record(self, event: EventType, obj: dict[str, Any]) -> None:
        model = from_k8s(obj)
        if model is None:
            return
        self._traffic.run(self._now(), self._model, self._cluster_ips())
        change = ChangeEvent(event, model)
        self._model = self._model.apply([change])
        self._journal.append(change)
        if len(self._journal) > JOURNAL_LIMIT:
            drop = len(self._journal) - JOURNAL_LIMIT
            del self._journal[:drop]
            self._journal_base += drop
        self._changed.notify_all()

    # --- the Deployment controller, just enough of it ------------------------------------------
    def _owned_pods(self, deploy: Mapping[str, Any]) -> list[Key]:
        name, ns = deploy["metadata"]["name"], deploy["metadata"].get("namespace", "")
        return sorted(
            (
                k
                for k, p in self._objects.items()
                if k[0] == "Pod" and k[1] == ns and _owner(p) == f"{name}-{_pod_hash(p)}"
            ),
            key=lambda k: (self._objects[k]["metadata"]["creationTimestamp"], k[2]),
        )

    def _surge(self, key: Key) -> None:
        """One step of a rolling update (maxSurge 1, maxUnavailable 0): add a pod of the current
        template, or, once all are there, retire what is left of the old ones."""
        deploy = self._objects.get(key)
        if deploy is None:
            return
        current = template_hash(deploy["spec"]["template"])
        live = [
            k for k in self._owned_pods(deploy) if not self._objects[k]["metadata"].get("deletionTimestamp")
        ]
        new = [k for k in live if _pod_hash(self._objects[k]) == current]
        old = [k for k in live if _pod_hash(self._objects[k]) != current]
        replicas = int(deploy["spec"].get("replicas", 1))
        if len(new) < replicas:
            pod_key = self._create_pod(deploy, current)
            self._later(POD_STARTS_AFTER, lambda: self._set_stage(pod_key, "starting"))
            self._later(POD_READY_AFTER, lambda: self._ready(key, pod_key, current))
            return
        for pod_key in old + new[replicas:]:
            self._terminate(pod_key)
        self._sync_status(key)

    def _ready(self, key: Key, pod_key: Key, pod_hash: str) -> None:
        self._set_stage(pod_key, "ready")
        deploy = self._objects.get(key)
        if deploy is None or template_hash(deploy["spec"]["template"]) != pod_hash:
            return  # a newer rollout took over
        old = [
            k
            for k in self._owned_pods(deploy)
            if _pod_hash(self._objects[k]) != pod_hash
            and not self._objects[k]["metadata"].get("deletionTimestamp")
        ]
        if old:
            self._terminate(old[0])
        self._surge(key)

    def _injects(self, namespace: str, template: Mapping[str, Any]) -> bool:
        """Istio's injection webhooks: the namespace label, overridden per pod by sidecar.istio.io/inject."""
        ns = self._model.namespaces.get(("", namespace))
        pod_label = ((template.get("metadata") or {}).get("labels") or {}).get("sidecar.istio.io/inject")
        injection = ns.injection if ns else "none"
        if injection in ("enabled", "rev:default"):
            return pod_label != "false"
        return injection == "none" and pod_label == "true"

    def _create_pod(self, deploy: dict[str, Any], pod_hash: str) -> Key:
        ns, name = deploy["metadata"]["namespace"], deploy["metadata"]["name"]
        pod_name = f"{name}-{pod_hash}-{safe_string(self._rng, 5)}"
        node = self._rng.choice(NODES)
        meta = {
            "name": pod_name,
            "namespace": ns,
            "uid": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "creationTimestamp": format_time(self._now()),
        }
        rs_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ns}/{name}-{pod_hash}"))
        pod = pod_from_template(
            deploy,
            name=pod_name,
            pod_hash=pod_hash,
            meta=meta,
            rs_uid=rs_uid,
            node=node,
            ip="",
            inject=self._injects(ns, deploy["spec"]["template"]),
            proxy_version=ISTIO_VERSION,
            stage="pending",
            restarts=0,
            rng=self._rng,
        )
        key = ("Pod", ns, pod_name)
        self._store(key, pod, "ADDED")
        self._sync_status(("Deployment", ns, name))
        return key

    def _next_ip(self, node: str) -> str:
        # The demo's own pods sit below .160 on each node's /24; rollouts take addresses above.
        self._ip_host = self._ip_host % 250 + 1 if self._ip_host < 250 else 160
        return f"10.244.{NODES.index(node) + 1 if node in NODES else 1}.{self._ip_host}"

    def _set_stage(self, pod_key: Key, stage: str) -> None:
        pod = self._objects.get(pod_key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        pod = copy.deepcopy(pod)
        ip = pod["status"].get("podIP") or self._next_ip(pod["spec"]["nodeName"])
        pod["status"] = pod_status(pod, stage=stage, ip=ip, restarts=0, rng=self._rng)
        self._store(pod_key, pod, "MODIFIED")
        self._sync_owner(pod)

    def _terminate(self, pod_key: Key) -> None:
        pod = self._objects.get(pod_key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        pod = copy.deepcopy(pod)
        pod["metadata"] |= {
            "deletionTimestamp": format_time(self._now() + timedelta(seconds=30)),
            "deletionGracePeriodSeconds": 30,
        }
        self._store(pod_key, pod, "MODIFIED")
        self._sync_owner(pod)
        self._later(POD_GONE_AFTER, lambda: self._remove(pod_key))

    def _sync_owner(self, pod: Mapping[str, Any]) -> None:
        owner, pod_hash = _owner(pod), _pod_hash(pod)
        if pod_hash and owner.endswith("-" + pod_hash):
            self._sync_status(("Deployment", pod["metadata"]["namespace"], owner[: -len(pod_hash) - 1]))

    def _sync_status(self, key: Key) -> None:
        deploy = self._objects.get(key)
        if deploy is None:
            return
        current = template_hash(deploy["spec"]["template"])
        pods = [
            self._objects[k]
            for k in self._owned_pods(deploy)
            if not self._objects[k]["metadata"].get("deletionTimestamp")
        ]
        ready = sum(
            1
            for p in pods
            if p["status"].get("phase") == "Running"
            and all(c.get("ready") for c in p["status"].get("containerStatuses", []))
        )
        status = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": sum(1 for p in pods if _pod_hash(p) == current),
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if status != deploy.get("status"):
            deploy = copy.deepcopy(deploy)
            deploy["status"] = status
            self._store(key, deploy, "MODIFIED")

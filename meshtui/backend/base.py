"""The Backend protocol: everything the UI and the CLI need from a cluster.

One implementation: :class:`meshtui.backend.kube.KubeBackend`, through the official ``kubernetes``
client, on a real cluster or on the demo's in-process API server (:mod:`meshtui.demo`).
Every method may block; the app calls them from worker threads only and turns results into
messages. Failures are raised as :class:`BackendError` subclasses whose ``str()`` is one line a
user can act on (never a traceback, never a credential).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence, runtime_checkable

from meshtui.model.objects import MeshSettings
from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot

# Kinds the generic mutation methods accept, with (group, version, plural) as served by Istio
# >= 1.22 / Kubernetes >= 1.28. The real backend re-checks the served version by discovery.
MUTABLE_KINDS: dict[str, tuple[str, str, str]] = {
    "Namespace": ("", "v1", "namespaces"),
    "PeerAuthentication": ("security.istio.io", "v1", "peerauthentications"),
    "DestinationRule": ("networking.istio.io", "v1", "destinationrules"),
    "AuthorizationPolicy": ("security.istio.io", "v1", "authorizationpolicies"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
}

FIELD_MANAGER = "meshtui"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class BackendError(Exception):
    """A failure with a one-line, user-facing message. ``status`` is the HTTP code when there is one."""

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None, details: Mapping[str, Any] | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.details = dict(details or {})


class ConnectionFailed(BackendError):
    """No kubeconfig, unknown context, refused/timed-out connection, TLS verification failure."""


class Unauthorized(BackendError):
    status = 401


class Forbidden(BackendError):
    status = 403


class NotFound(BackendError):
    status = 404


class Conflict(BackendError):
    """409: the object changed since it was read (or already exists)."""

    status = 409


class Invalid(BackendError):
    """422: the server rejected the object (schema or CEL validation); message is the server's."""

    status = 422


class Gone(BackendError):
    """410: the watch's resourceVersion is too old; the caller re-lists."""

    status = 410


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    context: str
    server: str = ""
    user: str = ""
    istio_installed: bool = True
    istio_version: str = ""
    namespace: str | None = None  # scope from -n; None = all namespaces
    kubernetes_version: str = ""


@dataclass(frozen=True, slots=True)
class LogOptions:
    container: str = "istio-proxy"
    tail_lines: int | None = 100
    since_seconds: int | None = None
    timestamps: bool = False
    follow: bool = True


@dataclass(frozen=True, slots=True)
class Access:
    allowed: bool
    reason: str = ""


WatchStatus = Callable[[str], None]
# A watch status starting with this is a notice (a malformed object left out), not a connection state.
SKIPPED_STATUS = "skipped "


@dataclass(frozen=True)
class LoadStep:
    """One step of a staged load (Backend.load): objects to add with the progress so far, or, last,
    the complete snapshot that watch() continues from."""

    objects: Sequence[ModelObject] = ()
    # With the first step: the mesh settings (Istio version, revisions, reads refused).
    mesh: MeshSettings | None = None
    pods: int = 0
    # The server's estimate of all pods (remainingItemCount), when it gives one.
    pods_total: int | None = None
    complete: Snapshot | None = None


@runtime_checkable
class Backend(Protocol):
    """What a cluster source must offer. All methods may block; call them from worker threads."""

    @property
    def context(self) -> str:
        """Context name, or "demo" for the simulated mesh."""
        ...

    def connect(self) -> ClusterInfo:
        """Check reachability and discover Istio; raises BackendError with a clear message."""
        ...

    def contexts(self) -> list[str]:
        ...

    def switch_context(self, name: str) -> ClusterInfo:
        ...

    def snapshot(self) -> Snapshot:
        """A full list of everything in scope (paginated on real clusters)."""
        ...

    def load(self, first: Callable[[list[str]], str | None], root_namespace: str) -> Iterator[LoadStep]:
        """Like snapshot(), in steps so the first screen paints before a big cluster is listed: the
        first step holds the namespaces, everything in the namespace ``first`` picks from their
        sorted names and the root namespace's PeerAuthentications; then pages of the cluster-wide
        lists; the last step the complete snapshot."""
        ...

    def namespace_objects(self, namespace: str) -> list[ModelObject]:
        """Everything meshtui reads in one namespace (to show it before a staged load reaches it)."""
        ...

    def watch(self, emit: Callable[[list[ChangeEvent]], None], stop: threading.Event,
              status: WatchStatus | None = None) -> None:
        """Block until ``stop`` is set, calling ``emit`` with batches of changes after the last
        ``snapshot()`` or completed ``load()``. Reconnects by itself; reports connection state through ``status``, and a
        malformed object it left out as a status starting with SKIPPED_STATUS."""
        ...

    def proxy_logs(self, namespace: str, pod: str, options: LogOptions,
                   stop: threading.Event) -> Iterator[str]:
        """Lines of the pod's proxy container, without trailing newlines, until ``stop`` is set or
        the stream ends."""
        ...

    # Generic mutations; ``body``/``patch`` are Kubernetes JSON dicts.
    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        ...

    def create(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        ...

    def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any], *,
              dry_run: bool = False) -> dict[str, Any]:
        """JSON merge patch (RFC 7386)."""
        ...

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False,
               resource_version: str | None = None) -> None:
        ...

    def label_namespace(self, name: str, labels: Mapping[str, str | None], *,
                        dry_run: bool = False) -> dict[str, Any]:
        """Set labels; a None value removes the label."""
        ...

    def restart_workload(self, kind: str, namespace: str, name: str, *,
                         dry_run: bool = False) -> dict[str, Any]:
        """What `kubectl rollout restart` does: stamp the pod template with restartedAt."""
        ...

    def proxy_stats(self, namespace: str, pod: str) -> str:
        """Prometheus text from the pod's pilot-agent on :15020 (/stats/prometheus)."""
        ...

    def proxy_request(self, namespace: str, pod: str, path: str, method: str = "GET") -> str:
        """`pilot-agent request METHOD PATH` in the istio-proxy container (Envoy admin)."""
        ...

    def istiod_syncz(self) -> list[str]:
        """istiod's /debug/syncz JSON (what `istioctl proxy-status` shows), one text per istiod
        replica; raises when no replica answered."""
        ...

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str = "") -> Access:
        ...

    def close(self) -> None:
        ...


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, returning a new value (undo computes the state it restores with it)."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def restart_patch(timestamp: str) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: timestamp}}}}}


def label_patch(labels: Mapping[str, str | None]) -> dict[str, Any]:
    return {"metadata": {"labels": dict(labels)}}


def mutating_permissions() -> Sequence[tuple[str, str, str]]:
    """(verb, resource, group) triples meshtui's actions need; checked with SelfSubjectAccessReview."""
    return (
        ("patch", "namespaces", ""),
        ("create", "peerauthentications", "security.istio.io"),
        ("patch", "peerauthentications", "security.istio.io"),
        ("update", "peerauthentications", "security.istio.io"),
        ("delete", "peerauthentications", "security.istio.io"),
        ("patch", "deployments", "apps"),
        ("patch", "statefulsets", "apps"),
        ("patch", "daemonsets", "apps"),
        ("create", "pods/exec", ""),
        ("get", "pods/proxy", ""),
    )

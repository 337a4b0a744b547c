"""An in-memory stand-in for the mutation half of the Backend protocol.

It keeps objects as Kubernetes dicts and enforces what the change layer relies on from a real API
server: resourceVersion preconditions (409), already-exists (409), not-found (404), dry run that
stores nothing, and Istio's validation that portLevelMtls needs a selector (422).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Mapping, Sequence

from meshtui.backend.base import ClusterInfo, Conflict, Invalid, NotFound, merge_patch, restart_patch
from meshtui.change.plan import ObjectChange
from meshtui.model.convert import from_k8s
from meshtui.model.objects import MeshSettings
from meshtui.model.snapshot import Snapshot

Key = tuple[str, str, str]


class FakeBackend:
    def __init__(self, objects: Sequence[dict[str, Any]] = (), *, context: str = "kind-test",
                 mesh: MeshSettings | None = None) -> None:
        self._rv = itertools.count(100)
        self.store: dict[Key, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str, bool]] = []
        self._context = context
        self.closed = False
        self.mesh = mesh or MeshSettings()
        for obj in objects:
            self._put(copy.deepcopy(obj))

    @property
    def context(self) -> str:
        return self._context

    def connect(self) -> ClusterInfo:
        return ClusterInfo(context=self._context)

    def close(self) -> None:
        self.closed = True

    def _key(self, kind: str, body: Mapping[str, Any]) -> Key:
        meta = body.get("metadata") or {}
        return (kind, "" if kind == "Namespace" else meta.get("namespace", ""), meta["name"])

    def _put(self, body: dict[str, Any]) -> dict[str, Any]:
        body.setdefault("metadata", {})["resourceVersion"] = str(next(self._rv))
        self.store[self._key(body["kind"], body)] = body
        return copy.deepcopy(body)

    def _existing(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get((kind, namespace, name))
        if obj is None:
            raise NotFound(f"{kind} {namespace}/{name} not found")
        return obj

    @staticmethod
    def _check_rv(current: Mapping[str, Any], rv: str | None) -> None:
        if rv and current["metadata"]["resourceVersion"] != rv:
            raise Conflict("the object has been modified; please apply your changes to the latest version")

    @staticmethod
    def _validate(body: Mapping[str, Any]) -> None:
        spec = body.get("spec") or {}
        is_pa = body.get("kind") == "PeerAuthentication"
        if is_pa and spec.get("portLevelMtls") and not spec.get("selector"):
            raise Invalid("spec: Invalid value: portLevelMtls requires selector")

    def snapshot(self) -> Snapshot:
        objs = [from_k8s(o) for o in self.store.values()]
        return Snapshot.build([o for o in objs if o is not None], self.mesh)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self.store.get((kind, namespace, name))
        return copy.deepcopy(obj) if obj else None

    def create(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        self.calls.append(("create", kind, body["metadata"]["name"], dry_run))
        body = {**copy.deepcopy(dict(body)), "kind": kind}
        if self._key(kind, body) in self.store:
            raise Conflict(f"{kind} {body['metadata']['name']} already exists")
        self._validate(body)
        if body.get("metadata", {}).get("resourceVersion"):
            raise Invalid("metadata.resourceVersion: must be unset on create")
        return copy.deepcopy(body) if dry_run else self._put(body)

    def replace(self, kind: str, body: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        self.calls.append(("replace", kind, body["metadata"]["name"], dry_run))
        key = self._key(kind, body)
        current = self._existing(*key)
        self._check_rv(current, body["metadata"].get("resourceVersion"))
        new = {**copy.deepcopy(dict(body)), "kind": kind}
        self._validate(new)
        return copy.deepcopy(new) if dry_run else self._put(new)

    def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any], *,
              dry_run: bool = False) -> dict[str, Any]:
        self.calls.append(("patch", kind, name, dry_run))
        current = self._existing(kind, namespace, name)
        self._check_rv(current, (patch.get("metadata") or {}).get("resourceVersion"))
        new = merge_patch(current, patch)
        self._validate(new)
        return copy.deepcopy(new) if dry_run else self._put(new)

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False,
               resource_version: str | None = None) -> None:
        self.calls.append(("delete", kind, name, dry_run))
        current = self._existing(kind, namespace, name)
        self._check_rv(current, resource_version)
        if not dry_run:
            del self.store[(kind, namespace, name)]

    def label_namespace(self, name: str, labels: Mapping[str, str | None], *,
                        dry_run: bool = False) -> dict[str, Any]:
        return self.patch("Namespace", "", name, {"metadata": {"labels": dict(labels)}}, dry_run=dry_run)

    def restart_workload(self, kind: str, namespace: str, name: str, *,
                         dry_run: bool = False) -> dict[str, Any]:
        return self.patch(kind, namespace, name, restart_patch("2026-01-01T00:00:00Z"), dry_run=dry_run)


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def peer_auth(namespace: str, name: str, *, mode: str | None = None, selector: dict[str, str] | None = None,
              ports: dict[str, str] | None = None, created: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if mode:
        spec["mtls"] = {"mode": mode}
    if ports:
        spec["portLevelMtls"] = {p: {"mode": m} for p, m in ports.items()}
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": created}, "spec": spec}


def deployment(namespace: str, name: str, labels: dict[str, str], *, ports: tuple[int, ...] = (8080,),
               template_annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": template_annotations or {}},
                "spec": {"containers": [{"name": "app", "image": "app:1",
                                         "ports": [{"containerPort": p} for p in ports]}]},
            },
        },
    }


def pod(namespace: str, name: str, labels: dict[str, str], *, sidecar: bool) -> dict[str, Any]:
    containers = [{"name": "app", "image": "app:1"}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "istio/proxyv2:1.30.3"})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "ownerReferences": [{"kind": "ReplicaSet", "name": f"{name}-rs"}]},
            "spec": {"containers": containers}, "status": {"phase": "Running"}}


def portlevel_without_selector(namespace: str, name: str = "ports") -> ObjectChange:
    """A create the server rejects (422: portLevelMtls requires selector), to fail a plan on purpose."""
    return ObjectChange("PeerAuthentication", namespace, name, None,
                        peer_auth(namespace, name, ports={"8080": "STRICT"}), "create")

"""Kubernetes objects for tests, as a user or a controller would write them."""

from __future__ import annotations

from typing import Any

from meshtui.change.plan import ObjectChange


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

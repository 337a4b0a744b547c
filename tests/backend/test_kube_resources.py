"""API paths for every kind meshtui reads, namespaced and cluster-wide."""

from __future__ import annotations

import pytest

from meshtui.backend.kube_resources import CORE_KINDS, ISTIO_KINDS, ResourceKind

BY_KIND = {rk.kind: rk for rk in (*CORE_KINDS, *ISTIO_KINDS)}


@pytest.mark.parametrize(
    ("kind", "namespace", "expected"),
    [
        ("Namespace", None, "/api/v1/namespaces"),
        ("Namespace", "prod", "/api/v1/namespaces"),
        ("Pod", None, "/api/v1/pods"),
        ("Pod", "prod", "/api/v1/namespaces/prod/pods"),
        ("Deployment", "prod", "/apis/apps/v1/namespaces/prod/deployments"),
        ("PeerAuthentication", None, "/apis/security.istio.io/v1/peerauthentications"),
        ("Sidecar", "a b", "/apis/networking.istio.io/v1/namespaces/a%20b/sidecars"),
    ],
)
def test_collection_paths(kind: str, namespace: str | None, expected: str) -> None:
    assert BY_KIND[kind].collection(namespace) == expected


@pytest.mark.parametrize(
    ("rk", "namespace", "name", "expected"),
    [
        (BY_KIND["Namespace"], "", "istio-system", "/api/v1/namespaces/istio-system"),
        (BY_KIND["Service"], "prod", "web", "/api/v1/namespaces/prod/services/web"),
        (ResourceKind("DestinationRule", "networking.istio.io", "v1beta1", "destinationrules"), "prod", "r",
         "/apis/networking.istio.io/v1beta1/namespaces/prod/destinationrules/r"),
    ],
)
def test_item_paths(rk: ResourceKind, namespace: str, name: str, expected: str) -> None:
    assert rk.item(namespace, name) == expected



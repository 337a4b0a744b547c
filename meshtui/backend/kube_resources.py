"""The resource kinds meshtui reads, where they are served, and discovery of Istio's served versions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from meshtui.backend.base import NotFound
from meshtui.backend.kube_http import KubeHttp, encode_path

ISTIO_GROUPS = ("security.istio.io", "networking.istio.io")
# Preference order as Istio promotes APIs: v1 from Istio 1.22, v1beta1 before that.
ISTIO_VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True, slots=True)
class ResourceKind:
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool = True

    def collection(self, namespace: str | None = None) -> str:
        """The list/watch path, across all namespaces unless ``namespace`` is given."""
        prefix = ("api", self.version) if not self.group else ("apis", self.group, self.version)
        if self.namespaced and namespace:
            return encode_path(*prefix, "namespaces", namespace, self.plural)
        return encode_path(*prefix, self.plural)

    def item(self, namespace: str, name: str) -> str:
        return self.collection(namespace if self.namespaced else None) + encode_path(name)


CORE_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("Namespace", "", "v1", "namespaces", namespaced=False),
    ResourceKind("Pod", "", "v1", "pods"),
    ResourceKind("Service", "", "v1", "services"),
    ResourceKind("Deployment", "apps", "v1", "deployments"),
    ResourceKind("StatefulSet", "apps", "v1", "statefulsets"),
    ResourceKind("DaemonSet", "apps", "v1", "daemonsets"),
)

ISTIO_KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("PeerAuthentication", "security.istio.io", "v1", "peerauthentications"),
    ResourceKind("AuthorizationPolicy", "security.istio.io", "v1", "authorizationpolicies"),
    ResourceKind("DestinationRule", "networking.istio.io", "v1", "destinationrules"),
    ResourceKind("VirtualService", "networking.istio.io", "v1", "virtualservices"),
    ResourceKind("Sidecar", "networking.istio.io", "v1", "sidecars"),
)


# Waypoints are Gateway API Gateways (class istio-waypoint); read only where Istio is installed.
WAYPOINT_KIND = ResourceKind("Gateway", "gateway.networking.k8s.io", "v1", "gateways")


def _served_plurals(http: KubeHttp, group: str, version: str) -> set[str]:
    try:
        doc = http.json("GET", encode_path("apis", group, version))
    except NotFound:
        return set()
    return {str(r.get("name")) for r in doc.get("resources") or () if isinstance(r, dict)}


def discover_istio(http: KubeHttp) -> tuple[ResourceKind, ...]:
    """Istio kinds at the version the cluster serves (v1, else v1beta1), and Gateway API Gateways when
    served (waypoints); empty without Istio's CRDs."""
    found: list[ResourceKind] = []
    for group in ISTIO_GROUPS:
        try:
            doc = http.json("GET", encode_path("apis", group))
        except NotFound:
            continue
        offered = {str(v.get("version")) for v in doc.get("versions") or () if isinstance(v, dict)}
        served = {v: _served_plurals(http, group, v) for v in ISTIO_VERSIONS if v in offered}
        for rk in ISTIO_KINDS:
            if rk.group != group:
                continue
            version = next((v for v in ISTIO_VERSIONS if rk.plural in served.get(v, ())), None)
            if version is not None:
                found.append(replace(rk, version=version))
    if found and WAYPOINT_KIND.plural in _served_plurals(http, WAYPOINT_KIND.group, WAYPOINT_KIND.version):
        found.append(WAYPOINT_KIND)
    return tuple(found)

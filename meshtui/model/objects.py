"""Immutable model objects: the only shapes the engine and the UI ever see.

Every backend (real cluster, simulated mesh, manifest files) produces these from Kubernetes-style
dicts via :mod:`meshtui.model.convert`, so the three sources cannot drift apart.
Mappings inside frozen objects are plain dicts by convenience; nothing mutates them after creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Mapping

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PROXY_CONTAINER = "istio-proxy"

# Ambient mode (https://istio.io/latest/docs/ambient/usage/add-workloads/): the label enrols a namespace
# or pod, "none" on a pod opts it out; istio-cni sets the annotation once it redirects the pod's traffic
# to ztunnel (https://istio.io/latest/docs/ambient/architecture/traffic-redirection/).
DATAPLANE_LABEL = "istio.io/dataplane-mode"
AMBIENT = "ambient"
REDIRECTION_ANNOTATION = "ambient.istio.io/redirection"
# https://istio.io/latest/docs/ambient/usage/waypoint/: which waypoint serves a namespace, service or pod.
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
WAYPOINT_CLASS = "istio-waypoint"


@dataclass(frozen=True, slots=True)
class Ref:
    """Identifies one API object; used for provenance and findings."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class ContainerPort:
    port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str = ""
    ports: tuple[ContainerPort, ...] = ()
    ready: bool = False
    restarts: int = 0
    # "Always" on an init container makes it a native sidecar (Kubernetes >= 1.28).
    restart_policy: str = ""
    state: str = ""  # Running / Waiting / Terminated
    reason: str = ""  # e.g. ImagePullBackOff, CrashLoopBackOff

    @property
    def image_tag(self) -> str:
        tail = self.image.rsplit("/", 1)[-1]
        if "@" in tail:
            return ""
        return tail.rsplit(":", 1)[1] if ":" in tail else ""


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    created: datetime = EPOCH
    resource_version: str = ""
    phase: str = "Active"

    @property
    def ref(self) -> Ref:
        return Ref("Namespace", "", self.name)

    @property
    def injection(self) -> str:
        """"enabled", "rev:<revision>", "disabled" or "none", as the injector webhooks read the labels.

        The legacy ``istio-injection`` label wins over ``istio.io/rev`` when both are set, as in
        Istio's injector webhook namespace selectors.
        """
        legacy = self.labels.get("istio-injection")
        if legacy == "enabled":
            return "enabled"
        if legacy is not None:
            return "disabled"
        rev = self.labels.get("istio.io/rev")
        if rev:
            return f"rev:{rev}"
        return "none"

    @property
    def ambient(self) -> bool:
        return self.labels.get(DATAPLANE_LABEL) == AMBIENT

    @property
    def dataplane(self) -> str:
        """"ambient", "sidecar" or "none": the data plane new pods of the namespace get.

        The ambient label wins here because it is what the namespace asks for; a pod that still gets
        a sidecar (both labels set) runs the sidecar, which :meth:`Pod.dataplane` reports.
        """
        if self.ambient:
            return AMBIENT
        return "sidecar" if self.injection == "enabled" or self.injection.startswith("rev:") else "none"


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    phase: str = "Running"
    created: datetime = EPOCH
    node: str = ""
    ip: str = ""
    # The node's IP (status.hostIP): traffic from it is the node's own (NodePort, kubelet probes).
    host_ip: str = ""
    service_account: str = "default"
    owner_kind: str = ""
    owner_name: str = ""
    resource_version: str = ""
    deleting: bool = False
    # True for a pod template read from a manifest rather than a running pod.
    template: bool = False
    # hostNetwork pods are never injected and never checked for a missing proxy.
    host_network: bool = False

    @property
    def ref(self) -> Ref:
        return Ref("Pod", self.namespace, self.name)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def proxy(self) -> Container | None:
        """The istio-proxy container: a regular container or a native sidecar init container."""
        for c in self.containers:
            if c.name == PROXY_CONTAINER:
                return c
        for c in self.init_containers:
            if c.name == PROXY_CONTAINER and c.restart_policy == "Always":
                return c
        return None

    @property
    def has_sidecar(self) -> bool:
        return self.proxy is not None

    @property
    def is_ztunnel(self) -> bool:
        """ztunnel's own DaemonSet pods run a container named istio-proxy too: they are not sidecars."""
        return self.labels.get("app") == "ztunnel" and self.proxy is not None and "ztunnel" in self.proxy.image

    @property
    def redirected(self) -> bool:
        return self.annotations.get(REDIRECTION_ANNOTATION) == "enabled"

    def dataplane(self, namespace: Namespace | None) -> str:
        """"sidecar", "ambient" or "none", as Istio decides it for this pod.

        A sidecar wins over ambient (https://istio.io/latest/docs/ambient/migrate/enable-ambient-mode/);
        hostNetwork pods are never captured; the pod label opts in or out whatever the namespace says.
        """
        if self.has_sidecar:
            return "sidecar"
        if self.host_network:
            return "none"
        label = self.labels.get(DATAPLANE_LABEL)
        if label is not None:
            return AMBIENT if label == AMBIENT else "none"
        return AMBIENT if namespace is not None and namespace.ambient else "none"

    @property
    def proxy_version(self) -> str:
        proxy = self.proxy
        return proxy.image_tag if proxy else ""

    @property
    def app_containers(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if c.name != PROXY_CONTAINER)

    @property
    def ports(self) -> tuple[ContainerPort, ...]:
        """Declared container ports of the application containers, deduplicated, in order."""
        seen: dict[int, ContainerPort] = {}
        for c in self.app_containers:
            for p in c.ports:
                seen.setdefault(p.port, p)
        return tuple(seen.values())

    @property
    def ready_count(self) -> tuple[int, int]:
        """(ready, total) as kubectl's READY column counts them, native sidecars included."""
        sidecars = [c for c in self.init_containers if c.restart_policy == "Always"]
        all_c = list(self.containers) + sidecars
        return (sum(1 for c in all_c if c.ready), len(all_c))

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers) + sum(c.restarts for c in self.init_containers)

    @property
    def status(self) -> str:
        """A kubectl-like STATUS: the waiting reason of a container if any, else the phase."""
        if self.deleting:
            return "Terminating"
        for c in (*self.init_containers, *self.containers):
            if c.state == "Waiting" and c.reason:
                return c.reason
        return self.phase

    @property
    def workload_name(self) -> str:
        """The owning Deployment/StatefulSet/... name, derived as kubectl does for ReplicaSets."""
        if self.owner_kind == "ReplicaSet":
            hash_ = self.labels.get("pod-template-hash")
            if hash_ and self.owner_name.endswith("-" + hash_):
                return self.owner_name[: -len(hash_) - 1]
            return self.owner_name.rsplit("-", 1)[0]
        return self.owner_name or self.name


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str
    name: str = ""
    protocol: str = "TCP"
    node_port: int | None = None
    app_protocol: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    type: str = "ClusterIP"
    selector: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ServicePort, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    created: datetime = EPOCH
    resource_version: str = ""

    @property
    def ref(self) -> Ref:
        return Ref("Service", self.namespace, self.name)

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.namespace}.svc.cluster.local"


@dataclass(frozen=True, slots=True)
class Workload:
    """A pod controller (Deployment, StatefulSet, DaemonSet, Job) or a bare Pod from a manifest."""

    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    selector: Mapping[str, str] = field(default_factory=dict)
    template_labels: Mapping[str, str] = field(default_factory=dict)
    template_annotations: Mapping[str, str] = field(default_factory=dict)
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    service_account: str = "default"
    replicas: int = 1
    ready_replicas: int = 0
    updated_replicas: int = 0
    generation: int = 0
    observed_generation: int = 0
    created: datetime = EPOCH
    resource_version: str = ""

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class PeerAuthentication:
    namespace: str
    name: str
    created: datetime = EPOCH
    # None: no selector or an empty one (Istio treats both as namespace-wide).
    selector: Mapping[str, str] | None = None
    mode: str | None = None  # STRICT / PERMISSIVE / DISABLE / UNSET / None (absent)
    port_level: Mapping[int, str | None] = field(default_factory=dict)
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Why the API server would reject it (an invalid enum value): such a policy never takes effect.
    rejected: tuple[str, ...] = ()

    @property
    def ref(self) -> Ref:
        return Ref("PeerAuthentication", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class TLSSettings:
    mode: str = "DISABLE"  # DISABLE / SIMPLE / MUTUAL / ISTIO_MUTUAL
    ca_certificates: str = ""
    credential_name: str = ""
    sni: str = ""


@dataclass(frozen=True, slots=True)
class DestinationRule:
    namespace: str
    name: str
    host: str
    created: datetime = EPOCH
    export_to: tuple[str, ...] = ()
    workload_selector: Mapping[str, str] | None = None
    tls: TLSSettings | None = None
    port_tls: Mapping[int, TLSSettings] = field(default_factory=dict)
    subsets: tuple[str, ...] = ()
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Why the API server would reject it (an invalid tls.mode): such a rule never takes effect.
    rejected: tuple[str, ...] = ()

    @property
    def ref(self) -> Ref:
        return Ref("DestinationRule", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    namespace: str
    name: str
    created: datetime = EPOCH
    selector: Mapping[str, str] | None = None
    action: str = "ALLOW"
    rules: tuple[Mapping[str, Any], ...] = ()
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref("AuthorizationPolicy", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class VirtualService:
    namespace: str
    name: str
    hosts: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    created: datetime = EPOCH
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref("VirtualService", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Sidecar:
    namespace: str
    name: str
    selector: Mapping[str, str] | None = None
    created: datetime = EPOCH
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref("Sidecar", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A Gateway API Gateway of class istio-waypoint: the L7 proxy of an ambient namespace or service."""

    namespace: str
    name: str
    # service (the default), workload, all or none, from the istio.io/waypoint-for label.
    traffic_for: str = "service"
    labels: Mapping[str, str] = field(default_factory=dict)
    created: datetime = EPOCH
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref("Gateway", self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class DeniedRead:
    """A read RBAC refused: ``kind`` objects in ``namespace`` (for kind Namespace: that Namespace)."""

    kind: str
    namespace: str

    def __str__(self) -> str:
        return f"Namespace {self.namespace}" if self.kind == "Namespace" else f"{self.kind}s in {self.namespace}"


@dataclass(frozen=True, slots=True)
class MeshSettings:
    root_namespace: str = "istio-system"
    auto_mtls: bool = True
    istio_version: str = ""
    istio_installed: bool = True
    # Revisions known from injector webhooks / namespace labels; empty when the cluster has none.
    revisions: tuple[str, ...] = ()
    # What could not be read (namespace-scoped RBAC): unknown, not absent.
    denied: tuple[DeniedRead, ...] = ()

    def labels_unknown(self, namespace: str) -> DeniedRead | None:
        """The denied read that hides a namespace's labels (so its injection), if any."""
        return next((d for d in self.denied if d.kind == "Namespace" and d.namespace == namespace), None)

    @property
    def mesh_policies_unknown(self) -> DeniedRead | None:
        """The denied read that hides the mesh-wide PeerAuthentication, if any."""
        return next((d for d in self.denied if d.kind == "PeerAuthentication"
                     and d.namespace == self.root_namespace), None)

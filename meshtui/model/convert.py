"""Kubernetes JSON (as the API server returns it, camelCase) → model objects.

Pure functions over plain dicts: the real backend feeds them raw JSON (never the client's model
classes, which are several times slower to build), the simulated mesh keeps its state as the same
dicts, and `meshtui check -f` feeds parsed YAML.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Callable, Mapping

from meshtui.model.objects import (
    EPOCH,
    WAYPOINT_CLASS,
    WAYPOINT_FOR_LABEL,
    AuthorizationPolicy,
    Container,
    ContainerPort,
    DestinationRule,
    Namespace,
    PeerAuthentication,
    Pod,
    Service,
    ServicePort,
    Sidecar,
    TLSSettings,
    VirtualService,
    Waypoint,
    Workload,
)
from meshtui.model.snapshot import ModelObject

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return EPOCH
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return EPOCH


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _selector(spec: Mapping[str, Any], key: str = "selector") -> dict[str, str] | None:
    """matchLabels of a workload selector; None when absent or empty (Istio: namespace-wide)."""
    sel = spec.get(key)
    if not isinstance(sel, Mapping):
        return None
    labels = _str_map(sel.get("matchLabels"))
    return labels or None


def namespace(obj: Mapping[str, Any]) -> Namespace:
    m = _meta(obj)
    return Namespace(
        name=m.get("name", ""),
        labels=_str_map(m.get("labels")),
        annotations=_str_map(m.get("annotations")),
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
        phase=(obj.get("status") or {}).get("phase") or "Active",
    )


def _ports(c: Mapping[str, Any]) -> tuple[ContainerPort, ...]:
    out = []
    for p in c.get("ports") or ():
        try:
            out.append(ContainerPort(int(p["containerPort"]), p.get("name") or "", p.get("protocol") or "TCP"))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def _containers(specs: Any, statuses: Any) -> tuple[Container, ...]:
    by_name = {s.get("name"): s for s in statuses or () if isinstance(s, Mapping)}
    out = []
    for c in specs or ():
        if not isinstance(c, Mapping):
            continue
        st = by_name.get(c.get("name")) or {}
        state_obj = st.get("state") or {}
        state = next(iter(state_obj), "")
        out.append(
            Container(
                name=str(c.get("name", "")),
                image=str(c.get("image", "")),
                ports=_ports(c),
                ready=bool(st.get("ready", False)),
                restarts=int(st.get("restartCount") or 0),
                restart_policy=str(c.get("restartPolicy") or ""),
                state=state.capitalize(),
                reason=str((state_obj.get(state) or {}).get("reason") or ""),
            )
        )
    return tuple(out)


def pod(obj: Mapping[str, Any], *, template: bool = False) -> Pod:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owner = next(iter(m.get("ownerReferences") or ()), None) or {}
    return Pod(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        labels=_str_map(m.get("labels")),
        annotations=_str_map(m.get("annotations")),
        containers=_containers(spec.get("containers"), status.get("containerStatuses")),
        init_containers=_containers(spec.get("initContainers"), status.get("initContainerStatuses")),
        phase=status.get("phase") or ("Template" if template else "Pending"),
        created=parse_time(m.get("creationTimestamp")),
        node=spec.get("nodeName") or "",
        ip=status.get("podIP") or "",
        host_ip=status.get("hostIP") or "",
        service_account=spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
        owner_kind=owner.get("kind", ""),
        owner_name=owner.get("name", ""),
        resource_version=str(m.get("resourceVersion") or ""),
        deleting=bool(m.get("deletionTimestamp")),
        template=template,
        host_network=bool(spec.get("hostNetwork")),
    )


def service(obj: Mapping[str, Any]) -> Service:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    ports = []
    for p in spec.get("ports") or ():
        try:
            port = int(p["port"])
        except (KeyError, TypeError, ValueError):
            continue
        target = p.get("targetPort", port)
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        ports.append(
            ServicePort(
                port=port,
                target_port=target,
                name=p.get("name") or "",
                protocol=p.get("protocol") or "TCP",
                node_port=p.get("nodePort"),
                app_protocol=p.get("appProtocol") or "",
            )
        )
    return Service(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        type=spec.get("type") or "ClusterIP",
        selector=_str_map(spec.get("selector")),
        ports=tuple(ports),
        labels=_str_map(m.get("labels")),
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
    )


def workload(obj: Mapping[str, Any]) -> Workload:
    m = _meta(obj)
    kind = obj.get("kind", "")
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    tpl = spec.get("template") or {}
    tmeta = tpl.get("metadata") or {}
    tspec = tpl.get("spec") or {}
    if kind == "DaemonSet":
        replicas = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        updated = int(status.get("updatedNumberScheduled") or 0)
    else:
        replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        ready = int(status.get("readyReplicas") or 0)
        updated = int(status.get("updatedReplicas") or 0)
    return Workload(
        kind=kind,
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        labels=_str_map(m.get("labels")),
        selector=_str_map((spec.get("selector") or {}).get("matchLabels")),
        template_labels=_str_map(tmeta.get("labels")),
        template_annotations=_str_map(tmeta.get("annotations")),
        containers=_containers(tspec.get("containers"), ()),
        init_containers=_containers(tspec.get("initContainers"), ()),
        service_account=tspec.get("serviceAccountName") or "default",
        replicas=replicas,
        ready_replicas=ready,
        updated_replicas=updated,
        generation=int(m.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
    )


def _mode(value: Any) -> str | None:
    if isinstance(value, Mapping):
        mode = value.get("mode")
        return str(mode) if mode else None
    return None


def peer_authentication(obj: Mapping[str, Any]) -> PeerAuthentication:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    port_level: dict[int, str | None] = {}
    for port, value in (spec.get("portLevelMtls") or {}).items():
        try:
            port_level[int(port)] = _mode(value)
        except (TypeError, ValueError):
            continue
    return PeerAuthentication(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        created=parse_time(m.get("creationTimestamp")),
        selector=_selector(spec),
        mode=_mode(spec.get("mtls")),
        port_level=port_level,
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


def _tls(value: Any) -> TLSSettings | None:
    if not isinstance(value, Mapping):
        return None
    return TLSSettings(
        mode=str(value.get("mode") or "DISABLE"),
        ca_certificates=str(value.get("caCertificates") or ""),
        credential_name=str(value.get("credentialName") or ""),
        sni=str(value.get("sni") or ""),
    )


def destination_rule(obj: Mapping[str, Any]) -> DestinationRule:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    policy = spec.get("trafficPolicy") or {}
    port_tls: dict[int, TLSSettings] = {}
    for pls in policy.get("portLevelSettings") or ():
        tls = _tls(pls.get("tls"))
        number = (pls.get("port") or {}).get("number")
        if tls is not None and number is not None:
            try:
                port_tls[int(number)] = tls
            except (TypeError, ValueError):
                continue
    return DestinationRule(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        host=str(spec.get("host") or ""),
        created=parse_time(m.get("creationTimestamp")),
        export_to=tuple(str(x) for x in spec.get("exportTo") or ()),
        workload_selector=_selector(spec, "workloadSelector"),
        tls=_tls(policy.get("tls")),
        port_tls=port_tls,
        subsets=tuple(str(s.get("name", "")) for s in spec.get("subsets") or () if isinstance(s, Mapping)),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


def authorization_policy(obj: Mapping[str, Any]) -> AuthorizationPolicy:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    return AuthorizationPolicy(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        created=parse_time(m.get("creationTimestamp")),
        selector=_selector(spec),
        action=str(spec.get("action") or "ALLOW"),
        rules=tuple(r for r in spec.get("rules") or () if isinstance(r, Mapping)),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


def virtual_service(obj: Mapping[str, Any]) -> VirtualService:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    return VirtualService(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        hosts=tuple(str(h) for h in spec.get("hosts") or ()),
        gateways=tuple(str(g) for g in spec.get("gateways") or ()),
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


def sidecar(obj: Mapping[str, Any]) -> Sidecar:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    return Sidecar(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        selector=_selector(spec, "workloadSelector"),
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


GATEWAY_API_GROUP = "gateway.networking.k8s.io"


def waypoint(obj: Mapping[str, Any]) -> Waypoint | None:
    """A Gateway API Gateway of class istio-waypoint; None for any other Gateway (Istio's own
    networking.istio.io Gateway has the same kind)."""
    if not str(obj.get("apiVersion") or "").startswith(GATEWAY_API_GROUP + "/"):
        return None
    spec = obj.get("spec") or {}
    if spec.get("gatewayClassName") != WAYPOINT_CLASS:
        return None
    m = _meta(obj)
    labels = _str_map(m.get("labels"))
    return Waypoint(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        traffic_for=labels.get(WAYPOINT_FOR_LABEL) or "service",
        labels=labels,
        created=parse_time(m.get("creationTimestamp")),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
    )


CONVERTERS: dict[str, Callable[[Mapping[str, Any]], ModelObject]] = {
    "Namespace": namespace,
    "Pod": pod,
    "Service": service,
    "Deployment": workload,
    "StatefulSet": workload,
    "DaemonSet": workload,
    "Job": workload,
    "PeerAuthentication": peer_authentication,
    "DestinationRule": destination_rule,
    "AuthorizationPolicy": authorization_policy,
    "VirtualService": virtual_service,
    "Sidecar": sidecar,
    "Gateway": waypoint,  # type: ignore[dict-item]
}


def from_k8s(obj: Mapping[str, Any], kind: str | None = None) -> ModelObject | None:
    """Convert any supported object; None for kinds meshtui does not model."""
    conv = CONVERTERS.get(kind or obj.get("kind", ""))
    if conv is None:
        return None
    if conv is workload and kind and not obj.get("kind"):
        obj = {**obj, "kind": kind}
    return conv(obj)

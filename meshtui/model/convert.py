"""Kubernetes JSON (as the API server returns it, camelCase) → model objects.

Pure functions over plain dicts: the real backend feeds them raw JSON (never the client's model
classes, which are several times slower to build), the simulated mesh keeps its state as the same
dicts, and `meshtui check -f` feeds parsed YAML.

:func:`from_k8s` is the one validation boundary: every object from outside (files, API lists and
watch events, the journal) passes through it, and a malformed one raises :class:`Malformed` with a
one-line reason instead of whatever a converter would trip over. Callers skip and report it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable

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
# Deeper than any real object (a Pod is ~12 levels); bounds the walk and what the converters recurse into.
MAX_OBJECT_DEPTH = 100


class Malformed(ValueError):
    """An object meshtui cannot take as the kind it claims to be; the message is one line."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A malformed object left out: where it came from ("f.yaml document 3", "Pod ns/x") and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def describe(obj: Any, kind: str | None = None) -> str:
    """"Kind namespace/name" as far as the object says it, for naming a skipped object."""
    if not isinstance(obj, Mapping):
        return kind or "object"
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        meta = {}
    kind = kind or (obj.get("kind") if isinstance(obj.get("kind"), str) else "") or "object"
    name = meta.get("name") if isinstance(meta.get("name"), str) else "?"
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


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


def _shared(value: Any) -> Any:
    """One copy of a text many objects repeat (label keys and values, images, node names, phases):
    a decoded list gives every pod its own copies, ~1 KB a pod. Interned strings are freed with
    their last user, so names that churn do not pile up."""
    return sys.intern(value) if type(value) is str else value


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


_intern = sys.intern


def _str_map(value: Any) -> dict[str, str]:
    # Labels and selectors: on every object, so the common cases (absent; all strings) come first.
    if not value or not isinstance(value, Mapping):
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        out[_intern(k if type(k) is str else str(k))] = _intern(v if type(v) is str else "" if v is None else str(v))
    return out


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
            out.append(ContainerPort(int(p["containerPort"]), _shared(p.get("name") or ""),
                                     _shared(p.get("protocol") or "TCP")))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def _containers(specs: Any, statuses: Any) -> tuple[Container, ...]:
    by_name = {s.get("name"): s for s in statuses if isinstance(s, Mapping)} if statuses else {}
    out = []
    for c in specs or ():
        if not isinstance(c, Mapping):
            continue
        st = by_name.get(c.get("name")) or {}
        state_obj = st.get("state") or {}
        state = next(iter(state_obj), "")
        out.append(
            Container(
                name=sys.intern(str(c.get("name", ""))),
                image=sys.intern(str(c.get("image", ""))),
                ports=_ports(c),
                ready=bool(st.get("ready", False)),
                restarts=int(st.get("restartCount") or 0),
                restart_policy=sys.intern(str(c.get("restartPolicy") or "")),
                state=sys.intern(state.capitalize()),
                reason=sys.intern(str((state_obj.get(state) or {}).get("reason") or "")),
            )
        )
    return tuple(out)


def pod(obj: Mapping[str, Any], *, template: bool = False) -> Pod:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owner = next(iter(m.get("ownerReferences") or ()), None) or {}
    return Pod(
        namespace=_shared(m.get("namespace") or "default"),
        name=m.get("name", ""),
        labels=_str_map(m.get("labels")),
        annotations=_str_map(m.get("annotations")),
        containers=_containers(spec.get("containers"), status.get("containerStatuses")),
        init_containers=_containers(spec.get("initContainers"), status.get("initContainerStatuses")),
        phase=_shared(status.get("phase") or ("Template" if template else "Pending")),
        created=parse_time(m.get("creationTimestamp")),
        node=_shared(spec.get("nodeName") or ""),
        ip=status.get("podIP") or "",
        host_ip=_shared(status.get("hostIP") or ""),
        service_account=_shared(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        owner_kind=_shared(owner.get("kind", "")),
        owner_name=_shared(owner.get("name", "")),
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


# The enums of Istio's CRDs (crd-all.gen.yaml): the API server rejects any other value.
PA_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")


def _enum(value: Any, allowed: tuple[str, ...], where: str, rejected: list[str]) -> str | None:
    """The value if it is one of ``allowed``; otherwise None, and why the API server rejects it."""
    if value is None:
        return None
    if value in allowed:
        return str(value)
    shown = repr(value)[:40]
    rejected.append(f"{where}: Unsupported value: {shown}: supported values: {', '.join(allowed)}")
    return None


def _mode(value: Any, where: str, rejected: list[str]) -> str | None:
    if isinstance(value, Mapping):
        return _enum(value.get("mode"), PA_MODES, f"{where}.mode", rejected)
    return None


def peer_authentication(obj: Mapping[str, Any]) -> PeerAuthentication:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    rejected: list[str] = []
    port_level: dict[int, str | None] = {}
    for port, value in (spec.get("portLevelMtls") or {}).items():
        try:
            port_level[int(port)] = _mode(value, f"spec.portLevelMtls[{port}]", rejected)
        except (TypeError, ValueError):
            continue
    return PeerAuthentication(
        namespace=m.get("namespace") or "default",
        name=m.get("name", ""),
        created=parse_time(m.get("creationTimestamp")),
        selector=_selector(spec),
        mode=_mode(spec.get("mtls"), "spec.mtls", rejected),
        port_level=port_level,
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
        rejected=tuple(rejected),
    )


def _tls(value: Any, where: str, rejected: list[str]) -> TLSSettings | None:
    if not isinstance(value, Mapping):
        return None
    mode = _enum(value.get("mode"), TLS_MODES, f"{where}.mode", rejected)
    if value.get("mode") is not None and mode is None:
        return None
    return TLSSettings(
        mode=mode or "DISABLE",
        ca_certificates=str(value.get("caCertificates") or ""),
        credential_name=str(value.get("credentialName") or ""),
        sni=str(value.get("sni") or ""),
    )


def destination_rule(obj: Mapping[str, Any]) -> DestinationRule:
    m = _meta(obj)
    spec = obj.get("spec") or {}
    policy = spec.get("trafficPolicy") or {}
    rejected: list[str] = []
    port_tls: dict[int, TLSSettings] = {}
    for i, pls in enumerate(policy.get("portLevelSettings") or ()):
        tls = _tls(pls.get("tls"), f"spec.trafficPolicy.portLevelSettings[{i}].tls", rejected)
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
        tls=_tls(policy.get("tls"), "spec.trafficPolicy.tls", rejected),
        port_tls=port_tls,
        subsets=tuple(str(s.get("name", "")) for s in spec.get("subsets") or () if isinstance(s, Mapping)),
        resource_version=str(m.get("resourceVersion") or ""),
        raw=obj,
        rejected=tuple(rejected),
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


_KEEP_RAW = (peer_authentication, destination_rule, authorization_policy, virtual_service, sidecar)

CONVERTERS: dict[str, Callable[[Mapping[str, Any]], ModelObject]] = {
    "Namespace": namespace,
    "Pod": pod,
    "Service": service,
    "Deployment": workload,
    "StatefulSet": workload,
    "DaemonSet": workload,
    "ReplicaSet": workload,
    "Job": workload,
    "CronJob": workload,  # its template one level deeper: manifests.py flattens it first
    "PeerAuthentication": peer_authentication,
    "DestinationRule": destination_rule,
    "AuthorizationPolicy": authorization_policy,
    "VirtualService": virtual_service,
    "Sidecar": sidecar,
    "Gateway": waypoint,  # type: ignore[dict-item]
}


# As constants: `isinstance(v, dict | list | tuple)` builds the union anew at every call.
_NESTED = (dict, list, tuple)
_is_str = str.__instancecheck__


def check_value(obj: Any) -> None:
    """Depth bound and text that can be shown: a lone surrogate (JSON "\\ud800") cannot be encoded.

    Level by level, with the strings of a level checked joined: per-item Python work is kept to
    one isinstance (keys are filtered in C). Raises Malformed."""
    level: list[Any] = [obj]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_OBJECT_DEPTH:
            raise Malformed(f"nested deeper than {MAX_OBJECT_DEPTH} levels")
        texts: list[str] = []
        deeper: list[Any] = []
        for container in level:
            if isinstance(container, dict):
                texts += filter(_is_str, container)
                values: Any = container.values()
            else:
                values = container
            for v in values:
                if isinstance(v, str):
                    texts.append(v)
                elif isinstance(v, _NESTED):
                    deeper.append(v)
        joined = "".join(texts)
        if not joined.isascii():
            try:
                joined.encode("utf-8")
            except UnicodeEncodeError:
                raise Malformed("contains text that is not valid Unicode (a lone surrogate)") from None
        level = deeper


def _check_string_map(meta: Mapping[str, Any], field: str) -> None:
    value = meta.get(field)
    if value is None:
        return
    if not isinstance(value, dict):
        raise Malformed(f"metadata.{field} is {type(value).__name__}, not a map of strings")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise Malformed(f"metadata.{field}.{k} is {type(v).__name__}, not a string (quote it)")


_TEXT_OR_TIME = (str, datetime)


def _check_metadata(obj: Mapping[str, Any]) -> None:
    """What the API server would reject in metadata, and what every converter relies on."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise Malformed("metadata is missing or not a map")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise Malformed("metadata.name must be a non-empty string")
    for field in ("namespace", "resourceVersion", "creationTimestamp"):
        value = meta.get(field)
        if value is not None and not isinstance(value, _TEXT_OR_TIME):
            raise Malformed(f"metadata.{field} is {type(value).__name__}, not a string")
    stamp = meta.get("creationTimestamp")
    if isinstance(stamp, str) and stamp and parse_time(stamp) is EPOCH:
        raise Malformed(f"metadata.creationTimestamp {stamp[:40]!r} is not a timestamp")
    _check_string_map(meta, "labels")
    _check_string_map(meta, "annotations")
    owners = meta.get("ownerReferences")
    if owners is not None and not (isinstance(owners, list) and all(isinstance(o, dict) for o in owners)):
        raise Malformed("metadata.ownerReferences is not a list of objects")
    for section in ("spec", "status"):
        if obj.get(section) is not None and not isinstance(obj.get(section), dict):
            raise Malformed(f"{section} is {type(obj.get(section)).__name__}, not a map")


def from_k8s(obj: Any, kind: str | None = None, *, template: bool = False) -> ModelObject | None:
    """Convert any supported object; None for kinds meshtui does not model; Malformed if unusable.

    ``template``: a Pod from a manifest (not running; phase "Template" unless it says otherwise).
    """
    # JSON and YAML give dicts; isinstance(dict) is several times cheaper than typing.Mapping's check.
    if not isinstance(obj, dict):
        raise Malformed(f"is {type(obj).__name__}, not an object")
    kind = kind or obj.get("kind") or ""
    if not isinstance(kind, str):
        raise Malformed(f"kind is {type(kind).__name__}, not a string")
    conv = CONVERTERS.get(kind)
    if conv is None:
        return None
    _check_metadata(obj)
    # Policies keep their raw body (YAML view, diffs): all of it must be showable. Other kinds keep
    # only what the converter reads, and walking every field of 5,000 pods would triple list time.
    meta = obj["metadata"]
    check_value(obj if conv in _KEEP_RAW else [meta.get("name"), meta.get("namespace"), meta.get("labels"),
                                                 meta.get("annotations")])
    if conv is workload and not obj.get("kind"):
        obj = {**obj, "kind": kind}
    try:
        return pod(obj, template=True) if template and conv is pod else conv(obj)
    except (AttributeError, TypeError, ValueError, KeyError, OverflowError) as exc:
        # A field of the wrong type deeper in spec/status: the converter's complaint is the reason.
        raise Malformed(f"unexpected field value ({type(exc).__name__}: {exc})") from None

"""Ambient mode: which pods ztunnel captures, what it enforces, which waypoint serves them, and the
findings only ambient has. Pure: model objects in, answers out.

Istio's documentation is the reference for every rule here:
- enrolment: https://istio.io/latest/docs/ambient/usage/add-workloads/ (namespace or pod label
  ``istio.io/dataplane-mode=ambient``, ``none`` on a pod opts it out);
- redirection: https://istio.io/latest/docs/ambient/architecture/traffic-redirection/ (istio-cni sets
  ``ambient.istio.io/redirection: enabled`` once the pod's traffic goes through ztunnel);
- PeerAuthentication: https://istio.io/latest/docs/reference/config/security/peer_authentication/
  ("In ambient mode ... DISABLE mode is not supported"); istiod turns the effective STRICT policy into a
  ztunnel DENY rule for unauthenticated traffic, port-level entries included, and nothing else
  (istio/istio architecture/ambient/peer-authentication.md), so DISABLE leaves the pod accepting both;
- waypoints: https://istio.io/latest/docs/ambient/usage/waypoint/ (``istio.io/use-waypoint`` on a
  namespace, service or pod; ``istio.io/use-waypoint-namespace`` for a waypoint elsewhere; the value
  ``none`` opts out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Mapping

from meshtui.model.objects import (
    AMBIENT,
    REDIRECTION_ANNOTATION,
    USE_WAYPOINT_LABEL,
    USE_WAYPOINT_NAMESPACE_LABEL,
    Namespace,
    Pod,
    Service,
    Waypoint,
)
from meshtui.model.snapshot import Snapshot
from meshtui.policy.labels import matches
from meshtui.policy.report import DISABLE, PERMISSIVE, Finding, Source

if TYPE_CHECKING:
    from meshtui.policy.engine import Analysis

# The pod label Gateway API deployments put on a waypoint's pods.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def namespace_of(snapshot: Snapshot, pod: Pod) -> Namespace | None:
    return snapshot.namespaces.get(("", pod.namespace))


def pod_dataplane(snapshot: Snapshot, pod: Pod) -> str:
    """"sidecar", "ambient" or "none" for a pod, as Istio decides it."""
    return pod.dataplane(namespace_of(snapshot, pod))


def captured(pod: Pod, dataplane: str) -> bool:
    """ztunnel handles the pod's traffic: enrolled and redirection active. A pod template from a
    manifest has no annotation yet; istio-cni sets it when the pod starts, so it counts as captured."""
    return dataplane == AMBIENT and (pod.redirected or pod.template)


def ztunnel_mode(mode: str) -> str:
    """The mode ztunnel enforces for a PeerAuthentication mode: DISABLE is not supported and has the
    effect of PERMISSIVE (only STRICT becomes a rule in ztunnel)."""
    return PERMISSIVE if mode == DISABLE else mode


# --- ztunnel and waypoints ---------------------------------------------------------------------

def ztunnel_for(snapshot: Snapshot, pod: Pod) -> Pod | None:
    """The ztunnel pod on the pod's node (ztunnel is a DaemonSet: one per node)."""
    if not pod.node:
        return None
    for candidate in snapshot.pods.values():
        if candidate.is_ztunnel and candidate.node == pod.node and not candidate.deleting:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class WaypointUse:
    waypoint: Waypoint | None
    # "namespace", "service <name>" or "pod": where the istio.io/use-waypoint label was found.
    via: str
    # The label's value when it names a waypoint that does not exist.
    missing: str = ""


def _labelled(snapshot: Snapshot, labels: Mapping[str, str], namespace: str, via: str) -> WaypointUse | None:
    name = labels.get(USE_WAYPOINT_LABEL)
    if not name:
        return None
    if name == "none":
        return WaypointUse(None, via)
    ns = labels.get(USE_WAYPOINT_NAMESPACE_LABEL) or namespace
    found = snapshot.waypoints.get((ns, name))
    return WaypointUse(found, via, "" if found else f"{ns}/{name}")


def waypoint_for_service(snapshot: Snapshot, service: Service) -> WaypointUse | None:
    """The waypoint traffic addressed to the Service goes through: the Service's label, else the
    namespace's."""
    own = _labelled(snapshot, service.labels, service.namespace, f"service {service.name}")
    if own is not None:
        return own
    ns = snapshot.namespaces.get(("", service.namespace))
    return _labelled(snapshot, ns.labels, service.namespace, "namespace") if ns else None


def waypoints_for_pod(snapshot: Snapshot, pod: Pod) -> list[WaypointUse]:
    """Waypoints on the pod's traffic: its own label (workload-addressed traffic), the labels of the
    Services selecting it, else the namespace's. Waypoints that explicitly opt out are left out."""
    out: list[WaypointUse] = []
    own = _labelled(snapshot, pod.labels, pod.namespace, "pod")
    if own is not None:
        out.append(own)
    for svc in sorted(snapshot.services.values(), key=lambda s: s.name):
        if svc.namespace == pod.namespace and svc.selector and matches(svc.selector, pod.labels):
            use = waypoint_for_service(snapshot, svc)
            if use is not None and all(use.waypoint != u.waypoint or use.missing != u.missing for u in out):
                out.append(use)
    if not out:
        ns = namespace_of(snapshot, pod)
        use = _labelled(snapshot, ns.labels, pod.namespace, "namespace") if ns else None
        if use is not None:
            out.append(use)
    return [u for u in out if u.waypoint is not None or u.missing]


def waypoints_serving_namespace(snapshot: Snapshot, namespace: str) -> list[WaypointUse]:
    """Every waypoint that serves something in the namespace, once each, and the waypoints it holds."""
    uses: list[WaypointUse] = []
    ns = snapshot.namespaces.get(("", namespace))
    if ns is not None:
        use = _labelled(snapshot, ns.labels, namespace, "namespace")
        if use is not None:
            uses.append(use)
    for svc in sorted(snapshot.services.values(), key=lambda s: s.name):
        if svc.namespace == namespace:
            use = _labelled(snapshot, svc.labels, namespace, f"service {svc.name}")
            if use is not None:
                uses.append(use)
    for pod in snapshot.pods_in(namespace):
        use = _labelled(snapshot, pod.labels, namespace, f"pod {pod.name}")
        if use is not None:
            uses.append(use)
    used = {u.waypoint.ref for u in uses if u.waypoint is not None}
    for wp in sorted(snapshot.waypoints.values(), key=lambda w: w.name):
        if wp.namespace == namespace and wp.ref not in used:
            uses.append(WaypointUse(wp, "nothing (no istio.io/use-waypoint label names it)"))
    return [u for u in uses if u.waypoint is not None or u.missing]


def waypoint_pods(snapshot: Snapshot, waypoint: Waypoint) -> list[Pod]:
    return [p for p in snapshot.pods_in(waypoint.namespace)
            if p.labels.get(GATEWAY_NAME_LABEL) == waypoint.name and not p.deleting]


def asked(snapshot: Snapshot, source: Source, port: int | None) -> str | None:
    """The mode the deciding PeerAuthentication asks for (before ztunnel's reading of it)."""
    pa = snapshot.peer_authentications.get((source.namespace, source.name)) if source.kind else None
    if pa is None:
        return None
    if source.level == "port" and port is not None:
        return pa.port_level.get(port)
    return pa.mode


def log_sources(snapshot: Snapshot, pod: Pod) -> tuple[Pod | None, list[Pod]]:
    """Where a captured pod's traffic is logged: the ztunnel on its node, and the pods of the
    waypoints that serve it (their Envoy access log)."""
    waypoints = {u.waypoint.ref: u.waypoint for u in waypoints_for_pod(snapshot, pod) if u.waypoint is not None}
    pods = [p for wp in waypoints.values() for p in waypoint_pods(snapshot, wp)]
    return ztunnel_for(snapshot, pod), pods


# --- findings: MT0021, MT0022, MT0023 ------------------------------------------------------------

def ambient_findings(analysis: Analysis) -> Iterator[Finding]:
    snapshot = analysis.snapshot
    disabled: dict[tuple[str, str], list[str]] = {}
    pending: list[Pod] = []
    for pod in sorted(snapshot.pods.values(), key=lambda p: p.key):
        pm = analysis.pod(pod)
        if pm.dataplane != AMBIENT:
            continue
        if not pm.captured:
            if pod.phase == "Running" and not pod.deleting:
                pending.append(pod)
            continue
        for port in pm.ports:
            if asked(snapshot, port.source, port.port) == DISABLE:
                key = (port.source.namespace, port.source.name)
                disabled.setdefault(key, []).append(f"{pod.name}:{port.port}")
        if not pm.ports and asked(snapshot, pm.source, None) == DISABLE:
            disabled.setdefault((pm.source.namespace, pm.source.name), []).append(pod.name)
    for (ns, name), where in sorted(disabled.items()):
        more = f" (+{len(where) - 1} more)" if len(where) > 1 else ""
        yield Finding(
            "MT0021", "warning", "PeerAuthentication", ns, name,
            f"DISABLE is not supported in ambient mode: ztunnel still accepts mTLS and plaintext on "
            f"{where[0]}{more}, as with PERMISSIVE.",
            f"# set PERMISSIVE (same effect, says what happens) or STRICT:\n"
            f"kubectl edit peerauthentication {name} -n {ns}",
        )
    for pod in pending:
        yield Finding(
            "MT0022", "warning", "Pod", pod.namespace, pod.name,
            "The pod is enrolled in ambient mode but istio-cni has not redirected its traffic "
            f"(no {REDIRECTION_ANNOTATION}: enabled annotation): ztunnel does not see it and no policy applies.",
            f"kubectl -n istio-system logs -l k8s-app=istio-cni-node --tail=50 | grep {pod.name}",
        )
    # One pass over what can carry the label (a check per namespace would walk every pod each time).
    carriers = [(ns.name, "namespace", ns.labels) for ns in snapshot.namespaces.values()
                if USE_WAYPOINT_LABEL in ns.labels]
    carriers += [(s.namespace, f"service {s.name}", s.labels) for s in snapshot.services.values()
                 if USE_WAYPOINT_LABEL in s.labels]
    carriers += [(p.namespace, f"pod {p.name}", p.labels) for p in snapshot.pods.values()
                 if USE_WAYPOINT_LABEL in p.labels]
    missing = []
    for ns_name, via, labels in carriers:
        use = _labelled(snapshot, labels, ns_name, via)
        if use is not None and use.missing:
            missing.append((ns_name, use))
    for ns_name, use in sorted(missing, key=lambda item: (item[0], item[1].via)):
        ns_wp, _, name = use.missing.partition("/")
        yield Finding(
            "MT0023", "warning", "Namespace", "", ns_name,
            f"The {use.via} of {ns_name} uses waypoint {use.missing}, which does not exist: "
            "its traffic is not processed by any waypoint.",
            f"istioctl waypoint apply -n {ns_wp} --name {name}",
        )

"""The mTLS engine: the server-side mode Istio enforces on every pod and port, with its source.

Mirrors istiod's ``ComposePeerAuthentication``: one PeerAuthentication is chosen per level (mesh =
namespace-wide policy in the root namespace, namespace, workload = selector policy), each the oldest
by creationTimestamp, ties broken by name then namespace (istiod sorts configs that way before
choosing). An UNSET or absent mode inherits from the level above; port-level modes come only from the
chosen workload policy, and a port-level UNSET inherits the workload's mode. Nothing at all means
PERMISSIVE.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Mapping

from meshtui.model.objects import DestinationRule, PeerAuthentication, Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import captured, pod_dataplane, ztunnel_mode
from meshtui.policy.labels import SelectorIndex
from meshtui.policy.recent import Recent
from meshtui.policy.report import DEFAULT_SOURCE, NONE, PERMISSIVE, UNSET, PodMtls, PortMtls, Source
from meshtui.policy.services import ServiceIndex, target_port


def pa_order(pa: PeerAuthentication) -> tuple[datetime, str, str]:
    return (pa.created, pa.name, pa.namespace)


def decides(mode: str | None) -> bool:
    return mode is not None and mode != UNSET


def source_of(pa: PeerAuthentication, level: str) -> Source:
    return Source("PeerAuthentication", pa.namespace, pa.name, level)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The policies chosen at each level for one pod, and the workload-level result."""

    mesh: PeerAuthentication | None
    namespace: PeerAuthentication | None
    workload: PeerAuthentication | None
    mode: str
    source: Source

    def port(self, port: int) -> PortMtls:
        if self.workload is not None and port in self.workload.port_level:
            mode = self.workload.port_level[port]
            if decides(mode):
                return PortMtls(port, str(mode), source_of(self.workload, "port"))
        return PortMtls(port, self.mode, self.source)


class PolicyIndex:
    """PeerAuthentications sorted into levels once per snapshot."""

    def __init__(self, snapshot: Snapshot):
        self.root = snapshot.mesh.root_namespace
        self.mesh_unknown = snapshot.mesh.mesh_policies_unknown
        namespace_wide: dict[str, list[PeerAuthentication]] = defaultdict(list)
        selected: list[PeerAuthentication] = []
        for pa in snapshot.peer_authentications.values():
            if not pa.selector:
                namespace_wide[pa.namespace].append(pa)
            elif pa.namespace != self.root:
                # A selector policy in the root namespace is ignored by istiod.
                selected.append(pa)
        self.namespace_wide = {ns: sorted(pas, key=pa_order) for ns, pas in namespace_wide.items()}
        self.mesh_wide = self.namespace_wide.get(self.root, [])
        self._workload = SelectorIndex(selected, lambda pa: pa.namespace, lambda pa: pa.selector or {})
        self._ns_cache: dict[str, Resolution] = {}

    def workload_candidates(self, pod: Pod) -> list[PeerAuthentication]:
        return sorted(self._workload.selecting(pod.namespace, pod.labels), key=pa_order)

    def namespace_level(self, namespace: str) -> Resolution:
        """The mode a pod in the namespace gets before any workload policy."""
        cached = self._ns_cache.get(namespace)
        if cached is not None:
            return cached
        mesh = self.mesh_wide[0] if self.mesh_wide else None
        ns_pas = self.namespace_wide.get(namespace, []) if namespace != self.root else []
        ns_pa = ns_pas[0] if ns_pas else None
        mode, source = PERMISSIVE, DEFAULT_SOURCE
        if mesh is not None and decides(mesh.mode):
            mode, source = str(mesh.mode), source_of(mesh, "mesh")
        if ns_pa is not None and decides(ns_pa.mode):
            mode, source = str(ns_pa.mode), source_of(ns_pa, "namespace")
        res = self._ns_cache[namespace] = Resolution(mesh, ns_pa, None, mode, source)
        return res

    def resolve(self, pod: Pod) -> Resolution:
        base = self.namespace_level(pod.namespace)
        candidates = self._workload.selecting(pod.namespace, pod.labels)
        if not candidates:
            return base
        workload = min(candidates, key=pa_order)
        if decides(workload.mode):
            return Resolution(base.mesh, base.namespace, workload, str(workload.mode),
                              source_of(workload, "workload"))
        return Resolution(base.mesh, base.namespace, workload, base.mode, base.source)


def pod_ports(pod: Pod, services: ServiceIndex) -> list[int]:
    """Declared container ports plus container ports that selecting Services target."""
    ports = {p.port for p in pod.ports}
    for svc in services.services_of(pod):
        for sp in svc.ports:
            tp = target_port(sp, pod)
            if tp is not None:
                ports.add(tp)
    return sorted(ports)


def pod_mtls(pod: Pod, policies: PolicyIndex, services: ServiceIndex, dataplane: str = "sidecar") -> PodMtls:
    ports = pod_ports(pod, services)
    in_ztunnel = captured(pod, dataplane)
    if not pod.has_sidecar and not in_ztunnel:
        none = tuple(PortMtls(p, NONE, DEFAULT_SOURCE) for p in ports)
        return PodMtls(pod, False, NONE, DEFAULT_SOURCE, none, dataplane)
    res = policies.resolve(pod)
    guess = policies.mesh_unknown is not None and res.source.level in ("mesh", "default")
    if in_ztunnel:
        # ztunnel enforces the same precedence as a sidecar, but cannot DISABLE (meshtui.policy.ambient).
        return PodMtls(pod, False, ztunnel_mode(res.mode), res.source,
                       tuple(ambient_port(res.port(p)) for p in ports), dataplane, True, provisional=guess)
    return PodMtls(pod, True, res.mode, res.source, tuple(res.port(p) for p in ports), dataplane,
                   provisional=guess)


def ambient_port(port: PortMtls) -> PortMtls:
    mode = ztunnel_mode(port.mode)
    return port if mode == port.mode else PortMtls(port.port, mode, port.source)


class Analysis:
    """Everything derived from one snapshot; shared by predict, explain, impact and the findings.

    ``known`` seeds the per-pod results with ones computed earlier for the same pod objects under the
    same policies (incremental evaluation): a result is reused only while its pod object is unchanged.
    """

    def __init__(self, snapshot: Snapshot, known: Mapping[tuple[str, str], PodMtls] | None = None):
        # A policy the API server would reject never takes effect: it is left out of the analysis
        # (and reported as MT0012) rather than read as if its invalid mode were a mode.
        policies: list[PeerAuthentication | DestinationRule] = [
            *snapshot.peer_authentications.values(), *snapshot.destination_rules.values()]
        self.rejected: tuple[PeerAuthentication | DestinationRule, ...] = tuple(o for o in policies if o.rejected)
        if self.rejected:
            snapshot = replace(
                snapshot,
                peer_authentications={k: v for k, v in snapshot.peer_authentications.items() if not v.rejected},
                destination_rules={k: v for k, v in snapshot.destination_rules.items() if not v.rejected},
            )
        self.snapshot = snapshot
        self.policies = PolicyIndex(snapshot)
        self._pods: dict[tuple[str, str], PodMtls] = dict(known or {})

    @cached_property
    def services(self) -> ServiceIndex:
        # Built on first use: indexing every pod's labels is the costliest part of a large analysis.
        return ServiceIndex(self.snapshot)

    def pod(self, pod: Pod) -> PodMtls:
        cached = self._pods.get(pod.key)
        if cached is not None and cached.pod is pod:
            return cached
        result = pod_mtls(pod, self.policies, self.services, pod_dataplane(self.snapshot, pod))
        if self.snapshot.pods.get(pod.key) is pod:
            self._pods[pod.key] = result
        return result

    def port(self, pod: Pod, port: int) -> PortMtls:
        found = self.pod(pod).port(port)
        if found is not None:
            return found
        # A port nothing declares still gets the policy Istio would apply if traffic arrived on it.
        pm = self.pod(pod)
        if not pm.in_mesh:
            return PortMtls(port, NONE, DEFAULT_SOURCE)
        found = self.policies.resolve(pod).port(port)
        return ambient_port(found) if pm.captured else found


_analyses: Recent[Snapshot, Analysis] = Recent()


def analyze(snapshot: Snapshot) -> Analysis:
    """The analysis of a snapshot, shared by every caller asking about the same snapshot object."""
    return _analyses.get(snapshot, Analysis)


def port_mode(snapshot: Snapshot, pod: Pod, port: int) -> PortMtls:
    """The effective mode of one container port of one pod."""
    return analyze(snapshot).port(pod, port)

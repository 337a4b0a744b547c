"""The migration's ordered steps, each an ordinary change plan (diff, impact, server dry run).

Order: port exceptions first (so no STRICT step ever locks out a client that needs one), then
STRICT per namespace with clients' namespaces before their servers' when both are in scope, then
mesh-wide STRICT when the scope is the mesh. Steps already in effect plan nothing and are left out,
so planning again after some steps were applied yields exactly the steps that remain.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Literal, Sequence

from meshtui.change.plan import ChangePlan, MtlsScope, PlanError, mtls_plan
from meshtui.migrate.scope import PortException, Scope
from meshtui.model.objects import Pod, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.clients import fqdn
from meshtui.policy.engine import analyze

StepKind = Literal["exception", "namespace", "mesh"]
Edge = tuple[str, str]  # (client namespace, server namespace)


@dataclass(frozen=True)
class Step:
    n: int
    kind: StepKind
    plan: ChangePlan
    affects: tuple[str, ...]
    namespace: str = ""
    exception: PortException | None = None

    @property
    def title(self) -> str:
        return self.plan.title


def find_workload(snapshot: Snapshot, namespace: str, name: str, kind: str = "") -> Workload | None:
    for k in (kind,) if kind else ("Deployment", "StatefulSet", "DaemonSet"):
        workload = snapshot.workloads.get((namespace, f"{k}/{name}"))
        if workload is not None:
            return workload
    return None


def _principal_namespace(principal: str) -> str | None:
    # SPIFFE-style principals read "<trust domain>/ns/<namespace>/sa/<account>".
    parts = principal.split("/")
    return parts[parts.index("ns") + 1] if "ns" in parts[:-1] else None


def host_namespace(pattern: str) -> str | None:
    """The namespace a DestinationRule/VirtualService host names ("svc.ns.svc.cluster.local" or
    "*.ns.svc.cluster.local"); None for hosts that name no one namespace ("*", "*.cluster.local",
    external hosts)."""
    parts = pattern.split(".")
    return parts[1] if len(parts) >= 3 and parts[2] == "svc" and parts[1] != "*" else None


def policy_edges(snapshot: Snapshot) -> set[Edge]:
    """Who calls whom, as far as the configuration says: AuthorizationPolicies naming a caller's
    namespace or principal, and DestinationRules/VirtualServices for hosts in another namespace."""
    edges: set[Edge] = set()
    for policy in snapshot.authorization_policies.values():
        for rule in policy.rules:
            for entry in rule.get("from") or ():
                source = entry.get("source") if isinstance(entry, dict) else None
                if not isinstance(source, dict):
                    continue
                callers = [str(n) for n in source.get("namespaces") or ()]
                callers += [ns for p in source.get("principals") or () if (ns := _principal_namespace(str(p)))]
                edges.update((c, policy.namespace) for c in callers if c != policy.namespace and "*" not in c)
    hosts = [(r.namespace, fqdn(r.host, r.namespace)) for r in snapshot.destination_rules.values()]
    hosts += [(v.namespace, fqdn(h, v.namespace)) for v in snapshot.virtual_services.values() for h in v.hosts]
    for client_ns, pattern in hosts:
        server_ns = host_namespace(pattern)
        if server_ns is not None and server_ns != client_ns:
            edges.add((client_ns, server_ns))
    return edges


def namespace_order(namespaces: Iterable[str], edges: Iterable[Edge]) -> list[str]:
    """Clients before servers (a topological order, ties by name); a cycle is cut at its first name."""
    members = sorted(set(namespaces))
    inside = {(a, b) for a, b in edges if a in members and b in members and a != b}
    waiting = {ns: {a for a, b in inside if b == ns} for ns in members}
    out: list[str] = []
    ready = [ns for ns in members if not waiting[ns]]
    heapq.heapify(ready)
    while len(out) < len(members):
        if not ready:
            ready = [min(ns for ns in members if ns not in out)]
        ns = heapq.heappop(ready)
        if ns in out:
            continue
        out.append(ns)
        for other in members:
            if other not in out and ns in waiting[other]:
                waiting[other].discard(ns)
                if not waiting[other]:
                    heapq.heappush(ready, other)
    return out


def port_changes(plan: ChangePlan) -> list[tuple[Pod, int, str, str]]:
    """(pod, port, old mode, new mode) for every port whose mode the plan changes. Only the
    namespaces the plan touches are evaluated, unless it touches the root namespace (the mesh)."""
    root = plan.before.mesh.root_namespace
    touched = {c.namespace for c in plan.changes}
    before, after = analyze(plan.before), analyze(plan.predicted)
    pods = plan.predicted.pods.values() if root in touched else \
        [p for ns in sorted(touched) for p in plan.predicted.pods_in(ns)]
    out = []
    for pod in pods:
        old_pod = plan.before.pods.get(pod.key)
        if old_pod is None:
            continue
        old = {p.port: p.mode for p in before.pod(old_pod).ports}
        out += [(pod, p.port, old[p.port], p.mode) for p in after.pod(pod).ports
                if p.port in old and old[p.port] != p.mode]
    return out


def _affects(plan: ChangePlan) -> tuple[str, ...]:
    return tuple(sorted({f"{pod.namespace}/{pod.workload_name}:{port}" for pod, port, _, _ in port_changes(plan)}))


def exception_plan(snapshot: Snapshot, exception: PortException, *, now: datetime | None = None) -> ChangePlan:
    workload = find_workload(snapshot, exception.namespace, exception.workload, exception.kind)
    if workload is None:
        raise PlanError(f"no workload {exception.label} for a port exception")
    return mtls_plan(snapshot, MtlsScope.of_port(workload, exception.port), "PERMISSIVE", now=now)


def build_steps(snapshot: Snapshot, scope: Scope, exceptions: Sequence[PortException] = (),
                edges: Iterable[Edge] = (), *, now: datetime | None = None) -> list[Step]:
    """Every step still to do, each planned against the state the steps before it leave."""
    members = set(scope.members(snapshot))
    raw: list[tuple[StepKind, str, PortException | None, ChangePlan]] = []
    current = snapshot
    for exc in sorted(set(exceptions)):
        if exc.namespace not in members:
            continue
        plan = exception_plan(current, exc, now=now)
        if not plan.empty:
            raw.append(("exception", exc.namespace, exc, plan))
            current = plan.predicted
    all_edges = set(edges) | policy_edges(snapshot)
    for ns in namespace_order(members, all_edges):
        if scope.mesh and not any(p.has_sidecar for p in current.pods_in(ns)):
            continue  # nothing to enforce there; the mesh-wide step covers the namespace
        plan = mtls_plan(current, MtlsScope.of_namespace(ns), "STRICT", now=now)
        if not plan.empty:
            raw.append(("namespace", ns, None, plan))
            current = plan.predicted
    if scope.mesh:
        plan = mtls_plan(current, MtlsScope.mesh(), "STRICT", now=now)
        if not plan.empty:
            raw.append(("mesh", snapshot.mesh.root_namespace, None, plan))
    # An exception changes no mode when it is applied; what it affects is the port it keeps open.
    return [Step(i, kind, plan, (exc.label,) if exc else _affects(plan), ns, exc)
            for i, (kind, ns, exc, plan) in enumerate(raw, start=1)]


def target(snapshot: Snapshot, steps: Sequence[Step]) -> Snapshot:
    """The snapshot once every step is applied."""
    return steps[-1].plan.predicted if steps else snapshot

"""Preflight: what stands between the scope and STRICT, each with a fix where meshtui has one.

Pure: a snapshot, the scope, the accepted port exceptions and the plaintext callers seen in the
traffic in; blockers and warnings out. Ports "that become STRICT" are read from the snapshot the
plan leaves behind (:func:`meshtui.migrate.plan.target`), so an accepted exception clears the
blockers it answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from meshtui.migrate.observe import PlaintextCaller
from meshtui.migrate.plan import Step, build_steps, host_namespace, target
from meshtui.migrate.scope import PortException, Scope
from meshtui.model.objects import DestinationRule, Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.clients import fqdn
from meshtui.policy.engine import analyze
from meshtui.policy.findings import (
    _identity_fields,
    destination_rule_mtls_findings,
    is_gateway,
    restart_fix,
    workload_of,
)
from meshtui.policy.injection import LEGACY_LABEL, SYSTEM_NAMESPACES, inject_value, would_inject
from meshtui.policy.report import STRICT, Finding
from meshtui.policy.services import target_port

ActionType = Literal["restart", "inject", "exception"]


@dataclass(frozen=True, slots=True)
class Action:
    """A fix meshtui can apply: restart workloads, enable injection (then restart), or keep a port
    PERMISSIVE for a client."""

    type: ActionType
    namespace: str
    workloads: tuple[str, ...] = ()  # "Kind/name"
    exception: PortException | None = None

    def describe(self) -> str:
        if self.type == "exception" and self.exception is not None:
            return f"keep port {self.exception.port} of {self.exception.namespace}/{self.exception.workload} " \
                   f"PERMISSIVE for {self.exception.client}"
        if self.type == "inject":
            return f"enable injection in {self.namespace}, then restart {len(self.workloads)} workload(s)"
        return f"restart {', '.join(w.split('/', 1)[1] for w in self.workloads)} in {self.namespace}"

    def to_data(self) -> dict[str, Any]:
        return {"type": self.type, "namespace": self.namespace, "workloads": list(self.workloads),
                "exception": self.exception.to_data() if self.exception else None}


@dataclass(frozen=True, slots=True)
class Issue:
    finding: Finding
    blocker: bool
    action: Action | None = None

    def to_data(self) -> dict[str, Any]:
        f = self.finding
        return {"code": f.code, "severity": f.severity, "kind": f.kind, "namespace": f.namespace, "name": f.name,
                "message": f.message, "fix": f.fix, "action": self.action.to_data() if self.action else None}


@dataclass(frozen=True)
class Preflight:
    scope: Scope
    issues: tuple[Issue, ...]
    steps: tuple[Step, ...]

    @property
    def blockers(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.blocker)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if not i.blocker)

    @property
    def ready(self) -> bool:
        return not self.blockers


def _version(tag: str) -> tuple[int, ...]:
    parts = []
    for piece in tag.split("-", 1)[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def _running(snapshot: Snapshot, namespaces: Sequence[str]) -> list[Pod]:
    wanted = set(namespaces)
    return [p for p in sorted((p for p in snapshot.pods.values() if p.namespace in wanted), key=lambda p: p.key)
            if not p.template and not p.host_network and not p.deleting and p.phase not in ("Succeeded", "Failed")
            and not is_gateway(p)]


def _by_workload(pods: Sequence[Pod]) -> dict[tuple[str, str], list[Pod]]:
    groups: dict[tuple[str, str], list[Pod]] = defaultdict(list)
    for pod in pods:
        kind, name = workload_of(pod)
        groups[(pod.namespace, f"{kind}/{name}")].append(pod)
    return dict(sorted(groups.items()))


def _sidecar_issues(snapshot: Snapshot, pods: Sequence[Pod]) -> list[Issue]:
    out: list[Issue] = []
    revisions = snapshot.mesh.revisions
    missing = [p for p in pods if not p.has_sidecar]
    for (ns, workload), group in _by_workload(missing).items():
        namespace = snapshot.namespaces.get(("", ns))
        kind, name = workload.split("/", 1)
        restartable = kind in ("Deployment", "StatefulSet", "DaemonSet")
        pod = group[0]
        if would_inject(namespace, pod.labels, pod.annotations, revisions=revisions):
            out.append(Issue(Finding(
                "MIG002", "error", kind, ns, name,
                f"{len(group)} pod(s) run without sidecar although injection is enabled: they started before "
                "the label and need a restart. Until then STRICT is not enforced on them.",
                restart_fix(pod)), True, Action("restart", ns, (workload,)) if restartable else None))
            continue
        opted_out = (inject_value(pod.labels, pod.annotations) or "").lower() == "false"
        action = None if opted_out or not restartable else Action("inject", ns, (workload,))
        fix = ("# the pod template sets sidecar.istio.io/inject=false: remove it, then restart\n"
               if opted_out else f"kubectl label namespace {ns} {LEGACY_LABEL}=enabled --overwrite\n") \
            + restart_fix(pod)
        out.append(Issue(Finding(
            "MIG001", "error", kind, ns, name,
            f"{len(group)} pod(s) run without sidecar: STRICT is not enforced on them and they send plaintext.",
            fix), True, action))
    istiod = _version(snapshot.mesh.istio_version)
    old = [p for p in pods if p.has_sidecar and istiod and _version(p.proxy_version)
           and _version(p.proxy_version)[:2] < istiod[:2]]
    for (ns, workload), group in _by_workload(old).items():
        kind, name = workload.split("/", 1)
        out.append(Issue(Finding(
            "MIG003", "warning", kind, ns, name,
            f"{len(group)} proxy(ies) run {group[0].proxy_version}, older than istiod "
            f"{snapshot.mesh.istio_version}: restart them so policy and proxy agree.",
            restart_fix(group[0])), False,
            Action("restart", ns, (workload,)) if kind in ("Deployment", "StatefulSet", "DaemonSet") else None))
    return out


def sidecar_action(snapshot: Snapshot, namespace: str, workload: str) -> Action | None:
    """What gives a workload's running pods their sidecar (the fix of MIG001/MIG002 for it: enable
    injection then restart, or restart), None when it has one already or meshtui cannot do it."""
    pods = [p for p in _running(snapshot, [namespace]) if p.workload_name == workload]
    return next((i.action for i in _sidecar_issues(snapshot, pods) if i.finding.code in ("MIG001", "MIG002")), None)


def _strict_ports(snapshot: Snapshot, after: Snapshot, members: set[str]) -> set[tuple[str, str, int]]:
    """(namespace, pod, port) of ports in scope that are STRICT after the plan and were not before."""
    a_before, a_after = analyze(snapshot), analyze(after)
    out = set()
    for key, pod in after.pods.items():
        if pod.namespace not in members or not pod.has_sidecar:
            continue
        old = snapshot.pods.get(key)
        old_modes = {p.port: p.mode for p in a_before.pod(old).ports} if old else {}
        for p in a_after.pod(pod).ports:
            if p.mode == STRICT and old_modes.get(p.port) != STRICT:
                out.add((pod.namespace, pod.name, p.port))
    return out


def _exception_for(pod: Pod, port: int, client: str) -> Action | None:
    kind, name = workload_of(pod)
    if kind not in ("Deployment", "StatefulSet", "DaemonSet"):
        return None
    exception = PortException(pod.namespace, name, port, client, kind)
    return Action("exception", pod.namespace, (f"{kind}/{name}",), exception)


def _exposure_issues(snapshot: Snapshot, after: Snapshot, strict: set[tuple[str, str, int]]) -> list[Issue]:
    out = []
    services = analyze(after).services
    for svc in sorted(after.services.values(), key=lambda s: (s.namespace, s.name)):
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        for sp in svc.ports:
            for pod in services.pods_of(svc):
                tp = target_port(sp, pod)
                if tp is None or (pod.namespace, pod.name, tp) not in strict:
                    continue
                entry = f"NodePort {sp.node_port}" if svc.type == "NodePort" and sp.node_port else svc.type
                client = f"external clients via {svc.name} {entry}"
                action = _exception_for(pod, tp, client)
                out.append(Issue(Finding(
                    "MIG005", "error", "Service", svc.namespace, svc.name,
                    f"{svc.type} port {sp.port} reaches port {tp} of {pod.workload_name}, which becomes STRICT: "
                    "clients outside the mesh send plaintext and would be refused.",
                    "keep that port PERMISSIVE (a port-level exception), or expose the service through an Istio "
                    "ingress gateway"), True, action))
                break
    return out


def _rules_for(snapshot: Snapshot, members: set[str]) -> list[DestinationRule]:
    """The DestinationRules that can reach a namespace in scope (their host is there, or a
    wildcard): checking every rule of a large mesh would dominate the preflight."""
    return [r for r in snapshot.destination_rules.values()
            if (ns := host_namespace(fqdn(r.host, r.namespace))) is None or ns in members]


def _rule_issues(snapshot: Snapshot, after: Snapshot, members: set[str]) -> list[Issue]:
    old = {(f.code, f.ref) for f in destination_rule_mtls_findings(analyze(snapshot), _rules_for(snapshot, members))}
    out = []
    for f in destination_rule_mtls_findings(analyze(after), _rules_for(after, members)):
        if f.code in ("MT0001", "MT0002") and (f.code, f.ref) not in old:
            out.append(Issue(Finding("MIG004", "error", f.kind, f.namespace, f.name, f.message, f.fix), True))
    return out


def _authorization_issues(snapshot: Snapshot, members: set[str]) -> list[Issue]:
    out = []
    for policy in sorted(snapshot.authorization_policies.values(), key=lambda p: (p.namespace, p.name)):
        fields = _identity_fields(policy.rules)
        if policy.namespace not in members or policy.action != "ALLOW" or not fields:
            continue
        out.append(Issue(Finding(
            "MIG006", "warning", "AuthorizationPolicy", policy.namespace, policy.name,
            f"Matches on {'/'.join(sorted(fields))}: plaintext requests carry no identity, so this policy only "
            "starts working as written once the ports it guards are STRICT (mTLS).",
            "nothing to do; expect its denials to change when the namespace becomes STRICT"), False))
    return out


def _caller_issues(snapshot: Snapshot, after: Snapshot, members: set[str], strict: set[tuple[str, str, int]],
                   callers: Sequence[PlaintextCaller], handled: set[tuple[str, str]]) -> list[Issue]:
    out = []
    seen: set[tuple[str, str]] = set()
    for caller in callers:
        if (caller.namespace, caller.workload) in handled:
            continue  # a caller in scope that the restart or injection fix gives a sidecar
        servers = [p for p in after.pods_in(caller.target_namespace)
                   if p.workload_name == caller.target_workload and p.has_sidecar]
        hit = [p for p in servers if (p.namespace, p.name, caller.port) in strict] if caller.port else \
            [p for p in servers if any((p.namespace, p.name, port) in strict for _, _, port in strict)]
        if not hit:
            continue
        seen.add((caller.namespace, caller.workload))
        action = _exception_for(hit[0], caller.port, caller.client) if caller.port else None
        out.append(Issue(Finding(
            "MIG007", "error", "Workload", caller.namespace, caller.workload,
            f"{caller.client} sends plaintext to {caller.target} ({caller.to_data()['rate_per_s']:.2f}/s, seen in the "
            f"{caller.source}); STRICT would refuse it.",
            f"inject {caller.client} (sidecar + restart), or keep port {caller.port or '?'} of "
            f"{caller.target_namespace}/{caller.target_workload} PERMISSIVE for it"), True, action))
    if not strict:
        return out
    # The control plane (root namespace) and Kubernetes' own namespaces do not call workloads.
    outside = {p.namespace for p in snapshot.pods.values()} - members - SYSTEM_NAMESPACES \
        - {snapshot.mesh.root_namespace}
    quiet = [p for p in _running(snapshot, sorted(outside))
             if not p.has_sidecar and (p.namespace, p.workload_name) not in seen]
    names = sorted({f"{p.namespace}/{p.workload_name}" for p in quiet})
    if names:
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        out.append(Issue(Finding(
            "MIG008", "warning", "Namespace", "", "(outside scope)",
            f"{len(names)} workload(s) outside the scope run without sidecar and would fail if they call a "
            f"STRICT port in scope (no such call seen): {shown}.",
            "observe longer to be sure, or inject them"), False))
    return out


def preflight(snapshot: Snapshot, scope: Scope, exceptions: Sequence[PortException] = (),
              callers: Sequence[PlaintextCaller] = (), steps: Sequence[Step] | None = None) -> Preflight:
    """Blockers and warnings for taking ``scope`` to STRICT with ``exceptions`` kept PERMISSIVE."""
    members = set(scope.members(snapshot))
    if steps is None:
        steps = build_steps(snapshot, scope, exceptions, {(c.namespace, c.target_namespace) for c in callers})
    after = target(snapshot, steps)
    pods = _running(snapshot, sorted(members))
    strict = _strict_ports(snapshot, after, members)
    sidecars = _sidecar_issues(snapshot, pods)
    handled = {(i.finding.namespace, i.finding.name) for i in sidecars if i.finding.code in ("MIG001", "MIG002")}
    issues = [*sidecars, *_rule_issues(snapshot, after, members), *_exposure_issues(snapshot, after, strict),
              *_caller_issues(snapshot, after, members, strict, callers, handled),
              *_authorization_issues(snapshot, members)]
    return Preflight(scope, tuple(issues), tuple(steps))

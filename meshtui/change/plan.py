"""Change plans: pure functions from a snapshot and a target to the exact objects that change.

Nothing here talks to a cluster. A plan lists every object with its before and after body and
carries the snapshot the cluster would have once it is applied, so the preview can ask the policy
engine what the change does before anything is sent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Mapping, Sequence

from meshtui.change.bodies import MANAGED_BY, PA_API_VERSION, namespace_body, peer_authentication_body
from meshtui.model.convert import Malformed, format_time, from_k8s
from meshtui.model.objects import (
    AMBIENT,
    DATAPLANE_LABEL,
    REDIRECTION_ANNOTATION,
    PeerAuthentication,
    Pod,
    Workload,
)
from meshtui.model.snapshot import ChangeEvent, Snapshot
from meshtui.policy.engine import PolicyIndex, pa_order
from meshtui.policy.labels import matches

Op = Literal["create", "patch", "delete", "label", "restart"]
Mode = Literal["STRICT", "PERMISSIVE", "DISABLE", "UNSET"]
Level = Literal["mesh", "namespace", "workload", "port"]

MODES: tuple[Mode, ...] = ("STRICT", "PERMISSIVE", "DISABLE", "UNSET")
INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
# Pod-level override of namespace injection, read from the pod template's labels or annotations.
POD_INJECT = "sidecar.istio.io/inject"
RESTARTABLE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class PlanError(Exception):
    """The target cannot be reached with a valid change; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class ObjectChange:
    kind: str
    namespace: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    op: Op

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ChangePlan:
    title: str
    scope: str
    changes: tuple[ObjectChange, ...]
    before: Snapshot
    predicted: Snapshot
    # True for a mesh-wide STRICT: the UI asks for the word STRICT to be typed.
    needs_typed_confirmation: bool = False
    notes: tuple[str, ...] = field(default=())
    # Set on an undo: the id of the journal entry it reverts (journaled with the result).
    undoes: str = ""

    @property
    def empty(self) -> bool:
        return not self.changes


@dataclass(frozen=True, slots=True)
class MtlsScope:
    level: Level
    namespace: str = ""
    workload: Workload | None = None
    port: int | None = None

    @classmethod
    def mesh(cls) -> MtlsScope:
        return cls("mesh")

    @classmethod
    def of_namespace(cls, namespace: str) -> MtlsScope:
        return cls("namespace", namespace)

    @classmethod
    def of_workload(cls, workload: Workload) -> MtlsScope:
        return cls("workload", workload.namespace, workload)

    @classmethod
    def of_port(cls, workload: Workload, port: int) -> MtlsScope:
        return cls("port", workload.namespace, workload, port)

    def describe(self) -> str:
        if self.level == "mesh":
            return "mesh"
        if self.level == "namespace":
            return f"namespace {self.namespace}"
        assert self.workload is not None
        where = f"{self.workload.kind} {self.namespace}/{self.workload.name}"
        return where if self.level == "workload" else f"{where} port {self.port}"


def predict(snapshot: Snapshot, changes: Sequence[ObjectChange], now: datetime) -> Snapshot:
    """The snapshot after the changes, converted exactly as a backend converts what it reads.
    A body the converter rejects (an undo from a damaged journal) is left out of the prediction;
    the server's dry run will say what is wrong with it."""
    events: list[ChangeEvent] = []
    for change in changes:
        if change.op == "restart":
            continue
        try:
            if change.after is None:
                old = from_k8s(change.before or {}, change.kind)
                if old is not None:
                    events.append(ChangeEvent("DELETED", old))
                continue
            body = change.after
            if change.op == "create" and isinstance(body.get("metadata"), dict):
                # A new object is the youngest: oldest-policy-wins must not pick it over existing ones.
                body = copy.deepcopy(body)
                body["metadata"]["creationTimestamp"] = format_time(now)
            new = from_k8s(body, change.kind)
        except Malformed:
            continue
        if new is not None:
            events.append(ChangeEvent("MODIFIED" if change.before else "ADDED", new))
    return snapshot.apply(events)


def _plan(snapshot: Snapshot, title: str, scope: str, changes: Sequence[ObjectChange], *,
          now: datetime | None, typed: bool = False, notes: Sequence[str] = (), undoes: str = "") -> ChangePlan:
    when = now or datetime.now(UTC)
    return ChangePlan(title, scope, tuple(changes), snapshot, predict(snapshot, changes, when),
                      needs_typed_confirmation=typed, notes=tuple(notes), undoes=undoes)


def undo_plan(snapshot: Snapshot, title: str, scope: str, changes: Sequence[ObjectChange], *,
              notes: Sequence[str], undoes: str) -> ChangePlan:
    """An undo previewed and applied like any other change."""
    return _plan(snapshot, title, scope, changes, now=None, notes=notes, undoes=undoes)


# --- injection ------------------------------------------------------------------------------

DEFAULT_REVISION = "default"


def revisions_in_use(snapshot: Snapshot) -> tuple[str, ...]:
    """The istio.io/rev revisions to offer, sorted; () when istiod runs without revisions.

    When istiod was read, only the revisions it runs with exist (a namespace label naming another
    one selects no injector); otherwise the revisions namespaces are labelled with. An istiod
    without revision ("default" alone) means plain ``istio-injection=enabled``.
    """
    revs = set(snapshot.mesh.revisions) or {ns.labels[REVISION_LABEL] for ns in snapshot.namespaces.values()
                                             if ns.labels.get(REVISION_LABEL)}
    return () if revs <= {DEFAULT_REVISION} else tuple(sorted(revs))


def injection_plan(snapshot: Snapshot, namespace: str, *, enabled: bool, revision: str | None = None,
                   now: datetime | None = None) -> ChangePlan:
    """Label the namespace for injection, never leaving both injection labels behind.

    Enabling uses ``istio-injection=enabled`` unless the cluster uses revisions, then
    ``istio.io/rev=<revision>``. Disabling sets ``istio-injection=disabled`` (explicit, so it also
    holds when the injector injects unlabeled namespaces by default) and drops the revision label.
    """
    ns = snapshot.namespaces.get(("", namespace))
    if ns is None:
        raise PlanError(f"namespace {namespace} is not in the snapshot")
    revisions = revisions_in_use(snapshot)
    if enabled and revision is None and revisions and DEFAULT_REVISION not in revisions:
        raise PlanError(f"the cluster uses revisions ({', '.join(revisions)}): choose one")
    labels = dict(ns.labels)
    if not enabled:
        labels[INJECTION_LABEL] = "disabled"
        labels.pop(REVISION_LABEL, None)
        title = f"Disable sidecar injection in {namespace}"
    elif revision:
        labels[REVISION_LABEL] = revision
        labels.pop(INJECTION_LABEL, None)
        title = f"Enable sidecar injection in {namespace} (revision {revision})"
    else:
        labels[INJECTION_LABEL] = "enabled"
        labels.pop(REVISION_LABEL, None)
        title = f"Enable sidecar injection in {namespace}"
    before = namespace_body(ns)
    changes = []
    if labels != dict(ns.labels):
        after = copy.deepcopy(before)
        after["metadata"]["labels"] = labels
        changes.append(ObjectChange("Namespace", "", namespace, before, after, "label"))
    notes = ("Existing pods keep their current sidecar state until they are restarted.",)
    return _plan(snapshot, title, f"namespace {namespace}", changes, now=now, notes=notes)


def workloads_to_restart(snapshot: Snapshot, namespace: str, *, want_sidecar: bool) -> list[Workload]:
    """Restartable workloads in the namespace with running pods whose sidecar state differs from
    ``want_sidecar``, minus those whose pod template opts out with ``sidecar.istio.io/inject``."""
    out = []
    for wl in snapshot.in_namespace("workloads", namespace):
        assert isinstance(wl, Workload)
        if wl.kind not in RESTARTABLE_KINDS or not wl.selector:
            continue
        override = wl.template_labels.get(POD_INJECT) or wl.template_annotations.get(POD_INJECT)
        if override == ("false" if want_sidecar else "true"):
            continue
        pods = [p for p in snapshot.pods_in(namespace) if not p.deleting and matches(wl.selector, p.labels)]
        if any(p.has_sidecar != want_sidecar for p in pods):
            out.append(wl)
    return out


def restart_plan(snapshot: Snapshot, workloads: Sequence[Workload], *,
                 now: datetime | None = None) -> ChangePlan:
    """A rollout restart of each workload, as `kubectl rollout restart` does it."""
    changes = [ObjectChange(w.kind, w.namespace, w.name, None, None, "restart") for w in workloads]
    names = ", ".join(f"{w.namespace}/{w.name}" for w in workloads)
    return _plan(snapshot, f"Restart {len(workloads)} workload(s)", names, changes, now=now)


# --- ambient --------------------------------------------------------------------------------
# https://istio.io/latest/docs/ambient/usage/add-workloads/ (labels, no restart) and
# https://istio.io/latest/docs/ambient/migrate/enable-ambient-mode/ (from sidecars: label, drop the
# injection label, restart so the pods come back without a sidecar; a sidecar wins meanwhile).

def ambient_plan(snapshot: Snapshot, namespace: str, *, enabled: bool, now: datetime | None = None) -> ChangePlan:
    """Add the namespace to ambient (dropping its sidecar-injection labels) or remove it."""
    ns = snapshot.namespaces.get(("", namespace))
    if ns is None:
        raise PlanError(f"namespace {namespace} is not in the snapshot")
    labels = dict(ns.labels)
    pods = [p for p in snapshot.pods_in(namespace) if not p.deleting]
    if enabled:
        labels[DATAPLANE_LABEL] = AMBIENT
        labels.pop(INJECTION_LABEL, None)
        labels.pop(REVISION_LABEL, None)
        sidecars = sum(1 for p in pods if p.has_sidecar)
        title = f"Add {namespace} to ambient"
        notes = ["No restart needed: istio-cni redirects the running pods to ztunnel within seconds."]
        if sidecars:
            title = f"Move {namespace} from sidecars to ambient"
            notes = [f"{sidecars} pod(s) keep their sidecar until restarted (a sidecar wins over ambient); "
                     "restart their workloads next to drop the sidecars.",
                     "Pods without a sidecar join ambient without a restart."]
    else:
        labels.pop(DATAPLANE_LABEL, None)
        title = f"Remove {namespace} from ambient"
        notes = ["No restart needed: istio-cni removes the redirection from the running pods; they leave "
                 "the mesh (plaintext, no PeerAuthentication or AuthorizationPolicy applies)."]
    before = namespace_body(ns)
    changes = []
    if labels != dict(ns.labels):
        after = copy.deepcopy(before)
        after["metadata"]["labels"] = labels
        changes.append(ObjectChange("Namespace", "", namespace, before, after, "label"))
    return _plan(snapshot, title, f"namespace {namespace}", changes, now=now, notes=notes)


def _template_body(workload: Workload, labels: Mapping[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": workload.name, "namespace": workload.namespace}
    if workload.resource_version:
        metadata["resourceVersion"] = workload.resource_version
    return {"apiVersion": "apps/v1", "kind": workload.kind, "metadata": metadata,
            "spec": {"template": {"metadata": {"labels": dict(labels)}}}}


def ambient_workload_plan(snapshot: Snapshot, workload: Workload, *, opt_out: bool,
                          now: datetime | None = None) -> ChangePlan:
    """Opt the workload's pods out of ambient (``istio.io/dataplane-mode=none`` on its pod template) or
    back in. A template change rolls the pods; the prediction shows them as they come back."""
    if workload.kind not in RESTARTABLE_KINDS:
        raise PlanError(f"{workload.kind} {workload.namespace}/{workload.name} has no pod template to label")
    labels = dict(workload.template_labels)
    if opt_out:
        labels[DATAPLANE_LABEL] = "none"
    else:
        labels.pop(DATAPLANE_LABEL, None)
    verb = "Opt" if opt_out else "Opt back"
    title = f"{verb} {workload.kind} {workload.namespace}/{workload.name} {'out of' if opt_out else 'into'} ambient"
    scope = f"{workload.kind} {workload.namespace}/{workload.name}"
    if labels == dict(workload.template_labels):
        return ChangePlan(title, scope, (), snapshot, snapshot)
    before, after = _template_body(workload, workload.template_labels), _template_body(workload, labels)
    change = ObjectChange(workload.kind, workload.namespace, workload.name, before, after, "patch")
    events = [ChangeEvent("MODIFIED", replace(workload, template_labels=labels))]
    for pod in snapshot.pods_in(workload.namespace):
        if workload.selector and matches(workload.selector, pod.labels) and not pod.deleting:
            events.append(ChangeEvent("MODIFIED", _relabelled(pod, labels)))
    notes = ("Changing the pod template rolls the workload's pods; the new pods "
             + ("run outside the mesh." if opt_out else "join ambient with their namespace."),)
    return ChangePlan(title, scope, (change,), snapshot, snapshot.apply(events), notes=notes)


def _relabelled(pod: Pod, template_labels: Mapping[str, str]) -> Pod:
    """The pod as it comes back from the rollout: istio-cni redirects it unless it opted out."""
    labels = {k: v for k, v in pod.labels.items() if k != DATAPLANE_LABEL}
    annotations = {k: v for k, v in pod.annotations.items() if k != REDIRECTION_ANNOTATION}
    if DATAPLANE_LABEL in template_labels:
        labels[DATAPLANE_LABEL] = template_labels[DATAPLANE_LABEL]
    if template_labels.get(DATAPLANE_LABEL) != "none":
        annotations[REDIRECTION_ANNOTATION] = "enabled"
    return replace(pod, labels=labels, annotations=annotations)


# --- mTLS -----------------------------------------------------------------------------------

def _oldest(policies: Sequence[PeerAuthentication]) -> PeerAuthentication | None:
    """The policy Istio applies when several claim one scope: the oldest (the engine's order)."""
    return min(policies, key=pa_order, default=None)


def _holder(snapshot: Snapshot, scope: MtlsScope) -> tuple[str, PeerAuthentication | None]:
    """The namespace of the scope's policy and the policy that already holds the scope, if any."""
    root = snapshot.mesh.root_namespace
    policies = snapshot.peer_authentications.values()
    if scope.level in ("mesh", "namespace"):
        ns = root if scope.level == "mesh" else scope.namespace
        return ns, _oldest([p for p in policies if p.namespace == ns and not p.selector])
    wl = scope.workload
    assert wl is not None
    if wl.namespace == root:
        raise PlanError(f"Istio ignores workload-selecting policies in the root namespace {root}")
    return wl.namespace, _oldest([
        p for p in policies
        if p.namespace == wl.namespace and p.selector and matches(p.selector, wl.template_labels)
    ])


def _is_empty(spec: Mapping[str, Any]) -> bool:
    mode = (spec.get("mtls") or {}).get("mode")
    return mode in (None, "UNSET") and not spec.get("portLevelMtls")


def _new_policy(scope: MtlsScope, namespace: str, snapshot: Snapshot) -> dict[str, Any]:
    if scope.workload is None:
        name, spec = "default", {}
    else:
        # The workload's own selector (spec.selector.matchLabels) picks exactly its pods; extra
        # template labels (version, ...) would drop pods of the next rollout that change them.
        selector = dict(scope.workload.selector or scope.workload.template_labels)
        if not selector:
            raise PlanError(f"{scope.describe()} has no selector and no pod-template labels a policy could select")
        name = f"{scope.workload.name}-mtls"
        spec = {"selector": {"matchLabels": selector}}
    if (namespace, name) in snapshot.peer_authentications:
        raise PlanError(f"PeerAuthentication {namespace}/{name} exists but does not hold {scope.describe()}")
    return {"apiVersion": PA_API_VERSION, "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)}, "spec": spec}


def redundant_port_entries(snapshot: Snapshot, workload: Workload) -> dict[int, str]:
    """Port-level entries of the workload's policy that set the mode the workload has anyway:
    they change nothing and are offered for removal."""
    probe = Pod(workload.namespace, "", labels=dict(workload.template_labels))
    resolution = PolicyIndex(snapshot).resolve(probe)
    holder = resolution.workload
    if holder is None:
        return {}
    return {port: str(mode) for port, mode in sorted(holder.port_level.items()) if mode == resolution.mode}


def mtls_plan(snapshot: Snapshot, scope: MtlsScope, mode: Mode, *, now: datetime | None = None) -> ChangePlan:
    """Set ``mode`` at ``scope``; UNSET means inherit and removes the setting.

    Patches the policy that already holds the scope (the one Istio uses) rather than adding a
    competing one; deletes it when nothing is left in it.
    """
    if mode not in MODES:
        raise PlanError(f"unknown mTLS mode {mode!r}")
    if scope.level == "port" and scope.port is None:
        raise PlanError("a port scope needs a container port")
    namespace, holder = _holder(snapshot, scope)
    before = peer_authentication_body(holder) if holder else None
    after = copy.deepcopy(before) if before else _new_policy(scope, namespace, snapshot)
    spec = after.setdefault("spec", {})
    if scope.level == "port":
        port_level = spec.setdefault("portLevelMtls", {})
        # JSON object keys: the API server always returns port numbers as strings here.
        key = str(scope.port)
        if mode == "UNSET":
            port_level.pop(key, None)
        else:
            port_level[key] = {"mode": mode}
        if not port_level:
            spec.pop("portLevelMtls")
    elif mode == "UNSET":
        spec.pop("mtls", None)
    else:
        spec["mtls"] = {"mode": mode}

    name = after["metadata"]["name"]
    changes: list[ObjectChange] = []
    if _is_empty(spec):
        if before is not None:
            changes.append(ObjectChange("PeerAuthentication", namespace, name, before, None, "delete"))
    elif before is None:
        changes.append(ObjectChange("PeerAuthentication", namespace, name, None, after, "create"))
    elif after != before:
        changes.append(ObjectChange("PeerAuthentication", namespace, name, before, after, "patch"))

    label = "inherit" if mode == "UNSET" else mode
    notes = []
    if scope.workload is not None:
        same = redundant_port_entries(predict(snapshot, changes, now or datetime.now(UTC)), scope.workload)
        if same:
            ports = ", ".join(f"{p} ({m})" for p, m in same.items())
            notes.append(f"port-level {ports} equal the workload's mode and change nothing: "
                         "remove them (p, the port, inherit)")
    mesh_wide = namespace == snapshot.mesh.root_namespace and scope.level in ("mesh", "namespace")
    if holder is not None and holder.selector and scope.workload is not None:
        others = [w.name for w in snapshot.in_namespace("workloads", namespace)
                  if isinstance(w, Workload) and w.ref != scope.workload.ref
                  and matches(holder.selector, w.template_labels)]
        if others:
            notes.append(f"{holder.name} also selects {', '.join(others)}")
    return _plan(snapshot, f"Set mTLS {label} on {scope.describe()}", scope.describe(), changes, now=now,
                 typed=mesh_wide and mode == "STRICT", notes=notes)

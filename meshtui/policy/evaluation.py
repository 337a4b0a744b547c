"""The mesh report: every pod's mode, the namespace and mesh summaries, and the findings.

Built on the engine (:mod:`meshtui.policy.engine`) and the findings, so the engine never depends on
what is built on it. :func:`update` derives the next report from the previous one and a batch of watch
events, re-evaluating only the namespaces the batch touches; its result equals :func:`evaluate` of the
new snapshot (tests/unit/policy/test_policy_incremental.py checks that on random batches). A pod event
that changes only what no result reads (container readiness, restarts, state) re-evaluates nothing.

What a namespace's results depend on: its pods' modes on the namespace object (ambient enrolment), its
PeerAuthentications and Services, and the root namespace's namespace-wide PeerAuthentications (so a
PeerAuthentication in the root namespace re-evaluates everything); nearly every finding on objects of
its own namespace. What reaches across namespaces:
- DestinationRules against the modes of the servers they reach (MT0001-MT0003, only while a rule sets
  TLS), AuthorizationPolicies in the root namespace (MT0009 there) and DISABLE in the mesh-wide policy
  over ambient pods (MT0021 there): recomputed on the whole snapshot whenever a batch arrives;
- a STRICT policy over sidecar-less pods (MT0013) belongs to the namespace of those pods, wherever the
  policy lives;
- waypoints, which any namespace may name (MT0023): a waypoint event re-evaluates everything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any, Iterable, Mapping

from meshtui.model.objects import Container, Namespace, PeerAuthentication, Pod, Service, Waypoint
from meshtui.model.snapshot import COLLECTION, ChangeEvent, Snapshot, key_of
from meshtui.policy.ambient import ambient_findings
from meshtui.policy.engine import Analysis, PolicyIndex, analyze, decides, source_of
from meshtui.policy.findings import (
    authorization_findings,
    destination_rule_mtls_findings,
    find_all,
    order_findings,
)
from meshtui.policy.recent import Recent
from meshtui.policy.report import (
    DEFAULT_SOURCE,
    DISABLE,
    MIXED,
    PERMISSIVE,
    Finding,
    MeshReport,
    MeshSummary,
    NamespaceSummary,
    PodMtls,
)

Key = tuple[str, str]
CROSS_NAMESPACE_CODES = frozenset({"MT0001", "MT0002", "MT0003"})
# Codes whose finding names a policy but is about (and decided by) the pods of another namespace.
ABOUT_PODS_CODES = frozenset({"MT0013"})

_reports: Recent[Snapshot, MeshReport] = Recent()


def evaluate(snapshot: Snapshot) -> MeshReport:
    """The full report of a snapshot, shared by every caller asking about the same snapshot object."""
    return _reports.get(snapshot, lambda snap: assemble(analyze(snap)))


def assemble(analysis: Analysis) -> MeshReport:
    snapshot = analysis.snapshot
    pods = {key: analysis.pod(pod) for key, pod in sorted(snapshot.pods.items())}
    namespaces = summarize_namespaces(snapshot, analysis.policies, pods)
    mesh = summarize_mesh(analysis.policies, namespaces, snapshot)
    return MeshReport(pods, namespaces, mesh, find_all(analysis))


def summarize_namespaces(
    snapshot: Snapshot, policies: PolicyIndex, pods: Mapping[Key, PodMtls]
) -> dict[str, NamespaceSummary]:
    by_ns: dict[str, list[PodMtls]] = defaultdict(list)
    for pm in pods.values():
        by_ns[pm.pod.namespace].append(pm)
    names = sorted({ns.name for ns in snapshot.namespaces.values()} | set(by_ns))
    out: dict[str, NamespaceSummary] = {}
    for name in names:
        ns_obj = snapshot.namespaces.get(("", name))
        base = policies.namespace_level(name)
        members = by_ns.get(name, [])
        counts: Counter[str] = Counter()
        mixed = False
        for pm in members:
            counts.update(p.mode for p in pm.ports)
            if pm.in_mesh and (pm.mode != base.mode or any(p.mode != base.mode for p in pm.ports)):
                mixed = True
        hidden = snapshot.mesh.labels_unknown(name)
        provisional = [f"injection unknown: cannot read {hidden}"] if hidden else []
        if policies.mesh_unknown is not None and base.source.level in ("mesh", "default"):
            provisional.append(f"mode assumes no mesh-wide policy: cannot read {policies.mesh_unknown}")
        out[name] = NamespaceSummary(
            name=name,
            injection="unknown" if hidden else (ns_obj.injection if ns_obj else "none"),
            mtls=MIXED if mixed else base.mode,
            source=base.source,
            pods=len(members),
            without_sidecar=sum(1 for pm in members if not pm.in_mesh),
            port_counts=dict(counts),
            dataplane=ns_obj.dataplane if ns_obj else "none",
            ambient=sum(1 for pm in members if pm.captured),
            provisional=tuple(provisional),
        )
    return out


def summarize_mesh(policies: PolicyIndex, namespaces: Mapping[str, NamespaceSummary],
                   snapshot: Snapshot) -> MeshSummary:
    mesh = policies.mesh_wide[0] if policies.mesh_wide else None
    mode, source = PERMISSIVE, DEFAULT_SOURCE
    if mesh is not None and decides(mesh.mode):
        mode, source = str(mesh.mode), source_of(mesh, "mesh")
    counts: Counter[str] = Counter()
    for ns in namespaces.values():
        counts.update(ns.port_counts)
    mixed = any(ns.mtls != mode for ns in namespaces.values() if ns.pods)
    return MeshSummary(
        mtls=MIXED if mixed else mode,
        source=source,
        namespaces=len(namespaces),
        pods=sum(ns.pods for ns in namespaces.values()),
        without_sidecar=sum(ns.without_sidecar for ns in namespaces.values()),
        port_counts=dict(counts),
        unknown=tuple(str(d) for d in snapshot.mesh.denied),
        provisional=policies.mesh_unknown is not None,
    )


# -- incremental ----------------------------------------------------------------------------------

def touched_namespaces(events: Iterable[ChangeEvent], root: str) -> tuple[set[str], set[str]] | None:
    """(namespaces the batch touches, those among them whose pod modes may change), or None when the
    batch can change every namespace's results: a PeerAuthentication in the root namespace decides
    every pod's mesh level, and a waypoint can be named from any namespace."""
    touched: set[str] = set()
    policy: set[str] = set()
    for ev in events:
        obj = ev.obj
        if isinstance(obj, Waypoint) or (isinstance(obj, PeerAuthentication) and obj.namespace == root):
            return None
        name = obj.name if isinstance(obj, Namespace) else obj.namespace
        touched.add(name)
        # The namespace object enrols its pods in ambient mode; Services decide which ports a pod lists.
        if isinstance(obj, Namespace | PeerAuthentication | Service):
            policy.add(name)
    return touched, policy


def _engine_view(pod: Pod) -> Pod:
    """The pod as the engine and the findings read it: without its containers' readiness, restarts and
    state, nor its resource version (tests/unit/policy/test_policy_incremental.py changes only those)."""
    return replace(pod, resource_version="", containers=tuple(_spec(c) for c in pod.containers),
                   init_containers=tuple(_spec(c) for c in pod.init_containers))


def _spec(container: Container) -> Container:
    return replace(container, ready=False, restarts=0, state="", reason="")


def finding_namespace(f: Finding) -> str:
    """The namespace whose objects decide the finding."""
    if f.code in ABOUT_PODS_CODES and f.about:
        return f.about[0].namespace
    return f.name if f.kind == "Namespace" else f.namespace


def _cross_namespace(f: Finding, root: str) -> bool:
    return f.code in CROSS_NAMESPACE_CODES or (
        f.namespace == root and (f.kind == "AuthorizationPolicy" or f.code == "MT0021"))


def _restrict(snapshot: Snapshot, namespaces: set[str]) -> Snapshot:
    """The part of a snapshot that decides the given namespaces' results."""
    root = snapshot.mesh.root_namespace
    # Each value is the collection its name says (see Snapshot's fields): Any, as in Snapshot.build.
    fields: dict[str, Any] = {}
    for name in COLLECTION.values():
        if name == "waypoints":
            continue  # few, and named across namespaces: all of them stay
        index = snapshot.by_namespace(name)
        fields[name] = {k: v for ns in sorted(namespaces) for k, v in index.get(ns, {}).items()}
    if root not in namespaces:
        fields["peer_authentications"].update(
            (k, pa) for k, pa in snapshot.by_namespace("peer_authentications").get(root, {}).items()
            if not pa.selector
        )
    return replace(snapshot, **fields)


def _cross_namespace_findings(snapshot: Snapshot, pods: Mapping[Key, PodMtls]) -> list[Finding]:
    root = snapshot.mesh.root_namespace
    found: list[Finding] = []
    if any(r.tls is not None or r.port_tls for r in snapshot.destination_rules.values()):
        found.extend(destination_rule_mtls_findings(Analysis(snapshot, pods)))
    root_policies = snapshot.by_namespace("authorization_policies").get(root, {})
    if root_policies:
        only_root = replace(snapshot, authorization_policies=root_policies)
        found.extend(authorization_findings(Analysis(only_root, pods)))
    # Only a mesh-wide DISABLE makes an MT0021 in the root namespace (selector policies there are ignored).
    if any(not pa.selector and pa.mode == DISABLE
           for pa in snapshot.by_namespace("peer_authentications").get(root, {}).values()):
        found.extend(f for f in ambient_findings(Analysis(snapshot, pods))
                     if f.code == "MT0021" and f.namespace == root)
    return found


def update(
    previous: Snapshot, report: MeshReport, snapshot: Snapshot, events: Iterable[ChangeEvent]
) -> MeshReport:
    """The report of ``snapshot`` = ``previous.apply(events)``, given ``report`` = evaluate(previous)."""
    if snapshot is previous:
        return report
    if snapshot.mesh != previous.mesh:
        return evaluate(snapshot)
    root = snapshot.mesh.root_namespace
    # Most pod events only report a container's readiness or restarts: no result depends on them.
    quiet: dict[Key, Pod] = {}
    rest: list[ChangeEvent] = []
    for ev in events:
        if isinstance(ev.obj, Pod):
            key = key_of(ev.obj)
            old, new = previous.pods.get(key), snapshot.pods.get(key)
            if old is not None and new is not None and _engine_view(old) == _engine_view(new):
                quiet[key] = new
                continue
        rest.append(ev)
    touched = touched_namespaces(rest, root)
    if touched is None:
        return evaluate(snapshot)
    namespaces, policy_changed = touched
    if not namespaces:
        if not quiet:
            return report  # no events: the same objects in a new snapshot
        pods = dict(report.pods)
        pods.update((key, replace(pods[key], pod=pod)) for key, pod in quiet.items())
        return replace(report, pods=pods)
    part = _restrict(snapshot, namespaces)
    # What the batch touches, in the namespace indexes: a batch costs its namespaces, not the cluster.
    before = previous.by_namespace("pods")
    shown = [key for ns in namespaces for key in before.get(ns, {})]
    # Pods of namespaces whose policies did not change keep their result while the pod is the same object.
    known = {k: report.pods[k] for k in shown if k[0] not in policy_changed and k in report.pods}
    analysis = Analysis(part, known)
    part_pods = {key: analysis.pod(pod) for key, pod in part.pods.items()}

    # report.pods is in key order: a batch that only modifies pods keeps it by updating in place.
    pods = dict(report.pods)
    for key in shown:
        if key not in part_pods:
            pods.pop(key, None)
    count = len(pods)
    pods.update((key, replace(pods[key], pod=pod)) for key, pod in quiet.items() if key[0] not in namespaces)
    pods.update(part_pods)
    if len(pods) != count:  # new pods
        pods = dict(sorted(pods.items()))
    summaries = {n: s for n, s in report.namespaces.items() if n not in namespaces}
    summaries.update(summarize_namespaces(part, analysis.policies, part_pods))
    summaries = dict(sorted(summaries.items()))

    kept = [f for f in report.findings
            if finding_namespace(f) not in namespaces and not _cross_namespace(f, root)]
    fresh = [f for f in find_all(analysis)
             if finding_namespace(f) in namespaces and not _cross_namespace(f, root)]
    findings = order_findings([*kept, *fresh, *_cross_namespace_findings(snapshot, pods)])
    return MeshReport(pods, summaries, summarize_mesh(analysis.policies, summaries, snapshot), findings)

"""Why a pod or port has its mode: the chain of levels Istio walks, the clients seen calling it (traffic)
apart from those that could (policy), and the objects around the pod as ``istioctl x describe pod``
lists them: its Services, the DestinationRules for them and the AuthorizationPolicies selecting it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from meshtui.model.objects import PeerAuthentication, Pod, Ref
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import asked
from meshtui.policy.clients import ClientPrediction, client_model, failing_to, outcome, service_port
from meshtui.policy.engine import Analysis, analyze, decides, source_of
from meshtui.policy.findings import workload_of
from meshtui.policy.report import DEFAULT_SOURCE, DISABLE, NONE, PERMISSIVE, Source
from meshtui.policy.scope import policies_for_pod
from meshtui.policy.services import target_port

# (client workload "Kind ns/name" or "ns/name" or an address, server namespace, Service, Service port)
Observed = tuple[str, str, str, int]


@dataclass(frozen=True, slots=True)
class LevelStep:
    """One level of the chain. ``policy`` is the PeerAuthentication Istio chose at this level (the
    oldest one), ``ignored`` the newer ones it passed over, ``mode`` what the chosen one sets here
    (None when absent), ``decided`` whether this level gives the effective mode."""

    level: str
    policy: Ref | None
    raw: Mapping[str, Any] | None
    mode: str | None
    decided: bool
    ignored: tuple[Ref, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Related:
    """An object around the pod, with a one-line summary of what it does to the pod's traffic."""

    ref: Ref
    summary: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """``seen_clients`` were observed calling (source and window in ``seen_source``; empty without a
    traffic source); ``failing_clients`` are those that *could* call and would fail, not seen."""

    pod: Ref
    port: int | None
    sidecar: bool
    mode: str
    source: Source
    levels: tuple[LevelStep, ...]
    failing_clients: tuple[ClientPrediction, ...]
    seen_clients: tuple[ClientPrediction, ...] = ()
    seen_source: str = ""
    related: tuple[Related, ...] = ()


def _raw(pa: PeerAuthentication | None) -> Mapping[str, Any] | None:
    return (pa.raw or None) if pa is not None else None


def _step(level: str, chosen: PeerAuthentication | None, others: list[PeerAuthentication],
          mode: str | None, decided: bool, absent: str) -> LevelStep:
    if chosen is None:
        note = absent
    elif decides(mode):
        note = f"{chosen.name} sets {mode}"
    else:
        note = f"{chosen.name} leaves the mode {mode or 'unset'}: inherits"
    if others:
        note += f"; newer, ignored: {', '.join(p.name for p in others)}"
    return LevelStep(level, chosen.ref if chosen else None, _raw(chosen), mode, decided,
                     tuple(p.ref for p in others), note)


def _seen(analysis: Analysis, pod: Pod, port: int | None, observed: Iterable[Observed]) -> list[ClientPrediction]:
    """Observed plaintext calls to a Service of this pod, judged against the pod's mode now."""
    out = []
    services = {(s.namespace, s.name): s for s in analysis.services.services_of(pod)}
    for client, ns, name, svc_port in sorted(set(observed)):
        svc = services.get((ns, name))
        if svc is None or not any(p.port == svc_port for p in svc.ports):
            continue
        tp = target_port(service_port(svc, svc_port), pod)
        if tp is None or (port is not None and tp != port):
            continue
        mode = analysis.port(pod, tp).mode
        result, reason = outcome(DISABLE, mode, tp)
        kind, _, ref = client.rpartition(" ")
        c_ns, _, c_name = ref.partition("/")
        out.append(ClientPrediction(DISABLE, "observed plaintext", mode, result, reason,
                                    client=Ref(kind or "Pod", c_ns if c_name else "", c_name or c_ns),
                                    service=svc.ref, port=svc_port, target_port=tp, server=pod.ref))
    return out


def related_objects(snapshot: Snapshot, pod: Pod) -> tuple[Related, ...]:
    analysis = analyze(snapshot)
    out: list[Related] = []
    for svc in sorted(analysis.services.services_of(pod), key=lambda s: s.name):
        ports = ", ".join(f"{p.port}→{p.target_port}" + (f"/{p.name}" if p.name else "") for p in svc.ports)
        out.append(Related(svc.ref, f"{svc.type} {ports}"))
    scoped = policies_for_pod(snapshot, pod)
    for rule in scoped.destination_rules:
        tls = rule.tls.mode if rule.tls else "no tls (auto-mTLS)"
        ports = "".join(f", port {p}: {t.mode}" for p, t in sorted(rule.port_tls.items()))
        out.append(Related(rule.ref, f"host {rule.host}: {tls}{ports}"))
    for policy in scoped.authorization_policies:
        what = "deny all" if policy.action == "ALLOW" and not policy.rules else \
            f"{policy.action}, {len(policy.rules)} rules"
        scope = "selects this pod" if policy.selector else (
            "mesh-wide" if policy.namespace == snapshot.mesh.root_namespace else "namespace-wide")
        out.append(Related(policy.ref, f"{what} ({scope})"))
    return tuple(out)


def explain(snapshot: Snapshot, pod: Pod, port: int | None, observed: Iterable[Observed] | None = None,
            observed_source: str = "") -> Explanation:
    """``observed`` is None without a traffic source (nothing is known to have called)."""
    analysis = analyze(snapshot)
    policies = analysis.policies
    result = analysis.port(pod, port) if port is not None else analysis.pod(pod)
    pm = analysis.pod(pod)
    in_mesh = pm.in_mesh
    source = result.source
    mesh_all = policies.mesh_wide
    ns_all = policies.namespace_wide.get(pod.namespace, []) if pod.namespace != policies.root else []
    wl_all = policies.workload_candidates(pod)
    mesh, ns, wl = (mesh_all[0] if mesh_all else None, ns_all[0] if ns_all else None,
                    wl_all[0] if wl_all else None)

    def decided_at(level: str, pa: PeerAuthentication | None) -> bool:
        return in_mesh and pa is not None and source == source_of(pa, level)

    levels = [
        _step("mesh", mesh, mesh_all[1:], mesh.mode if mesh else None, decided_at("mesh", mesh),
              f"no mesh-wide policy in {policies.root}"),
        _step("namespace", ns, ns_all[1:], ns.mode if ns else None, decided_at("namespace", ns),
              f"no namespace-wide policy in {pod.namespace}"),
        _step("workload", wl, wl_all[1:], wl.mode if wl else None,
              decided_at("workload", wl), "no policy selects this pod"),
    ]
    if port is not None:
        entry = wl if wl is not None and port in wl.port_level else None
        levels.append(_step(
            "port", entry, [], entry.port_level[port] if entry else None,
            decided_at("port", wl),
            f"no portLevelMtls for port {port}" if wl is not None else "port levels need a workload policy",
        ))
    if not in_mesh:
        levels.append(LevelStep("default", None, None, NONE, True, (), "no sidecar: plaintext only, "
                                "PeerAuthentication has no effect"))
    elif source == DEFAULT_SOURCE:
        levels.append(LevelStep("default", None, None, PERMISSIVE, True, (),
                                "no policy decides: Istio's default is PERMISSIVE"))
    if pm.captured:
        # Ambient: no sidecar; ztunnel enforces the chain above (meshtui.policy.ambient).
        disabled = asked(snapshot, source, port) == DISABLE
        levels.append(LevelStep("ztunnel", None, None, None, False, (), (
            "ambient: ztunnel enforces this; DISABLE is not supported in ambient and acts as PERMISSIVE"
            if disabled else "ambient: ztunnel enforces this mode (clients in the mesh arrive over HBONE)")))
    seen = _seen(analysis, pod, port, observed or ())
    seen_keys = {(p.client, p.service, p.port) for p in seen}
    failing = []
    for p in failing_to(client_model(snapshot), pod, port):
        client = snapshot.pods.get((p.client.namespace, p.client.name)) if p.client else None
        workload = Ref(workload_of(client)[0], client.namespace, client.workload_name) if client else p.client
        if (workload, p.service, p.port) not in seen_keys:
            failing.append(p)
    return Explanation(pod.ref, port, in_mesh, result.mode, source, tuple(levels), tuple(failing),
                       tuple(seen), observed_source if observed is not None else "", related_objects(snapshot, pod))


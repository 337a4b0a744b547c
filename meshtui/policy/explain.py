"""Why a pod or port has its mode: the chain of levels Istio walks, and who would fail against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from meshtui.model.objects import PeerAuthentication, Pod, Ref
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import asked
from meshtui.policy.clients import ClientPrediction, client_model, failing_to
from meshtui.policy.engine import analyze, decides, source_of
from meshtui.policy.report import DEFAULT_SOURCE, DISABLE, NONE, PERMISSIVE, Source


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
class Explanation:
    pod: Ref
    port: int | None
    sidecar: bool
    mode: str
    source: Source
    levels: tuple[LevelStep, ...]
    failing_clients: tuple[ClientPrediction, ...]


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


def explain(snapshot: Snapshot, pod: Pod, port: int | None) -> Explanation:
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
        has_entry = wl is not None and port in wl.port_level
        levels.append(_step(
            "port", wl if has_entry else None, [], wl.port_level[port] if has_entry else None,
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
    failing = tuple(failing_to(client_model(snapshot), pod, port))
    return Explanation(pod.ref, port, in_mesh, result.mode, source, tuple(levels), failing)

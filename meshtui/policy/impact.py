"""What a proposed change does before it is applied: mode changes, newly failing clients, new
DestinationRule conflicts and newly exposed STRICT ports. Feeds the "preview before apply" screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from meshtui.model.objects import Pod, Ref, Service
from meshtui.model.snapshot import Snapshot
from meshtui.policy.clients import (
    FAIL,
    ClientModel,
    ClientPrediction,
    auto_only,
    client_groups,
    fqdn,
    host_matches,
    outcome,
    service_port,
)
from meshtui.policy.engine import Analysis, analyze
from meshtui.policy.findings import destination_rule_mtls_findings, exposure_findings
from meshtui.policy.report import DISABLE, Finding
from meshtui.policy.services import target_port

# (client pod, or "namespace/name" for a caller not in the snapshot; server namespace; service; port)
Observed = tuple[Pod | str, str, str, int]


@dataclass(frozen=True, slots=True)
class ModeChange:
    pod: Pod
    port: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Impact:
    changes: tuple[ModeChange, ...]
    failing_clients: tuple[ClientPrediction, ...]
    rule_conflicts: tuple[Finding, ...]
    exposures: tuple[Finding, ...]


def mode_changes(before: Analysis, after: Analysis) -> list[ModeChange]:
    out = []
    for key, pod in sorted(after.snapshot.pods.items()):
        old_pod = before.snapshot.pods.get(key)
        if old_pod is None:
            continue
        old = {p.port: p.mode for p in before.pod(old_pod).ports}
        for p in after.pod(pod).ports:
            if p.port in old and old[p.port] != p.mode:
                out.append(ModeChange(pod, p.port, old[p.port], p.mode))
    return out


def _changed_rule_hosts(before: Snapshot, after: Snapshot) -> dict[tuple[str, str], Service]:
    """Services whose DestinationRule set may have changed."""
    changed = [r for k, r in after.destination_rules.items() if before.destination_rules.get(k) != r]
    changed += [r for k, r in before.destination_rules.items() if k not in after.destination_rules]
    patterns = {fqdn(r.host, r.namespace) for r in changed}
    return {k: s for k, s in after.services.items() if any(host_matches(p, s.fqdn) for p in patterns)}


def _newly_failing(before: ClientModel, after: ClientModel, services: Iterable[Service],
                   endpoints: dict[tuple[str, str], list[Pod]]) -> list[ClientPrediction]:
    out: list[ClientPrediction] = []
    for group in client_groups(after.analysis, after.rules):
        rep = group[0]
        old_rep = before.analysis.snapshot.pods.get(rep.key, rep)
        for svc in services:
            old_svc = before.analysis.snapshot.services.get((svc.namespace, svc.name))
            if auto_only(after, rep, svc) and (old_svc is None or auto_only(before, old_rep, old_svc)):
                continue
            # Without a mode change (a DestinationRule change), every endpoint is concerned.
            pods = endpoints.get((svc.namespace, svc.name)) or after.analysis.services.pods_of(svc)
            for sp in svc.ports:
                for server in sorted(pods, key=lambda p: p.name):
                    new = after.predict_endpoint(rep, svc, sp.port, server)
                    if new is None or new.outcome != FAIL:
                        continue
                    old_server = before.analysis.snapshot.pods.get(server.key)
                    old = None
                    if old_svc is not None and old_server is not None and any(
                        p.port == sp.port for p in old_svc.ports
                    ):
                        old = before.predict_endpoint(old_rep, old_svc, sp.port, old_server)
                    if old is not None and old.outcome == FAIL:
                        continue
                    out.extend(new.for_client(m.ref) for m in group if m.key != server.key)
                    break  # one failing endpoint is enough for this client and port
    return out


def _observed_failures(before: ClientModel, after: ClientModel,
                       observed: Iterable[Observed]) -> list[ClientPrediction]:
    out = []
    for client, ns, name, port in observed:
        svc = after.analysis.snapshot.services.get((ns, name))
        if svc is None or not any(p.port == port for p in svc.ports):
            continue
        pred: ClientPrediction | None
        if isinstance(client, Pod):
            pred = after.predict(client, svc, port)
        else:
            pred = _plaintext_caller(after.analysis, client, svc, port)
        if pred is None or pred.outcome != FAIL:
            continue
        old_svc = before.analysis.snapshot.services.get((ns, name))
        if old_svc is not None and any(p.port == port for p in old_svc.ports):
            old = (before.predict(client, old_svc, port) if isinstance(client, Pod)
                   else _plaintext_caller(before.analysis, client, old_svc, port))
            if old is not None and old.outcome == FAIL:
                continue
        out.append(pred)
    return out


def _plaintext_caller(analysis: Analysis, client: str, svc: Service, port: int) -> ClientPrediction | None:
    """A caller seen sending plaintext (from logs) that is not a pod in the snapshot."""
    ns, _, name = client.partition("/")
    sp = service_port(svc, port)
    for server in analysis.services.pods_of(svc):
        tp = target_port(sp, server)
        if tp is None:
            continue
        mode = analysis.port(server, tp).mode
        result, reason = outcome(DISABLE, mode, tp)
        pred = ClientPrediction(DISABLE, "observed plaintext", mode, result, reason,
                                client=Ref("Pod", ns if name else "", name or ns), service=svc.ref,
                                port=port, target_port=tp, server=server.ref)
        if result == FAIL:
            return pred
    return None


def impact(before: Snapshot, after: Snapshot, observed: Iterable[Observed] = ()) -> Impact:
    a_before, a_after = analyze(before), analyze(after)
    m_before, m_after = ClientModel(a_before), ClientModel(a_after)
    changes = mode_changes(a_before, a_after)

    rule_services = _changed_rule_hosts(before, after)
    endpoints: dict[tuple[str, str], list[Pod]] = {}
    for change in changes:
        for svc in a_after.services.services_of(change.pod):
            if (svc.namespace, svc.name) in rule_services:
                continue
            pods = endpoints.setdefault((svc.namespace, svc.name), [])
            if change.pod not in pods:
                pods.append(change.pod)
    services = {**{k: after.services[k] for k in endpoints}, **rule_services}
    failing = _newly_failing(m_before, m_after, [services[k] for k in sorted(services)], endpoints)
    # A caller seen sending plaintext *will* fail: that replaces the engine's "could fail if it calls".
    seen_calls = _observed_failures(m_before, m_after, observed)
    seen = {(p.client, p.service, p.port) for p in seen_calls}
    failing = [p for p in failing if (p.client, p.service, p.port) not in seen] + seen_calls

    def new_findings(check: Callable[[Analysis], Iterable[Finding]]) -> tuple[Finding, ...]:
        # Same problem on the same resource counts as old even when its example text differs.
        old = {(f.code, f.ref) for f in check(a_before)}
        return tuple(f for f in check(a_after) if (f.code, f.ref) not in old)

    return Impact(
        changes=tuple(changes),
        failing_clients=tuple(failing),
        rule_conflicts=new_findings(destination_rule_mtls_findings),
        exposures=new_findings(exposure_findings),
    )

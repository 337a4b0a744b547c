"""Migration steps and preflight on the demo mesh (pure: snapshot in, steps and findings out)."""

from __future__ import annotations

import pytest

from meshtui.migrate.observe import PlaintextCaller
from meshtui.migrate.plan import build_steps, namespace_order, policy_edges
from meshtui.migrate.preflight import preflight
from meshtui.migrate.scope import PortException, Scope
from meshtui.model.snapshot import Snapshot
from meshtui.policy.evaluate import evaluate

KS = "kubestock-staging"
BATCH = PlaintextCaller("legacy", "batch-reporter", KS, "ms-inventory", 3001, 0.25)
NODEPORT = PortException(KS, "frontend", 3000, "external clients via frontend NodePort 30300")
INVENTORY = PortException(KS, "ms-inventory", 3001, "legacy/batch-reporter")


@pytest.mark.parametrize(("namespaces", "edges", "order"), [
    (["b", "a"], [], ["a", "b"]),
    (["a", "b"], [("b", "a")], ["b", "a"]),  # the client's namespace first
    (["a", "b", "c"], [("c", "b"), ("b", "a")], ["c", "b", "a"]),
    (["a", "b"], [("a", "b"), ("b", "a")], ["a", "b"]),  # a cycle is cut at its first name
    (["a", "b"], [("x", "a"), ("b", "x")], ["a", "b"]),  # edges through namespaces outside do not count
])
def test_namespace_order_puts_clients_first(namespaces: list[str], edges: list[tuple[str, str]],
                                            order: list[str]) -> None:
    assert namespace_order(namespaces, edges) == order


def test_policy_edges_read_principals_of_authorization_policies(demo_snapshot: Snapshot) -> None:
    # The tenants' allow-ingress policies name the ingress gateway's principal.
    assert ("istio-system", "tenant-b-orders") in policy_edges(demo_snapshot)


def codes(report: object) -> list[tuple[str, str]]:
    return [(i.finding.code, i.finding.name) for i in report.blockers]  # type: ignore[attr-defined]


def test_kubestock_is_blocked_by_the_nodeport_and_by_batch_reporter(demo_snapshot: Snapshot) -> None:
    report = preflight(demo_snapshot, Scope.of([KS]), callers=[BATCH])
    assert not report.ready
    assert codes(report) == [("MIG005", "frontend"), ("MIG007", "batch-reporter")]
    actions = [i.action for i in report.blockers]
    assert [a.exception for a in actions if a] == [NODEPORT, INVENTORY]
    assert [s.title for s in report.steps] == ["Set mTLS STRICT on namespace kubestock-staging"]


def test_accepted_exceptions_come_first_and_clear_their_blockers(demo_snapshot: Snapshot) -> None:
    report = preflight(demo_snapshot, Scope.of([KS]), [INVENTORY, NODEPORT], callers=[BATCH])
    assert report.ready
    assert [(s.n, s.kind) for s in report.steps] == [(1, "exception"), (2, "exception"), (3, "namespace")]
    final = evaluate(report.steps[-1].plan.predicted)
    modes = {(pm.pod.workload_name, p.port): p.mode for pm in final.pods.values()
             if pm.pod.namespace == KS for p in pm.ports}
    assert modes[("ms-inventory", 3001)] == "PERMISSIVE"
    assert modes[("frontend", 3000)] == "PERMISSIVE"
    assert modes[("ms-product", 3003)] == "STRICT"
    assert "kubestock-staging/ms-product:3003" in report.steps[-1].affects


def test_researchflow_needs_its_workers_restarted(demo_snapshot: Snapshot) -> None:
    report = preflight(demo_snapshot, Scope.of(["researchflow"]))
    assert codes(report) == [("MIG002", "worker")]
    action = report.blockers[0].action
    assert action is not None and (action.type, action.workloads) == ("restart", ("Deployment/worker",))


def test_tenant_b_is_ready_with_warnings_only(demo_snapshot: Snapshot) -> None:
    report = preflight(demo_snapshot, Scope.of(["tenant-b-orders"]))
    assert report.ready
    warned = {i.finding.code for i in report.warnings}
    assert {"MIG003", "MIG006"} <= warned  # old proxies; principal-matching policies


def test_mesh_scope_ends_with_mesh_wide_strict_and_skips_done_namespaces(demo_snapshot: Snapshot) -> None:
    steps = build_steps(demo_snapshot, Scope.of(mesh=True), [NODEPORT, INVENTORY])
    assert [s.kind for s in steps] == ["exception", "exception", "namespace", "namespace", "namespace", "mesh"]
    assert "tenant-a-orders" not in [s.namespace for s in steps]  # already STRICT: nothing to plan
    assert steps[-1].plan.needs_typed_confirmation


def test_steps_already_applied_drop_out(demo_snapshot: Snapshot) -> None:
    first = build_steps(demo_snapshot, Scope.of(["tenant-b-orders"]))
    again = build_steps(first[-1].plan.predicted, Scope.of(["tenant-b-orders"]))
    assert len(first) == 1 and again == []


def test_a_destination_rule_sending_plaintext_blocks(demo_snapshot: Snapshot) -> None:
    from dataclasses import replace

    from meshtui.model.objects import TLSSettings

    key = (KS, "ms-product")
    rule = replace(demo_snapshot.destination_rules[key], tls=TLSSettings("DISABLE"))
    snap = replace(demo_snapshot, destination_rules={**demo_snapshot.destination_rules, key: rule})
    report = preflight(snap, Scope.of([KS]), [NODEPORT, INVENTORY])
    assert codes(report) == [("MIG004", "ms-product")]

"""Ambient mode against the backends: label changes over HTTP (KubeBackend on the emulator) with dry run,
journal and undo; and the demo's ztunnel logs, metrics and istio-cni redirection on the demo cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from meshtui.backend.base import LogOptions
from meshtui.backend.kube import KubeBackend
from meshtui.change.apply import apply_plan
from meshtui.change.journal import Journal, undo_last
from meshtui.change.plan import ambient_plan, ambient_workload_plan
from meshtui.demo.apiserver import Emulator
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.logs.parser import parse_line
from meshtui.logs.ztunnel import involves
from meshtui.policy.evaluation import evaluate
from meshtui.tls.ztunnel_metrics import by_source, parse
from tests.backend.conftest import START

LABEL = "istio.io/dataplane-mode"


def labels(kube: KubeBackend, name: str) -> dict[str, str]:
    ns = kube.get("Namespace", "", name)
    assert ns is not None
    return ns["metadata"].get("labels") or {}


def test_add_and_remove_a_namespace_over_http_with_dry_run_journal_and_undo(
    kube: KubeBackend, emulator: Emulator, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    plan = ambient_plan(kube.snapshot(), "legacy", enabled=True)
    assert apply_plan(kube, plan, dry_run=True).ok
    assert LABEL not in labels(kube, "legacy")
    result = apply_plan(kube, plan, dry_run=False)
    assert result.ok, result.error
    journal.record(kube.context, plan.title, result)
    assert labels(kube, "legacy")[LABEL] == "ambient"
    patches = [r for r in emulator.requests if r[0] == "PATCH" and r[1] == "/api/v1/namespaces/legacy"]
    assert patches, "the label goes out as a PATCH of the namespace"
    assert undo_last(kube, journal, kube.context).status == "undone"
    assert LABEL not in labels(kube, "legacy")


def test_moving_a_sidecar_namespace_drops_the_injection_label_over_http(kube: KubeBackend) -> None:
    plan = ambient_plan(kube.snapshot(), "kubestock-staging", enabled=True)
    assert plan.title == "Move kubestock-staging from sidecars to ambient"
    assert apply_plan(kube, plan, dry_run=False).ok
    after = labels(kube, "kubestock-staging")
    assert after[LABEL] == "ambient" and "istio-injection" not in after


def test_opt_a_workload_out_patches_its_template_over_http(kube: KubeBackend, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    snap = kube.snapshot()
    web = snap.workloads[("payments", "Deployment/ledger")]
    plan = ambient_workload_plan(snap, web, opt_out=True)
    result = apply_plan(kube, plan, dry_run=False)
    assert result.ok, result.error
    journal.record(kube.context, plan.title, result)
    deployment = kube.get("Deployment", "payments", "ledger")
    assert deployment is not None
    assert deployment["spec"]["template"]["metadata"]["labels"][LABEL] == "none"
    assert undo_last(kube, journal, kube.context).status == "undone"
    deployment = kube.get("Deployment", "payments", "ledger")
    assert deployment is not None and LABEL not in deployment["spec"]["template"]["metadata"]["labels"]


# --- the simulated mesh ---------------------------------------------------------------------------

@pytest.fixture
def demo(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend(ManualClock(START))


def lines(b: DemoBackend, namespace: str, pod: str) -> list[str]:
    return list(b.proxy_logs(namespace, pod, LogOptions(tail_lines=None, follow=False), threading.Event()))


def test_ztunnel_logs_every_connection_of_the_ambient_pods(demo: DemoBackend) -> None:
    b = demo
    b.cluster.advance(60)
    snap = b.snapshot()
    ledger = next(p for p in snap.pods_in("payments") if p.labels.get("app") == "ledger")
    ztunnel = next(p for p in snap.pods.values() if p.is_ztunnel and p.node == ledger.node)
    records = [parse_line(line) for line in lines(b, ztunnel.namespace, ztunnel.name)]
    assert records and all(r.kind == "ztunnel" for r in records)
    mine = [r for r in records if involves(r, ledger)]
    refused = [r for r in mine if r.mtls_problem == "ztunnel_policy"]
    assert refused and all(r.ztunnel and r.ztunnel.src_namespace == "legacy" and r.ztunnel.src_identity is None
                           for r in refused)
    via_waypoint = [r for r in mine if r.ztunnel and r.ztunnel.src_workload and
                    r.ztunnel.src_workload.startswith("waypoint-")]
    assert via_waypoint and all(r.ztunnel and r.ztunnel.src_identity for r in via_waypoint)


def test_ztunnel_metrics_count_plaintext_and_mtls_sources(demo: DemoBackend) -> None:
    b = demo
    b.cluster.advance(60)
    snap = b.snapshot()
    ledger = next(p for p in snap.pods_in("payments") if p.labels.get("app") == "ledger")
    ztunnel = next(p for p in snap.pods.values() if p.is_ztunnel and p.node == ledger.node)
    seen = by_source(parse(b.proxy_stats(ztunnel.namespace, ztunnel.name)), "payments", "ledger")
    assert set(seen[("legacy", "batch-reporter")]) == {"unknown"}
    # payments-api's calls go through the namespace's waypoint: ledger's ztunnel sees the waypoint's HBONE.
    assert set(seen[("payments", "waypoint")]) == {"mutual_tls"}
    assert ("payments", "payments-api") not in seen


def test_istio_cni_redirects_after_the_label_and_restarted_pods_come_back_redirected(demo: DemoBackend) -> None:
    b = demo
    assert apply_plan(b, ambient_plan(b.snapshot(), "legacy", enabled=True), dry_run=False).ok
    b.cluster.advance(2)
    report = evaluate(b.snapshot())
    assert all(pm.captured for key, pm in report.pods.items() if key[0] == "legacy")
    assert apply_plan(b, ambient_plan(b.snapshot(), "legacy", enabled=False), dry_run=False).ok
    b.cluster.advance(2)
    assert not any(pm.in_mesh for key, pm in evaluate(b.snapshot()).pods.items() if key[0] == "legacy")
    b.restart_workload("Deployment", "payments", "ledger")
    b.cluster.advance(timedelta(seconds=30).total_seconds())
    pods = [p for p in b.snapshot().pods_in("payments") if p.labels.get("app") == "ledger" and not p.deleting]
    assert pods and all(evaluate(b.snapshot()).pods[p.key].captured for p in pods)


def test_ztunnel_metrics_read_over_pods_proxy(kube: KubeBackend, emulator: Emulator, demo: DemoBackend) -> None:
    b = demo
    b.cluster.advance(30)
    ztunnel = next(p for p in b.snapshot().pods.values() if p.is_ztunnel)
    text = b.proxy_stats(ztunnel.namespace, ztunnel.name)
    # ztunnel answers /stats/prometheus on :15020 as a sidecar's pilot-agent does.
    emulator.set_proxy_response(ztunnel.namespace, ztunnel.name, 15020, "stats/prometheus", text)
    rows = parse(kube.proxy_stats(ztunnel.namespace, ztunnel.name))
    assert rows and rows == parse(text)

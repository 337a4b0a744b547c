"""Ambient change plans: namespace labels (no restart), moving from sidecars, workload opt-out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshtui.change.plan import PlanError, ambient_plan, ambient_workload_plan, workloads_to_restart
from meshtui.policy.evaluate import evaluate
from tests.objects import deployment, namespace, pod
from tests.unit.change.test_plan import snap

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WEB = {"app": "web"}
REDIRECTED = {"ambient.istio.io/redirection": "enabled"}


def ambient_pod(name: str) -> dict:
    body = pod("shop", name, WEB, sidecar=False)
    body["metadata"]["annotations"] = dict(REDIRECTED)
    return body


def test_add_namespace_to_ambient_is_one_label_and_says_no_restart():
    s = snap(namespace("shop"), deployment("shop", "web", WEB), pod("shop", "web-1", WEB, sidecar=False))
    plan = ambient_plan(s, "shop", enabled=True, now=NOW)
    [change] = plan.changes
    assert change.op == "label"
    assert change.after["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"
    assert any("No restart needed" in n for n in plan.notes)
    assert plan.predicted.namespaces[("", "shop")].dataplane == "ambient"


def test_moving_from_sidecars_drops_injection_and_asks_for_restart():
    s = snap(namespace("shop", **{"istio-injection": "enabled"}), deployment("shop", "web", WEB),
             pod("shop", "web-1", WEB, sidecar=True))
    plan = ambient_plan(s, "shop", enabled=True, now=NOW)
    labels = plan.changes[0].after["metadata"]["labels"]
    assert "istio-injection" not in labels and labels["istio.io/dataplane-mode"] == "ambient"
    assert plan.title == "Move shop from sidecars to ambient"
    assert any("restart" in n and "sidecar wins" in n for n in plan.notes)
    # The guided second step: the workloads whose pods still carry a sidecar.
    assert [w.name for w in workloads_to_restart(plan.predicted, "shop", want_sidecar=False)] == ["web"]


def test_remove_namespace_from_ambient_and_nothing_to_do():
    s = snap(namespace("shop", **{"istio.io/dataplane-mode": "ambient"}), ambient_pod("web-1"))
    plan = ambient_plan(s, "shop", enabled=False, now=NOW)
    assert "istio.io/dataplane-mode" not in plan.changes[0].after["metadata"]["labels"]
    assert any("No restart needed" in n for n in plan.notes)
    assert ambient_plan(plan.predicted, "shop", enabled=False, now=NOW).empty
    with pytest.raises(PlanError):
        ambient_plan(s, "nope", enabled=True)


def test_workload_opt_out_patches_the_template_and_predicts_pods_leave_the_mesh():
    s = snap(namespace("shop", **{"istio.io/dataplane-mode": "ambient"}), deployment("shop", "web", WEB),
             ambient_pod("web-1"))
    web = s.workloads[("shop", "Deployment/web")]
    plan = ambient_workload_plan(s, web, opt_out=True, now=NOW)
    [change] = plan.changes
    assert change.op == "patch"
    assert change.after["spec"]["template"]["metadata"]["labels"]["istio.io/dataplane-mode"] == "none"
    assert evaluate(s).pods[("shop", "web-1")].captured
    assert not evaluate(plan.predicted).pods[("shop", "web-1")].in_mesh
    back = ambient_workload_plan(plan.predicted, plan.predicted.workloads[("shop", "Deployment/web")],
                                 opt_out=False, now=NOW)
    assert evaluate(back.predicted).pods[("shop", "web-1")].captured
    assert ambient_workload_plan(s, web, opt_out=False).empty

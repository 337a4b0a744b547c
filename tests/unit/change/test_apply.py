from collections.abc import Callable

import pytest

from meshtui.change.apply import ReadOnlyError, apply_changes, apply_plan
from meshtui.change.plan import MtlsScope, ObjectChange, injection_plan, mtls_plan, restart_plan
from tests.kube_cluster import Cluster
from tests.objects import deployment, namespace, peer_auth, portlevel_without_selector

WEB = {"app": "web"}


@pytest.fixture
def b(cluster: Callable[..., Cluster]) -> Cluster:
    return cluster(
        [
            namespace("istio-system"),
            namespace("shop", **{"istio-injection": "enabled"}),
            deployment("shop", "web", WEB),
            peer_auth("shop", "default", mode="PERMISSIVE"),
        ]
    )


def specs(b: Cluster) -> dict[tuple[str, str], dict]:
    return {(k[1], k[2]): v.get("spec") for k, v in b.store.items() if k[0] == "PeerAuthentication"}


def web_port_plan(b: Cluster, mode: str = "STRICT"):
    s = b.snapshot()
    return mtls_plan(s, MtlsScope.of_port(s.workloads[("shop", "Deployment/web")], 8080), mode)


@pytest.mark.parametrize(
    "plan_of",
    [
        lambda s: mtls_plan(s, MtlsScope.of_namespace("shop"), "STRICT"),
        lambda s: mtls_plan(s, MtlsScope.of_namespace("shop"), "UNSET"),
        lambda s: mtls_plan(s, MtlsScope.mesh(), "STRICT"),
        lambda s: injection_plan(s, "shop", enabled=False),
        lambda s: restart_plan(s, list(s.workloads.values())),
    ],
)
def test_dry_run_sends_every_object_and_changes_nothing(b: Cluster, plan_of) -> None:
    before = {k: dict(v) for k, v in b.store.items()}
    plan = plan_of(b.snapshot())
    result = apply_plan(b, plan, dry_run=True)
    assert result.ok and result.dry_run and not result.applied
    assert [c[3] for c in b.calls] == [True] * len(plan.changes) and b.calls
    assert b.store == before


def test_apply_for_real_changes_the_objects_and_reports_their_new_versions(b: Cluster) -> None:
    result = apply_plan(b, mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT"), dry_run=False)
    assert result.ok and specs(b)[("shop", "default")] == {"mtls": {"mode": "STRICT"}}
    (outcome,) = result.applied
    assert (
        outcome.result["metadata"]["resourceVersion"]
        == b.store[("PeerAuthentication", "shop", "default")]["metadata"]["resourceVersion"]
    )


def test_dry_run_surfaces_every_server_rejection(b: Cluster) -> None:
    bad = portlevel_without_selector("shop")
    result = apply_changes(b, [bad, bad], dry_run=True)
    assert not result.ok and [o.ok for o in result.outcomes] == [False, False]
    assert "portLevelMtls requires selector" in result.error


def test_failure_midway_rolls_back_what_was_applied(b: Cluster) -> None:
    before = {k: dict(v) for k, v in b.store.items()}
    s = b.snapshot()
    first = mtls_plan(s, MtlsScope.of_namespace("shop"), "STRICT").changes
    second = web_port_plan(b).changes
    # portLevelMtls without a selector is rejected by Istio's validation with 422.
    invalid = portlevel_without_selector("shop")
    label = injection_plan(s, "shop", enabled=False).changes
    result = apply_changes(b, [*first, *second, *label, invalid], dry_run=False)
    assert not result.ok and not result.conflict and not result.applied
    assert result.rolled_back == (
        "Namespace shop",
        "PeerAuthentication shop/web-mtls",
        "PeerAuthentication shop/default",
    )
    assert result.rollback_failed == ()
    assert "create PeerAuthentication shop/ports" in result.error
    assert specs(b) == {
        k: v.get("spec") for k, v in ((k[1:], v) for k, v in before.items() if k[0] == "PeerAuthentication")
    }
    assert b.store[("Namespace", "", "shop")]["metadata"]["labels"]["istio-injection"] == "enabled"


def test_rollback_recreates_a_deleted_policy(b: Cluster) -> None:
    delete = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "UNSET").changes
    invalid = ObjectChange(
        "PeerAuthentication", "shop", "x", None, peer_auth("shop", "x", ports={"1": "STRICT"}), "create"
    )
    result = apply_changes(b, [*delete, invalid], dry_run=False)
    assert result.rolled_back == ("PeerAuthentication shop/default",)
    assert specs(b) == {("shop", "default"): {"mtls": {"mode": "PERMISSIVE"}}}


def test_conflict_when_the_object_changed_after_it_was_read(b: Cluster) -> None:
    plan = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    b.patch("PeerAuthentication", "shop", "default", {"spec": {"mtls": {"mode": "DISABLE"}}})
    result = apply_plan(b, plan, dry_run=False)
    assert result.conflict and not result.ok
    assert specs(b)[("shop", "default")] == {"mtls": {"mode": "DISABLE"}}


def test_read_only_refuses_even_a_dry_run(b: Cluster) -> None:
    plan = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    for dry_run in (True, False):
        with pytest.raises(ReadOnlyError):
            apply_plan(b, plan, dry_run=dry_run, read_only=True)
    assert b.calls == []

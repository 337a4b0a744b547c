"""impact(): what a proposed change breaks before it is applied."""

from __future__ import annotations

from policy_factories import dr, pa, pod, snap, svc

from meshtui.model.snapshot import ChangeEvent, Snapshot
from meshtui.policy.impact import ModeChange, impact

WEB = {"app": "web"}


def _mesh() -> Snapshot:
    web = pod("shop", "web-1", WEB)
    legacy = pod("front", "legacy-1", {"app": "legacy"}, sidecar=False)
    meshed = pod("front", "ok-1", {"app": "ok"})
    return snap(web, legacy, meshed, svc("shop", "web", WEB, type="NodePort"))


def test_going_strict() -> None:
    before = _mesh()
    after = before.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    result = impact(before, after, observed=[("outside/curl", "shop", "web", 80)])
    assert result.changes == (ModeChange(after.pods[("shop", "web-1")], 8080, "PERMISSIVE", "STRICT"),)
    assert sorted(p.client.name for p in result.failing_clients) == ["curl", "legacy-1"]
    assert [f.code for f in result.exposures] == ["MT0008"]
    assert result.rule_conflicts == ()


def test_no_change_no_impact() -> None:
    before = _mesh()
    after = before.apply([ChangeEvent("ADDED", pa("shop", "default", "PERMISSIVE"))])
    result = impact(before, after, observed=[("outside/curl", "shop", "web", 80)])
    assert (result.changes, result.failing_clients, result.exposures) == ((), (), ())
    assert result.rule_conflicts == ()


def test_already_failing_clients_are_not_new() -> None:
    before = _mesh()
    strict = before.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    stricter = strict.apply([ChangeEvent("ADDED", pa("shop", "wl", "STRICT", WEB))])
    assert impact(strict, stricter).failing_clients == ()


def test_destination_rule_change() -> None:
    before = _mesh()
    strict = before.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    after = strict.apply(
        [ChangeEvent("ADDED", dr("front", "plain", "web.shop.svc.cluster.local", "DISABLE"))]
    )
    result = impact(strict, after)
    assert result.changes == ()
    assert [p.client.name for p in result.failing_clients] == ["ok-1"]
    assert [(f.code, f.name) for f in result.rule_conflicts] == [("MT0001", "plain")]


def test_observed_pod_client() -> None:
    before = _mesh()
    legacy = before.pods[("front", "legacy-1")]
    after = before.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    result = impact(
        before, after, observed=[(legacy, "shop", "web", 80), ("front/gone", "shop", "nosuch", 80)]
    )
    assert [p.client.name for p in result.failing_clients] == ["legacy-1"]

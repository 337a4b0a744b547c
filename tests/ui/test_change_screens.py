from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen

from meshtui.change.journal import Journal
from meshtui.change.plan import MtlsScope, mtls_plan
from meshtui.change.ports import PortChoice
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.model.convert import from_k8s
from meshtui.model.snapshot import Snapshot
from meshtui.screens.change import InjectionChoice, InjectionScreen, ModeChoice, ModePickerScreen
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.change_restart import RestartScreen
from tests.kube_cluster import Cluster
from tests.objects import (
    deployment,
    namespace,
    peer_auth,
    pod,
    portlevel_without_selector,
)

WEB = {"app": "web"}


class Host(App[None]):
    """Pushes one screen, as the main screen would, and keeps what it dismissed with."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.screen_under_test = screen
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.screen_under_test, self.results.append)


@pytest.fixture
def b(cluster: Callable[..., Cluster]) -> Cluster:
    return cluster(
        [
            namespace("istio-system"),
            namespace("shop"),
            deployment("shop", "web", WEB),
            peer_auth("shop", "default", mode="PERMISSIVE"),
        ]
    )


def store_of(b: Cluster) -> dict:
    return {k: dict(v) for k, v in b.store.items()}


async def settle(app: Host, pilot) -> None:
    """Let workers finish and their messages be handled."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def preview(b: Cluster, plan, **kw) -> tuple[Host, PreviewScreen]:
    screen = PreviewScreen(plan, b, **kw)
    return Host(screen), screen


async def test_preview_runs_the_dry_run_then_one_key_applies_and_journals(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    app, screen = preview(
        b, mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT"), journal=journal
    )
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert screen.dry_run is not None and screen.dry_run.ok
        assert [c[3] for c in b.calls] == [True]
        await pilot.press("enter")
        await settle(app, pilot)
    (result,) = app.results
    assert result.ok and b.get("PeerAuthentication", "shop", "default")["spec"] == {
        "mtls": {"mode": "STRICT"}
    }
    assert [e.title for e in journal.entries()] == ["Set mTLS STRICT on namespace shop"]


@pytest.mark.parametrize("keys", [["escape"], ["y", "escape"]])
async def test_preview_cancel_changes_nothing(b: Cluster, keys: list[str], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    before = store_of(b)
    plan = mtls_plan(b.snapshot(), MtlsScope.mesh(), "STRICT")
    app, _ = preview(b, plan, journal=journal)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        # The mesh-wide STRICT gate holds back "y": it is typed into the word box instead.
        for key in keys:
            await pilot.press(key)
        await settle(app, pilot)
    assert app.results == [None]
    assert store_of(b) == before and all(dry for *_, dry in b.calls)
    assert journal.entries() == []


async def test_mesh_wide_strict_needs_the_word_typed(b: Cluster) -> None:
    plan = mtls_plan(b.snapshot(), MtlsScope.mesh(), "STRICT")
    app, screen = preview(b, plan)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert screen.dry_run.ok and not screen.can_confirm
        await pilot.press("S", "T", "R", "I", "C")
        assert not screen.can_confirm
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.results == [] and b.get("PeerAuthentication", "istio-system", "default") is None
        await pilot.press("T")
        assert screen.can_confirm
        await pilot.press("enter")
        await settle(app, pilot)
    assert app.results[0].ok
    assert b.get("PeerAuthentication", "istio-system", "default")["spec"] == {"mtls": {"mode": "STRICT"}}


async def test_server_rejection_in_the_dry_run_disables_confirm(b: Cluster) -> None:
    base = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    invalid = portlevel_without_selector("shop")
    plan = type(base)(base.title, base.scope, (*base.changes, invalid), base.before, base.predicted)
    app, screen = preview(b, plan)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert "REJECTED" in str(screen.query_one("#dry-run").render())
        assert "portLevelMtls requires selector" in str(screen.query_one("#dry-run").render())
        await pilot.press("enter")
        await settle(app, pilot)
    assert app.results == [] and all(dry for *_, dry in b.calls)


async def test_read_only_preview_sends_nothing_and_cannot_confirm(b: Cluster) -> None:
    app, screen = preview(
        b, mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT"), read_only=True
    )
    async with app.run_test() as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "read-only" in str(screen.query_one("#dry-run").render())
    assert b.calls == [] and app.results == []


async def test_conflict_on_apply_is_reported_for_a_re_read(b: Cluster) -> None:
    app, _ = preview(b, mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT"))
    async with app.run_test() as pilot:
        await settle(app, pilot)
        b.patch("PeerAuthentication", "shop", "default", {"spec": {"mtls": {"mode": "DISABLE"}}})
        await pilot.press("enter")
        await settle(app, pilot)
    (result,) = app.results
    assert result.conflict and b.get("PeerAuthentication", "shop", "default")["spec"]["mtls"] == {
        "mode": "DISABLE"
    }


PORTS = [
    PortChoice(8080, "http", ("web:80 (http)",), "PERMISSIVE", "namespace: PeerAuthentication shop/default"),
    PortChoice(9090, "metrics", (), "PERMISSIVE", "namespace: PeerAuthentication shop/default"),
]


@pytest.mark.parametrize(
    ("ports", "keys", "expected"),
    [
        ((), ["up", "enter"], ModeChoice("STRICT")),  # starts on the current mode, PERMISSIVE
        ((), ["down", "down", "enter"], ModeChoice("UNSET")),
        (PORTS, ["down", "enter", "up", "enter"], ModeChoice("STRICT", 9090)),
        (PORTS, ["enter", "escape"], None),
    ],
)
async def test_mode_picker(ports, keys: list[str], expected) -> None:
    app = Host(
        ModePickerScreen(
            "Deployment shop/web", "PERMISSIVE", "namespace: PeerAuthentication shop/default", ports
        )
    )
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    assert app.results == [expected]


@pytest.mark.parametrize(
    ("revisions", "keys", "expected"),
    [
        ((), ["enter"], InjectionChoice(True)),
        ((), ["down", "enter"], InjectionChoice(False)),
        (("1-24", "canary"), ["down", "enter"], InjectionChoice(True, "canary")),
        (("1-24",), ["escape"], None),
    ],
)
async def test_injection_picker(revisions, keys: list[str], expected) -> None:
    app = Host(InjectionScreen("shop", "none", revisions))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
    assert app.results == [expected]


def shop_snapshot(*pods: dict) -> Snapshot:
    objs = [namespace("shop", **{"istio-injection": "enabled"}), deployment("shop", "web", WEB), *pods]
    return Snapshot.build([from_k8s(o) for o in objs])


def waiting_pod(name: str, reason: str) -> dict:
    p = pod("shop", name, WEB, sidecar=True)
    p["status"] = {
        "phase": "Pending",
        "containerStatuses": [
            {"name": "app", "ready": False, "state": {"waiting": {"reason": reason}}},
            {"name": "istio-proxy", "ready": True, "state": {"running": {}}},
        ],
    }
    return p


def ready_pod(name: str) -> dict:
    p = pod("shop", name, WEB, sidecar=True)
    p["status"] = {
        "phase": "Running",
        "containerStatuses": [
            {"name": c, "ready": True, "state": {"running": {}}} for c in ("app", "istio-proxy")
        ],
    }
    return p


async def test_restart_progress_until_ready(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    snap = shop_snapshot(pod("shop", "web-old", WEB, sidecar=False))
    screen = RestartScreen(b, snap, list(snap.workloads.values()), want_sidecar=True, journal=journal)
    app = Host(screen)
    async with app.run_test() as pilot:
        await pilot.press("r")
        await settle(app, pilot)
        assert ("patch", "Deployment", "web", False) in b.calls and screen.phase == "restarting"
        screen.update_cluster(
            shop_snapshot(pod("shop", "web-old", WEB, sidecar=False), ready_pod("web-new"))
        , None)
        assert screen.phase == "restarting"
        screen.update_cluster(shop_snapshot(ready_pod("web-new")), None)
        assert screen.phase == "done"
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [True]
    assert [e.title for e in journal.entries()] == ["Restart 1 workload(s)"]


async def test_restart_timeout_names_the_reason(b: Cluster) -> None:
    now = [0.0]
    snap = shop_snapshot(pod("shop", "web-old", WEB, sidecar=False))
    screen = RestartScreen(
        b, snap, list(snap.workloads.values()), want_sidecar=True, timeout=60, clock=lambda: now[0]
    )
    app = Host(screen)
    async with app.run_test() as pilot:
        await pilot.press("r")
        await settle(app, pilot)
        screen.update_cluster(shop_snapshot(waiting_pod("web-new", "ImagePullBackOff")), None)
        now[0] = 61.0
        await pilot.pause(1.2)
        assert screen.phase == "timed-out"
        assert "ImagePullBackOff (web-new/app)" in screen.status_text
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [False]


async def test_read_only_restart_is_not_offered(b: Cluster) -> None:
    snap = shop_snapshot(pod("shop", "web-old", WEB, sidecar=False))
    app = Host(RestartScreen(b, snap, list(snap.workloads.values()), want_sidecar=True, read_only=True))
    async with app.run_test() as pilot:
        await pilot.press("r", "escape")
        await pilot.pause()
    assert b.calls == [] and app.results == [None]


async def test_preview_on_the_demo_predicts_the_observed_plaintext_caller_failing(
        demo_backend: Callable[..., DemoBackend]) -> None:
    demo = demo_backend(ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)))
    demo.cluster.advance(120)
    snap = demo.snapshot()
    target = snap.workloads[("kubestock-staging", "Deployment/ms-inventory")]
    plan = mtls_plan(snap, MtlsScope.of_workload(target), "STRICT")
    screen = PreviewScreen(plan, demo, observed=demo.cluster.observed_plaintext())
    app = Host(screen)
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert screen.dry_run.ok
        assert any(
            line.startswith(
                "FAILS Pod legacy/batch-reporter → Service kubestock-staging/ms-inventory:3001 "
                "(observed plaintext"
            )
            for line in screen.impact
        )
        await pilot.press("escape")
        await pilot.pause()
    assert demo.snapshot().peer_authentications == snap.peer_authentications

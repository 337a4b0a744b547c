"""Ambient mode on the demo, by keys: the panes, the ztunnel log, and the `a` change flows."""

from __future__ import annotations

from meshtui.logs.ztunnel import pod_filter
from meshtui.screens.ambient import AmbientScreen
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.change_restart import RestartScreen
from meshtui.screens.explain import ExplainScreen
from meshtui.screens.logs import LogsScreen
from meshtui.screens.main import MainScreen
from tests.ui.pilot import populated, press_until, screen_text, undo, wait_for
from tests.ui.test_main_actions import select_namespace

LABEL = "istio.io/dataplane-mode"


def ns_labels(demo, name: str) -> dict[str, str]:
    ns = demo.backend.get("Namespace", "", name)
    assert ns is not None
    return ns["metadata"].get("labels") or {}


async def test_panes_show_the_data_plane_and_the_waypoint(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        assert "DATAPLANE" in screen_text(demo.app)
        assert str(screen.namespaces.get_row("payments")[2]) == "ambient"
        assert str(screen.namespaces.get_row("kubestock-staging")[2]) == "sidecar"
        assert str(screen.namespaces.get_row("legacy")[2]) == "none"
        assert "✗" not in str(screen.namespaces.get_row("payments")[1])  # no pod counted as missing a proxy
        await select_namespace(pilot, "payments")
        await wait_for(pilot, lambda: "ledger-" in screen_text(demo.app))
        text = screen_text(demo.app)
        assert "ambient" in text and "✗ none" not in text
        ledger = next(p for p in demo.backend.snapshot().pods_in("payments") if p.name.startswith("ledger-"))
        assert str(screen.pods.get_row(f"payments/{ledger.name}")[2]).startswith("S")  # ztunnel enforces STRICT
        assert "WP" in text and "waypoint (service)" in text


async def test_envoy_pane_follows_the_ztunnel_on_the_pods_node(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await select_namespace(pilot, "payments")
        await pilot.press("2")
        await press_until(pilot, "j", lambda: bool(screen.selected_pod
                                                   and screen.selected_pod[1].startswith("ledger-")))
        await wait_for(pilot, lambda: screen.log_pane.ztunnel is not None)
        pod = screen.current_pod()
        assert screen.log_pane.ztunnel.node == pod.node
        demo.advance(20)
        await wait_for(pilot, lambda: len(screen.log_pane.buffer) > 0, timeout=8)
        text = screen_text(demo.app)
        assert "via ztunnel" in text
        assert "plain batch-reporter" in text or "mTLS" in text
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        logs = demo.app.screen
        await wait_for(pilot, lambda: len(logs.buffer) > 0, timeout=8)
        keep = pod_filter(pod, f"{screen.log_pane.ztunnel.namespace}/{screen.log_pane.ztunnel.name}")
        entries = [e for s in range(logs.buffer.first_seq, logs.buffer.next_seq) if (e := logs.buffer.get(s))]
        assert all(keep(e.pod, e.record) for e in entries)
        assert any(e.record.kind == "ztunnel" for e in entries)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))


async def test_remove_a_namespace_from_ambient_preview_apply_undo(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "payments")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, AmbientScreen))
        assert "Remove payments from ambient" in screen_text(demo.app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen))
        preview = demo.app.screen
        await wait_for(pilot, lambda: preview.dry_run is not None)
        text = screen_text(demo.app)
        assert "No restart needed" in text and "Server dry run: accepted" in text
        assert ns_labels(demo, "payments")[LABEL] == "ambient"  # the dry run changed nothing
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await wait_for(pilot, lambda: LABEL not in ns_labels(demo, "payments"))
        await undo(pilot)
        await wait_for(pilot, lambda: ns_labels(demo, "payments").get(LABEL) == "ambient")


async def test_move_a_sidecar_namespace_then_offer_the_restart(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "kubestock-staging")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, AmbientScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen))
        preview = demo.app.screen
        await wait_for(pilot, lambda: preview.dry_run is not None)
        assert "sidecar wins over ambient" in screen_text(demo.app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, RestartScreen))
        labels = ns_labels(demo, "kubestock-staging")
        assert labels[LABEL] == "ambient" and "istio-injection" not in labels
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))


async def test_opt_a_workload_out_from_the_pods_pane(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await select_namespace(pilot, "payments")
        await pilot.press("2")
        await press_until(pilot, "j", lambda: bool(screen.selected_pod
                                                   and screen.selected_pod[1].startswith("ledger-")))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, AmbientScreen))
        assert "Opt ledger out of ambient" in screen_text(demo.app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen))
        preview = demo.app.screen
        await wait_for(pilot, lambda: preview.dry_run is not None)
        assert "rolls the workload's pods" in screen_text(demo.app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        deployment = demo.backend.get("Deployment", "payments", "ledger")
        assert deployment["spec"]["template"]["metadata"]["labels"][LABEL] == "none"


async def test_explain_names_the_no_mesh_client_that_fails(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await select_namespace(pilot, "payments")
        await pilot.press("2")
        await press_until(pilot, "j", lambda: bool(screen.selected_pod
                                                   and screen.selected_pod[1].startswith("ledger-")))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ExplainScreen))
        text = screen_text(demo.app)
        assert "STRICT" in text and "batch-reporter" in text

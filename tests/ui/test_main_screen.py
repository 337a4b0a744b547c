"""The main screen, driven by keys on the demo mesh: what a user presses and then sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshtui.config import Settings
from meshtui.screens.explain import ExplainScreen
from meshtui.screens.help import HelpScreen
from meshtui.screens.main import MainScreen
from tests.ui.pilot import notices, populated, press_until, screen_text, wait_for


async def test_four_panes_populated_with_header(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        text = screen_text(demo.app)
        for expected in ("ctx demo", "watching", "Namespaces  7", "Pods  istio-system", "Policies",
                         "Envoy", "kubestock-staging", "tenant-a-orders", "STRICT", "? help"):
            assert expected in text, expected


async def test_selection_flows_namespace_to_pods_policies_and_logs(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        await pilot.press("j")  # kubestock-staging
        # The pods pane follows the cursor a moment later (debounced): istio-system's panes mention frontend too.
        await wait_for(pilot, lambda: screen.selected_namespace == "kubestock-staging"
                       and str(screen.pods.selected_key).startswith("kubestock-staging/")
                       and "frontend" in screen_text(demo.app))
        text = screen_text(demo.app)
        assert "Pods  kubestock-staging  13" in text
        await pilot.press("2")
        assert demo.app.focused is screen.pods
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: screen.selected_pod is not None
                       and screen.selected_pod[1].startswith("ms-identity"))
        await wait_for(pilot, lambda: "ISTIO_MUTUAL" in screen_text(demo.app))
        text = screen_text(demo.app)
        assert "Policies  ms-identity-" in text and "3 retries" in text
        await wait_for(pilot, lambda: screen.log_pane.buffer and len(screen.log_pane.buffer) > 0)
        assert "Envoy  ms-identity-" in screen_text(demo.app)


async def test_pod_without_sidecar_shows_why_no_logs(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        screen.namespaces.move_cursor(row=2)  # legacy
        await wait_for(pilot, lambda: screen.selected_namespace == "legacy" and screen.selected_pod is not None)
        await wait_for(pilot, lambda: "no istio-proxy container" in screen_text(demo.app))
        assert "✗ none" in screen_text(demo.app)


async def test_filter_focused_list_and_clear(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        await pilot.press("slash", "t", "e", "n", "a", "n", "t")
        assert screen.namespaces.row_count == 2
        await pilot.press("enter")
        assert demo.app.focused is screen.namespaces and screen.namespaces.row_count == 2
        await pilot.press("escape")
        assert screen.namespaces.row_count == 7


async def test_help_lists_every_binding_with_id(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press("question_mark")
        assert isinstance(demo.app.screen, HelpScreen)
        table = demo.app.screen.query_one("#help-table")
        ids = {table.get_row_at(i)[2] for i in range(table.row_count)}
        assert {"app.quit", "main.explain", "main.mtls", "logs.pause", "nav.down"} <= ids
        await pilot.press("escape")
        assert isinstance(demo.app.screen, MainScreen)


async def test_palette_reaches_actions(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Explain")
        await wait_for(pilot, lambda: "main.explain" in screen_text(demo.app))
        await pilot.press("escape")


async def test_theme_switch_by_key_and_palette(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        assert demo.app.theme == "meshtui-dark"
        await pilot.press("T")
        assert demo.app.theme != "meshtui-dark" and demo.app.theme.startswith("meshtui-")
        await pilot.press("ctrl+p", *"Theme: meshtui-light")
        await wait_for(pilot, lambda: "meshtui-light" in screen_text(demo.app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.app.theme == "meshtui-light")


async def test_keymap_override_by_id(make_demo, tmp_path: Path) -> None:
    keymap = tmp_path / "mine.yaml"
    keymap.write_text("main.explain: x\n")
    demo = make_demo(Settings(demo=True, keymap=str(keymap)))
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press("2", "x")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ExplainScreen))


async def test_bad_keymap_gives_notice_and_default_keys(make_demo, tmp_path: Path) -> None:
    keymap = tmp_path / "bad.yaml"
    keymap.write_text("main.teleport: x\n")
    demo = make_demo(Settings(demo=True, keymap=str(keymap)))
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        assert "unknown binding id 'main.teleport'" in notices(demo.app)
        await pilot.press("2", "e")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ExplainScreen))


async def test_bad_theme_gives_notice_and_default_theme(make_demo, tmp_path: Path) -> None:
    theme = tmp_path / "broken.yaml"
    theme.write_text("name: [")
    demo = make_demo(Settings(demo=True, theme=str(theme)))
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        assert demo.app.theme == "meshtui-dark"
        assert "invalid YAML" in notices(demo.app)


async def test_explain_shows_chain_for_strict_namespace(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        screen.namespaces.move_cursor(row=5)  # tenant-a-orders: namespace PeerAuthentication STRICT
        await wait_for(pilot, lambda: screen.selected_namespace == "tenant-a-orders" and screen.selected_pod)
        await pilot.press("2")
        # A pod with a sidecar (ledger-export, first in the list, has none: STRICT does not cover it).
        await press_until(pilot, "j", lambda: screen.selected_pod[1].startswith("order-service"))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ExplainScreen))
        await wait_for(pilot, lambda: "is STRICT" in screen_text(demo.app))
        text = screen_text(demo.app)
        assert "is STRICT" in text and "decided at namespace" in text
        assert "✔ namespace" in text and "mode: STRICT" in text  # the deciding policy's YAML
        await pilot.press("escape")
        assert isinstance(demo.app.screen, MainScreen)


async def test_live_update_keeps_cursor_on_same_pod(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        screen.namespaces.move_cursor(row=1)
        await wait_for(pilot, lambda: screen.selected_namespace == "kubestock-staging" and screen.pods.row_count == 13)
        screen.pods.focus()
        screen.pods.move_cursor(row=6)
        await pilot.pause()
        chosen = screen.pods.selected_key
        # A rollout elsewhere in the namespace adds and removes pods above and below the cursor.
        demo.backend.restart_workload("Deployment", "kubestock-staging", "frontend")
        for _ in range(20):
            demo.advance(5)
            await pilot.pause(0.02)
        await wait_for(pilot, lambda: not any(k.startswith("kubestock-staging/frontend-") and "Terminating" in str(c)
                                              for k, c in screen.pods._rows_shown))
        assert screen.pods.selected_key == chosen


async def test_read_only_removes_mutating_keys(make_demo) -> None:
    demo = make_demo(Settings(demo=True, read_only=True))
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        text = screen_text(demo.app)
        assert "READ-ONLY" in text
        assert "Injection" not in text and "mTLS mode" not in text  # footer
        await pilot.press("i", "m", "u")
        assert isinstance(demo.app.screen, MainScreen)


async def test_rbac_denied_action_is_disabled_with_reason(make_demo) -> None:
    demo = make_demo(denied={("patch", "namespaces")})
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await wait_for(pilot, lambda: bool(demo.app.access))
        await pilot.press("i")
        assert isinstance(demo.app.screen, MainScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: 'disabled: may not patch namespaces' in screen_text(demo.app))


async def test_list_navigation_keys(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        await pilot.press("end")
        await wait_for(pilot, lambda: screen.selected_namespace == "tenant-b-orders")
        await pilot.press("k")
        await wait_for(pilot, lambda: screen.selected_namespace == "tenant-a-orders")
        await pilot.press("home")
        await wait_for(pilot, lambda: screen.selected_namespace == "istio-system")


@pytest.mark.parametrize("keys", [("q",), ("colon", "q", "enter")], ids=["q", ":q"])
async def test_q_quits(make_demo, keys: tuple[str, ...]) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press(*keys)
        await wait_for(pilot, lambda: not demo.app.is_running)
    assert demo.app.return_value == 0

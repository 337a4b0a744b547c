"""The main screen's remaining keys: change flows end to end on the demo, logs, YAML, context."""

from __future__ import annotations

import threading

from meshtui.backend.base import LogOptions
from meshtui.screens.change import InjectionScreen, ModePickerScreen
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.context import ContextScreen
from meshtui.screens.logs import LogsScreen
from meshtui.screens.main import MainScreen
from meshtui.screens.yaml_view import YamlScreen
from tests.ui.pilot import notices, populated, press_until, screen_text, wait_for


async def choose_mode(pilot, mode: str) -> None:
    picker = pilot.app.screen
    assert isinstance(picker, ModePickerScreen)
    modes = picker.query_one("#modes")
    target = next(i for i in range(modes.option_count) if modes.get_option_at_index(i).id == mode)
    key = "down" if (modes.highlighted or 0) < target else "up"
    await press_until(pilot, key, lambda: modes.highlighted == target, pause=0)
    await pilot.press("enter")


async def preview_namespace_mode(pilot, namespace: str, mode: str) -> PreviewScreen:
    """Select the namespace, press m, pick the mode; returns the preview once its dry run is back."""
    app = pilot.app
    await select_namespace(pilot, namespace)
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, ModePickerScreen))
    assert f"namespace {namespace}" in screen_text(app)
    await choose_mode(pilot, mode)
    await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen))
    preview = app.screen
    await wait_for(pilot, lambda: preview.dry_run is not None)
    return preview


async def select_namespace(pilot, name: str) -> MainScreen:
    screen = pilot.app.screen
    await press_until(pilot, "j", lambda: screen.selected_namespace == name, pause=0.1)
    await wait_for(pilot, lambda: screen.selected_pod is not None and screen.selected_pod[0] == name)
    return screen


def ms_inventory_refusals(demo) -> int:
    """Server-side refusals of plaintext in the ms-inventory proxies' logs, read through the backend."""
    options = LogOptions(tail_lines=2000, follow=False)
    return sum(
        line.count("filter_chain_not_found")
        for pod in demo.backend.snapshot().pods_in("kubestock-staging") if pod.name.startswith("ms-inventory")
        for line in demo.backend.proxy_logs(pod.namespace, pod.name, options, threading.Event())
    )


async def test_namespace_strict_preview_apply_then_undo(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await preview_namespace_mode(pilot, "kubestock-staging", "STRICT")
        screen = demo.app.screen_stack[-2]
        text = screen_text(demo.app)
        assert "PeerAuthentication" in text and "mode: STRICT" in text
        assert "Server dry run: accepted" in text
        assert "legacy/batch-reporter" in text  # the observed plaintext caller is named before applying
        # The dry run changed nothing.
        assert demo.backend.get("PeerAuthentication", "kubestock-staging", "default") is None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        assert demo.backend.get("PeerAuthentication", "kubestock-staging", "default") is not None
        await wait_for(pilot, lambda: "STRICT" in str(screen.namespaces.get_row("kubestock-staging")[1]))
        before = ms_inventory_refusals(demo)
        demo.advance(30)
        assert ms_inventory_refusals(demo) > before  # the legacy plaintext caller now fails
        # Undo is a change like any other: previewed (what, where, the diff), applied only by enter.
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen)
                       and demo.app.screen.dry_run is not None)
        text = screen_text(demo.app)
        assert "Undo: " in text and "in context demo" in text and "namespace(s): kubestock-staging" in text
        assert "Server dry run: accepted" in text and "PeerAuthentication kubestock-staging/default" in text
        await pilot.press("y")  # y is YAML elsewhere: it must not apply
        await pilot.pause(0.3)
        assert demo.backend.get("PeerAuthentication", "kubestock-staging", "default") is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.backend.get("PeerAuthentication", "kubestock-staging", "default") is None)
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))


async def test_cancel_in_preview_changes_nothing(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await preview_namespace_mode(pilot, "kubestock-staging", "STRICT")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        assert demo.backend.get("PeerAuthentication", "kubestock-staging", "default") is None
        assert "nothing changed" in notices(demo.app)


async def test_port_level_permissive_exception_from_pod(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await select_namespace(pilot, "kubestock-staging")
        await pilot.press("2")
        await press_until(pilot, "j", lambda: screen.selected_pod[1].startswith("ms-inventory"))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ModePickerScreen))
        assert "3001" in screen_text(demo.app)
        await pilot.press("enter")  # the only port: 3001
        await choose_mode(pilot, "PERMISSIVE")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen))
        await wait_for(pilot, lambda: demo.app.screen.dry_run is not None)
        assert "portLevelMtls" in screen_text(demo.app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        pas = [pa for pa in demo.backend.snapshot().peer_authentications.values()
               if pa.namespace == "kubestock-staging"]
        assert [pa.port_level for pa in pas] == [{3001: "PERMISSIVE"}]
        assert pas[0].selector is not None and pas[0].selector["app"] == "ms-inventory"


async def test_injection_key_opens_injection_dialog(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "legacy")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, InjectionScreen))
        assert "Sidecar injection for legacy" in screen_text(demo.app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))


async def test_logs_keys_open_full_viewer(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "kubestock-staging")
        await pilot.press("2", "l")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        assert "Logs · frontend-" in screen_text(demo.app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        await wait_for(pilot, lambda: "2 pods" in screen_text(demo.app))
        await pilot.press("escape")
        await pilot.press("enter")  # enter on a pod opens its logs too
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))


async def test_policy_yaml_and_logs_pane_focus(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await select_namespace(pilot, "tenant-a-orders")
        await pilot.press("3")
        assert demo.app.focused is screen.policies
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, YamlScreen))
        assert "kind: PeerAuthentication" in screen_text(demo.app)
        await pilot.press("escape")
        await pilot.press("4")
        assert demo.app.focused is screen.log_pane.view
        await pilot.press("1")
        assert demo.app.focused is screen.namespaces


async def test_context_switcher_lists_contexts(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ContextScreen))
        await wait_for(pilot, lambda: "● demo" in screen_text(demo.app))
        await pilot.press("escape")


async def test_restart_key_offers_rollout(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "researchflow")
        await pilot.press("2", "R")
        await wait_for(pilot, lambda: not isinstance(demo.app.screen, MainScreen))
        assert "Restart" in screen_text(demo.app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))


async def test_conflict_rereads_and_asks_again(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        first = await preview_namespace_mode(pilot, "kubestock-staging", "STRICT")
        # A colleague creates the namespace policy while the preview is open.
        demo.backend.create("PeerAuthentication", {
            "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "kubestock-staging"},
            "spec": {"mtls": {"mode": "PERMISSIVE"}}})
        await pilot.press("enter")
        await wait_for(pilot, lambda: "re-read" in notices(demo.app))
        await wait_for(pilot, lambda: isinstance(demo.app.screen, PreviewScreen) and demo.app.screen is not first)
        again = demo.app.screen
        await wait_for(pilot, lambda: again.dry_run is not None)
        await wait_for(pilot, lambda: "-    mode: PERMISSIVE" in screen_text(demo.app)
                       and "+    mode: STRICT" in screen_text(demo.app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        pa = demo.backend.get("PeerAuthentication", "kubestock-staging", "default")
        assert pa["spec"]["mtls"]["mode"] == "STRICT"


async def test_l_on_a_namespace_tails_all_its_sidecar_pods(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "researchflow")  # 5 pods, 2 of them with a sidecar
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        await wait_for(pilot, lambda: "Logs · namespace researchflow · " in screen_text(demo.app)
                       and " · 2 pods · " in screen_text(demo.app))

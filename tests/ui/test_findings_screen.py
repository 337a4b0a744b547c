"""Findings on the demo: rows in the Policies pane, a finding in full, the mesh-wide list, and
summaries that say STRICT only where it is enforced."""

from __future__ import annotations

from meshtui.screens.findings import FindingScreen, FindingsScreen
from meshtui.screens.main import MainScreen
from tests.ui.pilot import notices, populated, screen_text, wait_for
from tests.ui.test_tls_screen import run_check


async def _select_namespace(pilot, name: str) -> MainScreen:
    screen = pilot.app.screen
    await pilot.press("1")
    for _ in range(screen.namespaces.row_count):
        if screen.namespaces.selected_key == name:
            break
        await pilot.press("j")
    await wait_for(pilot, lambda: screen.selected_namespace == name and screen.selected_pod is not None
                   and screen.selected_pod[0] == name)
    await pilot.pause(0.1)
    return screen


async def _select_pod(pilot, screen: MainScreen, prefix: str) -> None:
    """Focus the pods list and put its cursor on the first pod whose name starts with ``prefix``."""
    await pilot.press("2")
    key = next(k for k in screen.pods.shown_keys if k.split("/", 1)[1].startswith(prefix))
    screen.pods.move_cursor(row=screen.pods.shown_keys.index(key))
    await wait_for(pilot, lambda: screen.selected_pod is not None and screen.selected_pod[1].startswith(prefix))


async def test_strict_namespace_with_sidecarless_pod_is_marked_and_explained(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await _select_namespace(pilot, "tenant-a-orders")
        await _select_pod(pilot, screen, "ledger-export")
        await wait_for(pilot, lambda: any(k.startswith("MT0013") for k in screen.findings.shown_keys))
        lines = screen_text(demo.app).splitlines()
        assert any("tenant-a-orders" in ln and "STRICT ✗1" in ln for ln in lines)  # the namespace row
        assert any("PA" in ln and "default" in ln and "STRICT ✗1" in ln for ln in lines)  # its policy
        screen.findings.focus()
        await pilot.press("end")
        await wait_for(pilot, lambda: "MT0013  pa/default" in screen_text(demo.app))  # and why, as a finding
        # the other pods of the namespace are not what MT0013 is about
        await pilot.press("2", "k")
        await wait_for(pilot, lambda: "ledger" not in screen.selected_pod[1])
        await wait_for(pilot, lambda: not any(k.startswith("MT0013") for k in screen.findings.shown_keys))


async def test_no_sidecar_mark_stays_visible_at_80x24(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(80, 24)) as pilot:
        await populated(pilot)
        await wait_for(pilot, lambda: "tenant-a-orders" in screen_text(demo.app))
        line = next(ln for ln in screen_text(demo.app).splitlines() if "tenant-a-orders" in ln)
        assert "STRICT ✗1" in line


async def test_finding_row_enter_shows_message_fix_and_object_yaml(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await _select_namespace(pilot, "researchflow")
        # the orchestrator is healthy: no finding about the sidecar-less workers is pinned on it
        await _select_pod(pilot, screen, "orchestrator")
        await wait_for(pilot, lambda: screen.findings.row_count == 0)
        await _select_pod(pilot, screen, "worker")
        await wait_for(pilot, lambda: any("IST0103" in k for k in screen.findings.shown_keys))
        screen.findings.focus()
        row = screen.findings.shown_keys.index(next(k for k in screen.findings.shown_keys if k.startswith("IST0103")))
        screen.findings.move_cursor(row=row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, FindingScreen))
        await pilot.pause(0.1)
        text = screen_text(demo.app)
        assert "missing the Istio proxy" in text
        assert "kubectl rollout restart deployment/worker -n researchflow" in text
        assert "kind: Pod" in text and "containers:" in text
        await pilot.press("escape")
        assert isinstance(demo.app.screen, MainScreen)


async def test_F_lists_every_finding_filterable(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, FindingsScreen))
        findings = demo.app.screen
        total = len(demo.app.report.findings)
        await wait_for(pilot, lambda: findings.table.row_count == total)
        assert f"Findings  {total}" in screen_text(demo.app)
        await pilot.press("slash", *"MT0009")
        await wait_for(pilot, lambda: 0 < findings.table.row_count < total)
        assert "filter: MT0009" in screen_text(demo.app)
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, FindingScreen))
        assert "AuthorizationPolicy" in screen_text(demo.app)
        await pilot.press("escape")  # the finding
        await pilot.press("escape")  # the filter
        assert findings.table.row_count == total
        await pilot.press("escape")  # the list
        assert isinstance(demo.app.screen, MainScreen)


async def test_colon_command_line_k9s_style(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        await pilot.press("colon", *"ns leg", "enter")
        await wait_for(pilot, lambda: screen.selected_namespace == "legacy")
        assert demo.app.focused is screen.namespaces
        await pilot.press("colon", *"pods tenant-a", "enter")
        await wait_for(pilot, lambda: screen.selected_namespace == "tenant-a-orders")
        assert demo.app.focused is screen.pods
        await pilot.press("colon", *"ctx nowhere", "enter")
        await wait_for(pilot, lambda: "'nowhere' not found" in notices(demo.app))
        await pilot.press("colon", *"deploy", "enter")
        await wait_for(pilot, lambda: "unknown command 'deploy'" in notices(demo.app))
        # escape goes back one level: the command line closes, focus returns where it was
        await pilot.press("colon", "x", "escape")
        assert not screen.command_line.has_class("visible") and demo.app.focused is screen.pods
        await pilot.press("colon", *"findings MT0009", "enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, FindingsScreen))
        await wait_for(pilot, lambda: "filter: MT0009" in screen_text(demo.app))
        await pilot.press("escape", "escape")
        assert isinstance(demo.app.screen, MainScreen)
        await pilot.press("colon", *"logs", "enter")
        await wait_for(pilot, lambda: type(demo.app.screen).__name__ == "LogsScreen")


async def test_palette_lists_meshtui_actions_only(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        titles = [c.title for c in demo.app.get_system_commands(demo.app.screen)]
        assert {"Explain", "Findings", "Command", "Help", "Quit"} <= set(titles)
        # no cursor movements, no Textual built-ins
        assert not {"Down", "Up", "Top", "Bottom", "Cursor up", "Save screenshot", "Keys"} & set(titles)


async def test_help_scrolls_with_the_arrows(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(100, 30)) as pilot:
        await populated(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(demo.app.screen).__name__ == "HelpScreen")
        table = demo.app.screen.query_one("#help-table")
        last = table.get_row_at(table.row_count - 1)[2]
        assert last not in screen_text(demo.app)
        for _ in range(table.row_count):
            await pilot.press("down")
        assert table.scroll_y > 0 and last in screen_text(demo.app)
        await pilot.press("escape")
        assert isinstance(demo.app.screen, MainScreen)


async def test_explain_separates_seen_from_possible_and_shows_related_objects(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(140, 50)) as pilot:
        await populated(pilot)
        # What was seen calling comes from a TLS check: legacy/batch-reporter sends ms-inventory plaintext.
        await run_check(pilot, demo, "kubestock-staging")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        screen = await _select_namespace(pilot, "kubestock-staging")
        await _select_pod(pilot, screen, "ms-inventory")
        await pilot.press("e")
        await wait_for(pilot, lambda: type(demo.app.screen).__name__ == "ExplainScreen")
        text = screen_text(demo.app)
        seen, could = text.index("Seen calling"), text.index("Could call")
        assert seen < could and "legacy/batch-reporter" in text[seen:could]
        assert "Around this pod" in text and "DestinationRule kubestock-staging/ms-inventory" in text
        await pilot.press("escape")
        # STRICT tenant-a: istiod has no sidecar but is never a failing client
        screen = await _select_namespace(pilot, "tenant-a-orders")
        await pilot.press("2", "e")
        await wait_for(pilot, lambda: type(demo.app.screen).__name__ == "ExplainScreen")
        text = screen_text(demo.app)
        assert "would fail if they call" in text and "istiod" not in text
        assert "AuthorizationPolicy tenant-a-orders/deny-all" in text


async def test_on_the_namespaces_list_the_policies_pane_explains_the_namespace(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = await _select_namespace(pilot, "tenant-a-orders")
        assert demo.app.focused is screen.namespaces
        await wait_for(pilot, lambda: "Policies  tenant-a-orders" in screen_text(demo.app))
        # the first pod is healthy, but the namespace's ✗1 is explained while the namespace is in focus
        assert any(k.startswith("MT0013") for k in screen.findings.shown_keys)
        await pilot.press("2")
        await wait_for(pilot, lambda: "Policies  inventory-service" in screen_text(demo.app))
        assert not any(k.startswith("MT0013") for k in screen.findings.shown_keys)

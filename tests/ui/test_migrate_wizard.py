"""The migration wizard (`M`) walked with the keyboard on the demo mesh, simulated time included."""

from __future__ import annotations

from meshtui.config import Settings
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.main import MainScreen
from meshtui.screens.migrate import MigrateScreen
from tests.ui.pilot import notices, populated, screen_text, wait_for
from tests.ui.test_main_actions import select_namespace

KS = "kubestock-staging"
FAST = Settings(demo=True, migrate_window_s=10, migrate_quiet_s=20, migrate_verify_s=20)


async def open_wizard(pilot, namespace: str) -> MigrateScreen:
    await populated(pilot)
    await select_namespace(pilot, namespace)
    await pilot.press("M")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MigrateScreen))
    wizard = pilot.app.screen
    await wait_for(pilot, lambda: wizard.report is not None)
    await pilot.pause()
    return wizard


async def stage(pilot, wizard: MigrateScreen, name: str) -> None:
    await wait_for(pilot, lambda: pilot.app.screen is wizard and wizard.stage == name, timeout=10)
    await pilot.pause()


async def confirm_preview(pilot, title: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen))
    preview = app.screen
    assert preview.plan.title == title
    await wait_for(pilot, lambda: preview.dry_run is not None and preview.dry_run.ok)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, PreviewScreen))


def highlight(wizard: MigrateScreen, predicate) -> None:
    index = next(i for i, row in enumerate(wizard.rows) if predicate(row))
    wizard.query_one("#rows").move_cursor(row=index, animate=False)


async def test_kubestock_failed_verify_rolls_back_then_exceptions_make_it_safe(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, KS)
        text = screen_text(demo.app)
        assert "Preflight" in text and "MIG005 Service kubestock-staging/frontend" in text
        assert "keep port 3000 of kubestock-staging/frontend PERMISSIVE" in text
        # f on the NodePort finding accepts its port exception: the blocker is gone.
        highlight(wizard, lambda r: getattr(r, "finding", None) and r.finding.code == "MIG005")
        await pilot.press("f")
        await wait_for(pilot, lambda: wizard.report.ready)
        assert [e.label for e in wizard.state.exceptions] == [f"{KS}/frontend:3000"]

        # Observe: one window shows batch-reporter's plaintext to ms-inventory:3001.
        await pilot.press("n")
        await stage(pilot, wizard, "observe")
        await wait_for(pilot, lambda: wizard._window is not None)
        demo.advance(10)
        await wait_for(pilot, lambda: len(wizard.state.windows) == 1)
        await pilot.pause()
        text = screen_text(demo.app)
        assert f"legacy/batch-reporter → {KS}/ms-inventory:3001" in text and "(metrics)" in text
        await pilot.press("n")  # refused: a plaintext caller without exception
        assert wizard.stage == "observe" and "plaintext caller(s) without exception" in notices(demo.app)

        # Go on anyway: the plan still names the blocker, the step breaks batch-reporter, verify sees it.
        await pilot.press("exclamation_mark")
        await stage(pilot, wizard, "plan")
        assert "MIG007" in screen_text(demo.app) and not wizard.report.ready
        await pilot.press("exclamation_mark")
        await confirm_preview(pilot, f"Set mTLS PERMISSIVE on Deployment {KS}/frontend port 3000")
        await stage(pilot, wizard, "apply")
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS STRICT on namespace {KS}")
        await stage(pilot, wizard, "verify")
        assert demo.backend.get("PeerAuthentication", KS, "default")["spec"]["mtls"]["mode"] == "STRICT"
        demo.advance(6)
        await wait_for(pilot, lambda: bool(wizard.verify_failures), timeout=10)
        await pilot.pause()
        text = screen_text(demo.app)
        assert "Verify FAILED" in text
        assert f"legacy/batch-reporter → {KS}/ms-inventory:3001" in text and "filter_chain_not_found" in text
        await pilot.press("b")
        await stage(pilot, wizard, "plan")
        await wait_for(pilot, lambda: demo.backend.get("PeerAuthentication", KS, "default") is None)
        assert wizard.state.rolled_back == (f"Set mTLS STRICT on namespace {KS}",)

        # x on the blocker keeps 3001 PERMISSIVE for batch-reporter; now the plan is ready and verifies.
        await wait_for(pilot, lambda: any(getattr(r, "finding", None) and r.finding.code == "MIG007"
                                          for r in wizard.rows))
        highlight(wizard, lambda r: getattr(r, "finding", None) and r.finding.code == "MIG007")
        await pilot.press("x")
        await wait_for(pilot, lambda: wizard.report.ready)
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS PERMISSIVE on Deployment {KS}/ms-inventory port 3001")
        await stage(pilot, wizard, "apply")
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS STRICT on namespace {KS}")
        await stage(pilot, wizard, "verify")
        for _ in range(4):
            demo.advance(5)
            await pilot.pause(0.3)
        await stage(pilot, wizard, "done")
        assert wizard.verify_failures == []
        text = screen_text(demo.app)
        assert f"port exception {KS}/ms-inventory:3001" in text and "needed by legacy/batch-reporter" in text
        assert f"port exception {KS}/frontend:3000" in text and "NodePort 30300" in text
        assert f"# reproduce: meshtui migrate -n {KS} --exception {KS}/frontend:3000" in text
        assert "--export DIR" in text
        assert "mode: PERMISSIVE" in text  # the YAML to reproduce it, first step first
        modes = demo.app.report.namespaces[KS]
        assert modes.mtls == "MIXED"  # STRICT with two port exceptions
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))

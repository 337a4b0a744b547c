"""`t`: the TLS check screen on the demo mesh — progress, verdicts, evidence, cancel, pane marks."""

from __future__ import annotations

from meshtui.config import Settings
from meshtui.screens.main import MainScreen
from meshtui.screens.tls_check import EvidenceScreen, TlsCheckScreen
from tests.ui.pilot import populated, screen_text, wait_for
from tests.ui.test_main_actions import select_namespace

STAGING = "kubestock-staging"


def status(app) -> str:
    return str(app.screen.query_one("#tls-status").render())


async def run_check(pilot, demo, namespace: str) -> TlsCheckScreen:
    """Select the namespace, press t, let the simulated window pass; returns the finished screen."""
    app = pilot.app
    await select_namespace(pilot, namespace)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TlsCheckScreen))
    screen = app.screen
    await wait_for(pilot, lambda: "waiting 10s" in status(app), timeout=30)
    demo.advance(10)
    await wait_for(pilot, lambda: not screen.running, timeout=30)
    # The table is painted after the last result arrives; a loaded machine shows it frames later.
    await wait_for(pilot, lambda: f" {namespace}/" in screen_text(app), timeout=10)
    await settled(pilot)
    return screen


async def checked(pilot, demo, namespace: str) -> MainScreen:
    """run_check, then back on the main screen (which keeps the verdicts)."""
    await run_check(pilot, demo, namespace)
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    return pilot.app.screen


async def settled(pilot, tries: int = 30) -> None:
    """Wait until two frames 0.1 s apart show the same text."""
    before = screen_text(pilot.app)
    for _ in range(tries):
        await pilot.pause(0.1)
        now = screen_text(pilot.app)
        if now == before:
            return
        before = now
    raise AssertionError("the screen kept changing")


def row_of(app, workload: str) -> str:
    """The table row of a workload (its title line and toasts do not count)."""
    return next(line for line in screen_text(app).splitlines()
                if f" {workload} " in line and "TLS check ·" not in line)


async def test_tls_check_of_a_namespace_names_the_plaintext_caller(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        screen = await run_check(pilot, demo, STAGING)
        assert f"namespace {STAGING}" in screen_text(app)
        assert "done" in status(app) and "pods" in status(app)
        inventory = row_of(app, f"{STAGING}/ms-inventory")
        assert "PLAINTEXT" in inventory and "PERMISSIVE" in inventory and "legacy/batch-reporter" in inventory
        assert "STALE" in row_of(app, f"{STAGING}/ms-supplier")
        assert "SAFE" in row_of(app, f"{STAGING}/ms-identity")
        # enter on the ms-inventory row: the evidence, with its sources, and the fix.
        keys = [k.value for k in screen.table.rows]
        screen.table.move_cursor(row=next(i for i, k in enumerate(keys) if "/ms-inventory/" in k))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EvidenceScreen))
        text = screen_text(app)
        assert "fix: inject legacy/batch-reporter" in text
        assert "filter_chain_not_found" not in text and "inbound|3001||" in text  # its access-log line
        assert "istio_requests_total" in text  # the metric lines
        assert "spiffe://cluster.local/ns/kubestock-staging/sa/ms-inventory" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TlsCheckScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        main = app.screen
        # The panes keep the verdicts until the next check.
        await wait_for(pilot, lambda: "TLS" in screen_text(app))
        assert "🔓" in str(main.namespaces.get_row(STAGING)[-1])
        assert app.tls_report is not None and app.tls_checked_at == app.now()


async def test_expiring_certificate_and_stale_proxy(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        await run_check(pilot, demo, "tenant-b-orders")
        assert "EXPIRING 2h" in row_of(app, "tenant-b-orders/payment-service")
        assert "ok" in row_of(app, "tenant-b-orders/order-service")


async def test_after_strict_the_caller_is_rejected(make_demo) -> None:
    from tests.ui.test_main_actions import preview_namespace_mode

    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        preview = await preview_namespace_mode(pilot, STAGING, "STRICT")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not preview)
        await wait_for(pilot, lambda: demo.backend.get("PeerAuthentication", STAGING, "default") is not None)
        await pilot.pause(0.3)
        await run_check(pilot, demo, STAGING)
        inventory = row_of(app, f"{STAGING}/ms-inventory")
        assert "REJECTING" in inventory and "STRICT" in inventory and "refused" in inventory


async def test_escape_cancels_and_keeps_partial_results(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, STAGING)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TlsCheckScreen))
        screen = app.screen
        await wait_for(pilot, lambda: "waiting" in status(app), timeout=30)
        await pilot.press("escape")  # the window never passes: escape stops the check
        await wait_for(pilot, lambda: not screen.running, timeout=5)
        assert screen.report is not None and screen.report.cancelled
        assert "cancelled" in status(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_tls_check_from_the_pods_pane_and_palette_in_read_only(make_demo) -> None:
    demo = make_demo(Settings(demo=True, read_only=True))
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        main = await select_namespace(pilot, "legacy")
        await pilot.press("2")  # pods pane: batch-reporter, no sidecar
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"TLS check")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TlsCheckScreen))
        screen = app.screen
        await wait_for(pilot, lambda: not screen.running, timeout=30)  # nothing to sample: no window
        await pilot.pause()
        assert "workload legacy/batch-reporter" in screen_text(app)
        row = row_of(app, "legacy/batch-reporter")
        assert "NO DATA" in row
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        assert str(main.namespaces.get_row("legacy")[-1]) == "?"
        assert set(app.tls_report.verdicts_by_pod().values()) == {"NO DATA"}


async def test_strict_preview_names_callers_from_a_recent_check(make_demo) -> None:
    from meshtui.screens.change_preview import PreviewScreen
    from tests.ui.test_main_actions import choose_mode

    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        await checked(pilot, demo, STAGING)
        await pilot.press("m")
        await pilot.pause(0.2)
        await choose_mode(pilot, "STRICT")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen))
        preview = app.screen
        await wait_for(pilot, lambda: preview.impact is not None)
        text = screen_text(app)
        assert "TLS check just now (metrics 10s apart" in text
        assert any("legacy/batch-reporter → Service kubestock-staging/ms-inventory:3001 (observed plaintext)"
                   in line for line in preview.impact)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        demo.advance(11 * 60)
        await pilot.press("m")
        await pilot.pause(0.2)
        await choose_mode(pilot, "STRICT")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen))
        await wait_for(pilot, lambda: app.screen.impact is not None)
        assert "the last TLS check is too old to count" in screen_text(app)


async def test_ambient_namespace_is_judged_from_ztunnel(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        screen = await run_check(pilot, demo, "payments")
        # payments is ambient and STRICT: ztunnel refuses batch-reporter's plaintext, payments-api sees mTLS.
        ledger = row_of(app, "payments/ledger")
        assert "REJECTING" in ledger and "STRICT" in ledger and "refused" in ledger
        assert "NO DATA" not in screen_text(app) and "no sidecar" not in screen_text(app)
        assert "OK" in row_of(app, "payments/payments-api")
        keys = [k.value for k in screen.table.rows]
        screen.table.move_cursor(row=next(i for i, k in enumerate(keys) if "/ledger/" in k))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EvidenceScreen))
        text = screen_text(app)
        assert "ztunnel metrics on istio-system/ztunnel-" in text and "sampled 10s apart" in text
        assert "legacy/batch-reporter" in text and 'response_flags="DENY"' in text  # ztunnel's own lines
        assert "Ambient: connections counted by ztunnel" in text


async def test_the_namespace_checked_stays_selected_when_the_panes_gain_the_tls_column(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        main = await checked(pilot, demo, STAGING)
        await wait_for(pilot, lambda: "TLS" in screen_text(app))
        # The new column rebuilt the namespaces table; its cursor (and so the pods pane) stayed put.
        assert main.namespaces.selected_key == STAGING and main.selected_namespace == STAGING
        await pilot.pause(0.2)  # past the pods pane's debounce
        assert f"Pods  {STAGING}" in screen_text(app)

"""The migration wizard (`M`) walked with the keyboard on the demo mesh, simulated time included."""

from __future__ import annotations

from meshtui.change.journal import Journal
from meshtui.config import Settings
from meshtui.factory import build_app
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.change_restart import RestartScreen
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


async def strict_despite_findings(pilot) -> MigrateScreen:
    """Open the wizard on KS and go straight to the plan, ignoring the findings (the NodePort's and
    batch-reporter's), then apply STRICT: the wizard is left verifying."""
    wizard = await open_wizard(pilot, KS)
    await pilot.press("n", "exclamation_mark")
    await stage(pilot, wizard, "plan")
    await pilot.press("exclamation_mark")
    await confirm_preview(pilot, f"Set mTLS STRICT on namespace {KS}")
    await stage(pilot, wizard, "verify")
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


async def one_window(pilot, wizard: MigrateScreen, demo) -> None:
    """Let one observe window pass on the simulated clock, once the TLS check waits inside it."""
    done = len(wizard.state.windows)
    await wait_for(pilot, lambda: wizard._observing and wizard._window is not None)
    demo.advance(FAST.migrate_window_s)
    await wait_for(pilot, lambda: len(wizard.state.windows) == done + 1)


def highlight(wizard: MigrateScreen, predicate) -> None:
    index = next(i for i, row in enumerate(wizard.rows.values()) if predicate(row))
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
        await one_window(pilot, wizard, demo)
        await pilot.pause()
        text = screen_text(demo.app)
        # batch-reporter has no sidecar: the metrics call it "unknown", the access log names it.
        assert f"legacy/batch-reporter → {KS}/ms-inventory:3001" in text and "(logs)" in text
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
                                          for r in wizard.rows.values()))
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


async def test_quit_and_reopen_resumes_and_notices_a_change_by_someone_else(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, KS)
        highlight(wizard, lambda r: getattr(r, "finding", None) and r.finding.code == "MIG005")
        await pilot.press("f", "n")
        await stage(pilot, wizard, "observe")
        await one_window(pilot, wizard, demo)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await pilot.press("q")
    # Meanwhile a colleague makes ms-product STRICT by hand.
    demo.backend.create("PeerAuthentication", {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "ms-product-strict", "namespace": KS},
        "spec": {"selector": {"matchLabels": {"app": "ms-product"}}, "mtls": {"mode": "STRICT"}}})
    again = build_app(FAST, backend=demo.backend, clock=demo.clock.now)
    again.journal = Journal(demo.app.journal.path)  # the demo's journal lives in a temp dir per run
    async with again.run_test(size=(140, 45)) as pilot:
        await populated(pilot)
        await pilot.press("M")  # on whatever namespace is selected: the saved migration resumes
        await wait_for(pilot, lambda: isinstance(again.screen, MigrateScreen))
        wizard = again.screen
        await wait_for(pilot, lambda: wizard.report is not None)
        assert wizard.stage == "observe" and wizard.state.scope.namespaces == (KS,)
        assert [e.label for e in wizard.state.exceptions] == [f"{KS}/frontend:3000"]
        assert len(wizard.state.windows) == 1
        assert "Resuming the migration of namespace kubestock-staging" in notices(again)
        assert "changed by someone else" in notices(again)
        # The plan is made from the cluster as it is now: the colleague's policy is part of it.
        step = next(s for s in wizard.report.steps if s.kind == "namespace")
        assert f"{KS}/ms-product:3003" not in step.affects  # already STRICT by the colleague's policy


async def test_auto_rollback_undoes_a_breaking_step_by_itself(make_demo) -> None:
    demo = make_demo(Settings(demo=True, migrate_window_s=10, migrate_quiet_s=20, migrate_verify_s=20,
                              auto_rollback=True))
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await strict_despite_findings(pilot)
        for _ in range(6):
            demo.advance(5)
            await pilot.pause(0.3)
            if wizard.stage != "verify":
                break
        await stage(pilot, wizard, "plan")
        await wait_for(pilot, lambda: demo.backend.get("PeerAuthentication", KS, "default") is None)
        assert "Verify failed: legacy/batch-reporter now fail" in notices(demo.app)
        assert f"rolled back: Set mTLS STRICT on namespace {KS}" in notices(demo.app)


async def test_researchflow_restart_fix_then_strict(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, "researchflow")
        assert "MIG002 Deployment researchflow/worker" in screen_text(demo.app)
        assert "f: restart worker in researchflow" in screen_text(demo.app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, RestartScreen))
        restart = demo.app.screen
        await pilot.press("r")
        for _ in range(40):
            demo.advance(2)
            await pilot.pause(0.1)
            if restart.phase == "done":
                break
        assert restart.phase == "done"
        await pilot.press("escape")
        await wait_for(pilot, lambda: demo.app.screen is wizard and wizard.report.ready)
        await pilot.press("n")
        await stage(pilot, wizard, "observe")
        for _ in range(2):
            await one_window(pilot, wizard, demo)
        await wait_for(pilot, lambda: wizard._quiet_for() >= 20)
        await pilot.press("n")
        await stage(pilot, wizard, "plan")
        await pilot.press("n")
        await confirm_preview(pilot, "Set mTLS STRICT on namespace researchflow")
        await stage(pilot, wizard, "verify")
        for _ in range(4):
            demo.advance(5)
            await pilot.pause(0.3)
        await stage(pilot, wizard, "done")
        assert demo.app.report.namespaces["researchflow"].without_sidecar == 0
        assert demo.app.report.namespaces["researchflow"].mtls == "STRICT"


async def test_tenant_b_is_ready_at_once(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, "tenant-b-orders")
        assert wizard.report.ready
        text = screen_text(demo.app)
        assert "Preflight: no blocker" in text and "MIG003" in text  # old proxies: a warning only


async def test_inject_fix_labels_the_namespace_then_restarts(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, "legacy")
        assert "f: enable injection in legacy, then restart 1 workload(s)" in screen_text(demo.app)
        await pilot.press("f")
        await confirm_preview(pilot, "Enable sidecar injection in legacy")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, RestartScreen))
        restart = demo.app.screen
        await pilot.press("r")
        for _ in range(20):
            demo.advance(2)
            await pilot.pause(0.1)
            if restart.phase == "done":
                break
        await pilot.press("escape")
        await wait_for(pilot, lambda: demo.app.screen is wizard and wizard.report.ready)
        assert demo.backend.get("Namespace", "", "legacy")["metadata"]["labels"]["istio-injection"] == "enabled"


async def test_palette_offers_the_wizard(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        await populated(pilot)
        titles = [c.title for c in demo.app.get_system_commands(demo.app.screen)]
        assert "Migrate to STRICT" in titles


async def test_discard_forgets_the_saved_migration(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, KS)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await select_namespace(pilot, "tenant-b-orders")
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MigrateScreen) and demo.app.screen is not wizard)
        assert demo.app.screen.state.scope.namespaces == (KS,)  # the saved one resumes
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MigrateScreen))
        assert demo.app.screen.state.scope.namespaces == ("tenant-b-orders",)


async def test_root_namespace_means_the_mesh(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, "istio-system")
        assert wizard.state.scope.mesh
        text = screen_text(demo.app)
        assert "mesh — Preflight" in text
        assert "MIG001 Deployment legacy/batch-reporter" in text  # STRICT mesh-wide is not STRICT without it
        assert wizard.report.steps[-1].kind == "mesh" and wizard.report.steps[-1].plan.needs_typed_confirmation


async def test_observe_shows_pods_it_cannot_read_as_unknown_and_does_not_call_them_quiet(make_demo) -> None:
    demo = make_demo(FAST, denied=(("get", "pods/proxy"),))
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, "tenant-b-orders")
        await pilot.press("n")
        await stage(pilot, wizard, "observe")
        # No pod can be read: each check returns at once, the next one starts a window later.
        await wait_for(pilot, lambda: len(wizard.state.windows) == 1)
        for n in (2, 3):  # longer than the quiet period: still not quiet, though nothing was seen
            demo.advance(FAST.migrate_window_s)
            await wait_for(pilot, lambda n=n: len(wizard.state.windows) == n)
        await pilot.pause()
        text = screen_text(demo.app)
        sidecars = [p for p in demo.app.snapshot.pods_in("tenant-b-orders") if p.has_sidecar and not p.deleting]
        assert f"callers of {len(sidecars)} pod(s) unknown" in text and wizard.state.windows[-1].callers == ()
        assert f"tenant-b-orders/{sidecars[0].name}" in text and "callers unknown: metrics not read" in text
        assert "cannot get resource \"pods/proxy\"" in text  # the highlighted pod's detail: why
        await pilot.press("n")
        assert wizard.stage == "observe"
        assert f"metrics of {len(sidecars)} pod(s) could not be read, so their callers are unknown" in notices(demo.app)
        await pilot.press("exclamation_mark")  # the operator may still go on, knowingly
        await stage(pilot, wizard, "plan")


async def test_verify_reads_client_metrics_when_the_logs_cannot_be_read(make_demo) -> None:
    """ms-inventory's DestinationRule makes ms-order-management send plaintext to it. STRICT breaks it; with
    pods/log forbidden, only the client sidecar's metrics (503 UC toward ms-inventory:3001) can tell."""
    demo = make_demo(FAST, denied=(("get", "pods/log"),))
    # The demo's own rule for that host (a second rule for the same host would be ignored: oldest wins).
    demo.backend.patch("DestinationRule", KS, "ms-inventory", {"spec": {"trafficPolicy": {"tls": {"mode": "DISABLE"}}}})
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await strict_despite_findings(pilot)
        await wait_for(pilot, lambda: wizard._verify_before is not None)
        for _ in range(8):
            demo.advance(5)
            await pilot.pause(0.3)
            if wizard.verify_failures or wizard.stage != "verify":
                break
        await wait_for(pilot, lambda: bool(wizard.verify_failures), timeout=10)
        await pilot.pause()
        assert {(f.client, f.target, f.source) for f in wizard.verify_failures} == {
            (f"{KS}/ms-order-management", f"{KS}/ms-inventory:3001", "metrics")}
        text = screen_text(demo.app)
        assert "Verify FAILED" in text
        assert f"{KS}/ms-order-management → {KS}/ms-inventory:3001" in text
        assert "(metrics) connection failures (UC)" in text
        # The highlighted failure's detail names the source and since when it counts; the pane also says
        # what could not be read.
        assert "evidence: the client sidecar's istio_requests_total" in text and "since 2026-11-24T" in text
        assert "not read: 13 (logs of " in text
        await pilot.press("b")
        await stage(pilot, wizard, "plan")
        await wait_for(pilot, lambda: demo.backend.get("PeerAuthentication", KS, "default") is None)


async def test_f_on_an_observed_caller_gives_it_a_sidecar(make_demo) -> None:
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await open_wizard(pilot, KS)
        await pilot.press("n")
        await stage(pilot, wizard, "observe")
        await one_window(pilot, wizard, demo)
        await pilot.pause()
        highlight(wizard, lambda r: getattr(r, "client", "") == "legacy/batch-reporter")
        await pilot.pause()
        text = screen_text(demo.app)
        assert f"x: keep port 3001 of {KS}/ms-inventory PERMISSIVE for it" in text
        assert "f: enable injection in legacy, then restart 1 workload(s)" in text
        await pilot.press("f")
        await confirm_preview(pilot, "Enable sidecar injection in legacy")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, RestartScreen))
        await pilot.pause()
        assert "batch-reporter" in screen_text(demo.app)


async def test_a_resumed_verify_waits_for_the_clusters_pods(make_demo) -> None:
    """The cluster could not be read on reopening (no snapshot): a migration saved in its verify stage
    resumes without sampling or judging evidence against no pods (its verify worker used to fail on
    the missing snapshot, leaving the wizard busy for good)."""
    demo = make_demo(FAST)
    async with demo.app.run_test(size=(140, 45)) as pilot:
        wizard = await strict_despite_findings(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        await pilot.press("q")
    demo.backend.cluster.server.fail_next(1000, 503)  # the API server answers nothing for a while
    again = build_app(FAST, backend=demo.backend, clock=demo.clock.now)
    again.journal = Journal(demo.app.journal.path)
    async with again.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: "error" in screen_text(again))
        assert again.snapshot is None
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(again.screen, MigrateScreen))
        wizard = again.screen
        assert wizard.stage == "verify"
        for _ in range(3):
            demo.advance(FAST.migrate_verify_s)
            await pilot.pause(0.5)
        # Nothing sampled of no pods, nothing left running: verify goes on once the pods are read.
        assert wizard._verify_before is None and not wizard._busy
        assert wizard.stage == "verify"

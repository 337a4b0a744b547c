"""The migration wizard on the real KubeBackend over HTTP against the API emulator: metrics through
pods/proxy, each step's dry run and apply, verify from pods/log, rollback — the exact API calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.factory import build_app
from meshtui.screens.migrate import MigrateScreen
from tests.ui.pilot import populated, screen_text, wait_for
from tests.ui.test_migrate_wizard import confirm_preview, highlight, stage

KS = "kubestock-staging"
BASE = f"/apis/security.istio.io/v1/namespaces/{KS}/peerauthentications"
SERIES = ('istio_requests_total{{reporter="destination",source_workload="batch-reporter",'
          'source_workload_namespace="legacy",destination_service_name="ms-inventory",'
          'destination_service_namespace="kubestock-staging",connection_security_policy="none"}} {count}\n')


@pytest.fixture
def kube_app(kubeconfig: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    backend = KubeBackend(kubeconfig=kubeconfig, request_timeout=5.0)
    settings = Settings(migrate_window_s=1, migrate_quiet_s=1, migrate_verify_s=2)
    yield build_app(settings, backend=backend)
    backend.close()


def pods_of(emulator: Emulator, app: str) -> list[dict]:
    return [o for o in emulator.objects("Pod")
            if o["metadata"]["namespace"] == KS and o["metadata"]["labels"].get("app") == app]


def writes(emulator: Emulator) -> list[tuple[str, str, str | None]]:
    return [(r.method, r.path, r.query.get("dryRun")) for r in emulator.requests
            if r.method in ("POST", "PUT", "PATCH", "DELETE") and "selfsubjectaccessreviews" not in r.path]


async def test_wizard_over_http(kube_app, emulator: Emulator) -> None:
    inventory = pods_of(emulator, "ms-inventory")
    for pod in emulator.objects("Pod"):  # every sidecar answers: a pod that does not is "callers unknown"
        if pod["metadata"]["namespace"] == KS:
            emulator.set_proxy_response(KS, pod["metadata"]["name"], 15020, "stats/prometheus", "")
    for pod in inventory:
        emulator.set_proxy_response(KS, pod["metadata"]["name"], 15020, "stats/prometheus", SERIES.format(count=10))
    async with kube_app.run_test(size=(140, 45)) as pilot:
        await populated(pilot)
        main = kube_app.screen
        while main.selected_namespace != KS:
            await pilot.press("j")
            await pilot.pause(0.1)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(kube_app.screen, MigrateScreen))
        wizard = kube_app.screen
        await wait_for(pilot, lambda: wizard.report is not None)
        highlight(wizard, lambda r: getattr(r, "finding", None) and r.finding.code == "MIG005")
        await pilot.press("f")  # keep the NodePort's port PERMISSIVE
        await pilot.press("n")
        await stage(pilot, wizard, "observe")
        await wait_for(pilot, lambda: wizard._window is not None)
        name = inventory[0]["metadata"]["name"]
        emulator.set_proxy_response(KS, name, 15020, "stats/prometheus", SERIES.format(count=14))
        await wait_for(pilot, lambda: len(wizard.state.windows) >= 1, timeout=10)
        await pilot.pause()
        assert f"legacy/batch-reporter → {KS}/ms-inventory:3001" in screen_text(kube_app)
        highlight(wizard, lambda r: getattr(r, "client", "") == "legacy/batch-reporter")
        await pilot.press("x")
        await wait_for(pilot, lambda: len(wizard.state.exceptions) == 2)
        await wait_for(pilot, lambda: wizard._quiet_for() >= 1, timeout=10)
        await pilot.press("n")
        await stage(pilot, wizard, "plan")
        assert wizard.report.ready
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS PERMISSIVE on Deployment {KS}/frontend port 3000")
        await stage(pilot, wizard, "apply")
        await wait_for(pilot, lambda: len(wizard.report.steps) == 2, timeout=10)  # the watch saw the first one
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS PERMISSIVE on Deployment {KS}/ms-inventory port 3001")
        await stage(pilot, wizard, "apply")
        await wait_for(pilot, lambda: len(wizard.report.steps) == 1, timeout=10)
        await pilot.press("n")
        await confirm_preview(pilot, f"Set mTLS STRICT on namespace {KS}")
        await stage(pilot, wizard, "verify")
        # A client nobody saw before the switch is refused by ms-product's now-STRICT port.
        product = pods_of(emulator, "ms-product")[0]
        ip = product["status"]["podIP"]
        emulator.append_log(KS, product["metadata"]["name"], "istio-proxy",
                            f'[2026-11-24T12:00:01.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" '
                            f'"-" "-" "-" - - {ip}:3003 10.9.9.9:40000 - -')
        await wait_for(pilot, lambda: bool(wizard.verify_failures), timeout=10)
        assert [(f.client, f.target) for f in wizard.verify_failures] == [("10.9.9.9", f"{KS}/ms-product:3003")]
        await pilot.press("b")
        await stage(pilot, wizard, "plan")
    assert writes(emulator) == [
        ("POST", BASE, "All"), ("POST", BASE, None),  # frontend-mtls: port 3000 PERMISSIVE
        ("POST", BASE, "All"), ("POST", BASE, None),  # ms-inventory-mtls: port 3001 PERMISSIVE
        ("POST", BASE, "All"), ("POST", BASE, None),  # default: STRICT
        ("DELETE", f"{BASE}/default", None),  # the rollback
    ]
    creates = [r.body for r in emulator.requests if r.method == "POST" and r.path == BASE and not r.query.get("dryRun")]
    assert [b["metadata"]["name"] for b in creates] == ["frontend-mtls", "ms-inventory-mtls", "default"]
    assert creates[1]["spec"]["portLevelMtls"] == {"3001": {"mode": "PERMISSIVE"}}
    stats = {r.path for r in emulator.requests if r.path.endswith(":15020/proxy/stats/prometheus")}
    assert f"/api/v1/namespaces/{KS}/pods/{name}:15020/proxy/stats/prometheus" in stats
    logs = [r for r in emulator.requests if r.path.endswith("/log") and r.query.get("sinceSeconds")]
    assert logs and all(r.query.get("container") == "istio-proxy" for r in logs)
    # Verify also reads the clients' metrics after the STRICT step: a sample as its window begins, then each poll.
    strict = max(i for i, r in enumerate(emulator.requests) if r.method == "POST" and r.path == BASE
                 and not r.query.get("dryRun"))
    after = {r.path for r in emulator.requests[strict:] if r.path.endswith(":15020/proxy/stats/prometheus")}
    order = pods_of(emulator, "ms-order-management")[0]["metadata"]["name"]
    assert f"/api/v1/namespaces/{KS}/pods/{order}:15020/proxy/stats/prometheus" in after
    left = {o["metadata"]["name"] for o in emulator.objects("PeerAuthentication") if o["metadata"]["namespace"] == KS}
    assert left == {"frontend-mtls", "ms-inventory-mtls"}

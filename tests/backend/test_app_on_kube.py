"""The whole app on the real KubeBackend, over HTTP against the API emulator: the same screens a
user drives on a cluster, and the exact API calls they cause."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.factory import build_app
from meshtui.screens.change import ModePickerScreen
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.main import MainScreen
from tests.ui.pilot import populated, press_until, screen_text, wait_for


@pytest.fixture
def kube_app(kubeconfig: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    backend = KubeBackend(kubeconfig=kubeconfig, request_timeout=5.0)
    yield build_app(Settings(), backend=backend)
    backend.close()


async def test_panes_populate_from_the_api_server(kube_app) -> None:
    async with kube_app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await wait_for(pilot, lambda: "watching" in screen_text(kube_app))
        text = screen_text(kube_app)
        assert "ctx emulator" in text and "Namespaces  7" in text and "tenant-a-orders" in text


async def test_strict_through_the_ui_sends_dry_run_then_the_real_create(kube_app, emulator: Emulator) -> None:
    async with kube_app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        screen = kube_app.screen
        await press_until(pilot, "j", lambda: screen.selected_namespace == "kubestock-staging", pause=0.1)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(kube_app.screen, ModePickerScreen))
        modes = kube_app.screen.query_one("#modes")
        await press_until(pilot, "up", lambda: modes.get_option_at_index(modes.highlighted or 0).id == "STRICT",
                          pause=0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(kube_app.screen, PreviewScreen))
        await wait_for(pilot, lambda: kube_app.screen.dry_run is not None, timeout=10)
        assert "Server dry run: accepted" in screen_text(kube_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(kube_app.screen, MainScreen), timeout=10)
    creates = [r for r in emulator.requests
               if r.method == "POST" and r.path.endswith("/namespaces/kubestock-staging/peerauthentications")]
    assert [r.query.get("dryRun") for r in creates] == ["All", None]
    assert all(r.query.get("fieldManager") == "meshtui" for r in creates)
    assert creates[1].body["spec"] == {"mtls": {"mode": "STRICT"}}
    stored = [o for o in emulator.objects("PeerAuthentication") if o["metadata"]["namespace"] == "kubestock-staging"]
    assert [o["spec"]["mtls"]["mode"] for o in stored] == ["STRICT"]


async def test_no_kubeconfig_says_so_in_the_app(tmp_path) -> None:
    app = build_app(Settings(kubeconfig=str(tmp_path / "missing")))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "no kubeconfig" in screen_text(app).lower()
                       or "missing" in screen_text(app))
        assert "--demo" in screen_text(app)

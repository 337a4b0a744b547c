"""Changes meshtui makes select workloads the way their controllers do, carry meshtui's label, and
point out port entries that change nothing."""

from __future__ import annotations

from meshtui.screens.change import ModePickerScreen
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.main import MainScreen
from tests.ui.pilot import populated, screen_text, wait_for
from tests.ui.test_main_actions import choose_mode, select_namespace


async def _port_mode(pilot, mode: str) -> None:
    app = pilot.app
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, ModePickerScreen))
    await pilot.press("enter")  # the pod's only port
    await choose_mode(pilot, mode)
    await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen))
    await wait_for(pilot, lambda: app.screen.dry_run is not None)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_port_exception_uses_the_deployment_selector_and_managed_by_label(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "tenant-a-orders")
        await pilot.press("2")
        await _port_mode(pilot, "PERMISSIVE")
        created = [pa for pa in demo.backend.snapshot().peer_authentications.values()
                   if pa.namespace == "tenant-a-orders" and pa.selector]
        (pa,) = created
        # the Deployment's spec.selector.matchLabels, without the template's extra version label
        assert dict(pa.selector) == {"app": "inventory-service"}
        body = demo.backend.get("PeerAuthentication", pa.namespace, pa.name)
        assert body["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "meshtui"}
        # the namespace is STRICT: a port entry set to STRICT changes nothing and is pointed out
        await _port_mode(pilot, "STRICT")
        # the picker reads the app's snapshot: wait until the watch has brought the change back
        await wait_for(pilot, lambda: "▲8080:S" in screen_text(demo.app))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ModePickerScreen))
        assert "same as the workload's mode, changes nothing" in screen_text(demo.app)

"""The STRICT preview runs a quick TLS check of the pods it would make STRICT when no recent check covers
them, and names the plaintext callers it saw — as observed evidence with its window, not as certainty."""

from __future__ import annotations

from meshtui.screens.change_preview import QUICK_WINDOW_S, PreviewScreen
from tests.ui.pilot import populated, screen_text, wait_for
from tests.ui.test_main_actions import preview_namespace_mode
from tests.ui.test_tls_screen import STAGING, checked


def impact(app) -> str:
    return str(app.screen.query_one("#impact").render())


async def test_strict_preview_without_a_check_runs_a_quick_one(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        preview = await preview_namespace_mode(pilot, STAGING, "STRICT")
        await wait_for(pilot, lambda: "quick TLS check of the" in impact(app) and "running" in impact(app))
        assert "(observed plaintext)" not in impact(app)  # nothing observed yet
        assert preview.can_confirm  # reading traffic does not hold up the change
        await wait_for(pilot, lambda: f"waiting {QUICK_WINDOW_S:g}s" in impact(app), timeout=30)
        demo.advance(QUICK_WINDOW_S)
        await wait_for(pilot, lambda: "during this preview" in impact(app), timeout=30)
        text = impact(app)
        assert f"metrics {QUICK_WINDOW_S:g}s apart" in text and "not a guarantee" in text
        assert ("FAILS Pod legacy/batch-reporter → Service kubestock-staging/ms-inventory:3001 "
                "(observed plaintext)") in text
        assert "running" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PreviewScreen))
        assert app.tls_report is None  # the quick check is the preview's own, not a full check


async def test_a_recent_check_of_those_pods_is_used_instead(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        await checked(pilot, demo, STAGING)
        preview = await preview_namespace_mode(pilot, STAGING, "STRICT")
        await wait_for(pilot, lambda: "TLS check just now" in impact(app))
        assert "FAILS Pod legacy/batch-reporter → Service kubestock-staging/ms-inventory:3001" in impact(app)
        assert not preview.quick_check_started and "quick TLS check" not in screen_text(app)


async def test_ambient_namespace_back_to_strict_names_the_plaintext_client_from_ztunnel(make_demo) -> None:
    demo = make_demo()
    app = demo.app
    async with app.run_test(size=(200, 50)) as pilot:
        await populated(pilot)
        preview = await preview_namespace_mode(pilot, "payments", "PERMISSIVE")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not preview)
        await wait_for(pilot, lambda: ((demo.backend.get("PeerAuthentication", "payments", "default") or {})
                                       .get("spec", {}).get("mtls", {}).get("mode") == "PERMISSIVE"))
        demo.advance(30)  # traffic under PERMISSIVE: batch-reporter's plaintext now gets through ztunnel
        preview = await preview_namespace_mode(pilot, "payments", "STRICT")
        await wait_for(pilot, lambda: f"waiting {QUICK_WINDOW_S:g}s" in impact(app), timeout=30)
        demo.advance(QUICK_WINDOW_S)
        await wait_for(pilot, lambda: "during this preview" in impact(app), timeout=30)
        assert "FAILS Pod legacy/batch-reporter → Service payments/ledger" in impact(app)
        assert "(observed plaintext)" in impact(app)

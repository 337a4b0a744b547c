"""Regenerate docs/screenshot.svg from the app itself (Textual's SVG screenshot) on the demo mesh.

Run: python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from meshtui.config import Settings
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import start_demo
from meshtui.factory import build_app

OUT = Path(__file__).with_name("screenshot.svg")


async def main() -> None:
    clock = ManualClock()
    backend = start_demo(7, clock=clock)
    app = build_app(Settings(demo=True), backend=backend, clock=clock.now)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (getattr(app.screen, "pods", None) and app.screen.pods.row_count):
            await pilot.pause(0.05)
        await pilot.press("j", "2")  # kubestock-staging, then its pods
        await pilot.pause(0.3)
        while not app.screen.selected_pod[1].startswith("ms-inventory"):
            await pilot.press("j")
            await pilot.pause(0.05)
        while not len(app.screen.log_pane.buffer):
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        OUT.write_text(app.export_screenshot(title="meshtui --demo"))
    backend.discard()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())

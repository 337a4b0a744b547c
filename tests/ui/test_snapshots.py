"""Snapshot tests of the main screen at 120x40 and 80x24 (pytest-textual-snapshot SVGs).

The demo runs on a pinned clock and a fixed seed, so the screen is the same every run.
Update after an intended change with: python -m pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tests.ui.pilot import populated, screen_text, wait_for


async def settled(pilot) -> None:
    app = pilot.app
    await populated(pilot)
    await wait_for(pilot, lambda: "watching" in screen_text(app))
    pane = app.screen.log_pane
    await wait_for(pilot, lambda: len(pane.buffer) > 0)
    # The clock stands still, so the tail's history is all there is: wait until it stops growing
    # (it arrives in batches, later on a loaded machine).
    seen = -1
    for _ in range(30):
        if len(pane.buffer) == seen:
            break
        seen = len(pane.buffer)
        await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_main_screen(snap_compare, make_demo, size: tuple[int, int]) -> None:
    demo = make_demo()
    assert snap_compare(demo.app, terminal_size=size, run_before=settled)

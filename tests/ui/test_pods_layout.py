"""The Pods pane gives its width to the columns an operator reads: names give way, not STATUS/RST/AGE."""

from __future__ import annotations

import pytest

from tests.ui.pilot import populated, screen_text, wait_for


@pytest.mark.parametrize(("size", "whole_names"), [((120, 40), False), ((200, 50), True)], ids=["120x40", "200x50"])
async def test_pods_pane_shows_status_restarts_and_age(make_demo, size: tuple[int, int], whole_names: bool) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=size) as pilot:
        await populated(pilot)
        await pilot.press("j")  # kubestock-staging: the longest pod names of the demo
        await wait_for(pilot, lambda: "ms-order-manageme" in screen_text(demo.app))
        lines = screen_text(demo.app).splitlines()
        header = next(ln for ln in lines if "READY" in ln)
        assert all(col in header for col in ("STATUS", "RST", "AGE"))
        row = next(ln for ln in lines if "ms-order-manageme" in ln)
        assert "Running" in row and row.split("Running")[1].split()[1].endswith("d")  # RST then AGE
        assert ("ms-order-management-lhx58kd4q8-" in row) is whole_names

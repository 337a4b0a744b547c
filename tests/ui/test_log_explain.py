"""The explain panel beside the log viewer: wrapped to its width, scrollable when the explanation
is taller than the panel, and showing one lays out nothing (it used to re-lay the whole screen)."""

from __future__ import annotations

from textual import events
from textual.app import App

from meshtui.screens.logs import LogsScreen
from meshtui.widgets.log_explain import PROMPT, LogExplain
from meshtui.widgets.log_view import LogView
from tests.shared_fixtures import FIXTURES
from tests.ui.pilot import ScreenHost, screen_text, wait_for

LINES = [line for line in (FIXTURES / "envoy" / "access-logs.txt").read_text().splitlines()
         if line and not line.startswith("#")]


def panel_text(app: App[None], panel: LogExplain) -> list[str]:
    """The panel's rows as the terminal shows them."""
    region = panel.scrollable_content_region
    rows = screen_text(app).splitlines()[region.y:region.bottom]
    return [row[region.x:region.right].rstrip() for row in rows]


def squash(text: str | list[str]) -> str:
    """Text without its white space: wrapping may cut a long word (a cluster name) anywhere."""
    return "".join("".join(text).split())


async def test_explanation_wraps_scrolls_and_lays_out_nothing() -> None:
    screen = LogsScreen.from_lines(LINES, "ticket.log")
    async with ScreenHost(screen).run_test(size=(110, 16)) as pilot:
        panel = screen.query_one(LogExplain)
        view = screen.query_one(LogView)
        await wait_for(pilot, lambda: len(view.view) == len(LINES))
        assert squash(panel_text(pilot.app, panel)) == squash(PROMPT)
        await pilot.press("up")
        await wait_for(pilot, lambda: panel.entry is not None and panel.entry.seq == view.selected.seq)  # type: ignore[union-attr]
        await pilot.pause()
        # Its scrollbar has appeared (that lays the screen out once); from now on the panel's size
        # never depends on its text.
        layouts: list[bool] = []
        relayout = screen._refresh_layout
        screen._refresh_layout = lambda *a, **k: (layouts.append(True), relayout(*a, **k))[1]  # type: ignore[method-assign]
        await pilot.press("up")
        await wait_for(pilot, lambda: panel.entry is not None and panel.entry.seq == view.selected.seq)  # type: ignore[union-attr]
        await pilot.pause()
        shown = panel_text(pilot.app, panel)
        assert layouts == []
        # Wrapped to the panel: what shows is the start of the explanation, in order.
        width = panel.scrollable_content_region.width
        assert all(len(row) <= width for row in shown)
        assert squash(panel.plain).startswith(squash(shown))
        # Taller than the panel: the wheel scrolls the rest into view.
        assert panel.max_scroll_y > 0 and panel.virtual_size.height > panel.content_region.height
        for _ in range(panel.max_scroll_y):
            await pilot._post_mouse_events([events.MouseScrollDown], panel, offset=(2, 2))
            await pilot.wait_for_scheduled_animations()
        assert panel.scroll_y == panel.max_scroll_y
        await pilot.pause()
        last = panel_text(pilot.app, panel)
        assert last != shown and squash(panel.plain).endswith(squash(last))
        # The next line starts at its top again.
        await pilot.press("up")
        await wait_for(pilot, lambda: panel.entry is not None and panel.entry.seq == view.selected.seq)  # type: ignore[union-attr]
        await pilot.pause()
        assert panel.scroll_y == 0 and squash(panel.plain).startswith(squash(panel_text(pilot.app, panel)))

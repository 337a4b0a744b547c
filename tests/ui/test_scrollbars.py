"""The log view's vertical scrollbar keeps its rendered rows until what it shows changes
(meshtui.widgets.scrolling.CachedScrollBar): it must look like Textual's own bar, follow the view,
and still answer the mouse. The log view's rows skip Textual's per-row style pass when it has
nothing to add (scrolling.plain_box): they must be the rows that pass gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.style import Style
from textual.geometry import Region
from textual.pilot import Pilot
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from meshtui.screens.logs import LogsScreen
from meshtui.widgets.log_explain import LogExplain
from meshtui.widgets.log_view import LogView
from meshtui.widgets.scrolling import CachedScrollBar
from tests.shared_fixtures import FIXTURES
from tests.ui.pilot import ScreenHost, wait_for

LINES = [line for line in (FIXTURES / "envoy" / "access-logs.txt").read_text().splitlines()
         if line and not line.startswith("#")] * 20


def cells(strips: list[Strip]) -> list[list[tuple[str, Style | None]]]:
    """Each row's cells: character and style (mouse actions included)."""
    return [[(char, segment.style) for segment in strip for char in segment.text] for strip in strips]


def textual_rows(bar: ScrollBar) -> list[list[tuple[str, Style | None]]]:
    """The rows Textual's own ScrollBar renders in the same state."""
    return cells(ScrollBar.render_lines(bar, Region(0, 0, *bar.size)))


@asynccontextmanager
async def log_viewer() -> AsyncIterator[tuple[Pilot[None], LogView]]:
    """A file's lines in the viewer, all shown, following the end."""
    screen = LogsScreen.from_lines(LINES, "ticket.log")
    async with ScreenHost(screen).run_test(size=(120, 30)) as pilot:
        view = screen.query_one(LogView)
        await wait_for(pilot, lambda: len(view.view) == len(LINES))
        await pilot.pause()
        yield pilot, view


async def test_the_bar_looks_like_textuals_and_follows_the_view() -> None:
    async with log_viewer() as (pilot, view):
        bar = view.vertical_scrollbar
        explain = pilot.app.screen.query_one(LogExplain)
        assert isinstance(bar, CachedScrollBar) and isinstance(explain.vertical_scrollbar, CachedScrollBar)
        drawn = bar.render_lines(Region(0, 0, *bar.size))
        at_bottom = cells(drawn)
        assert at_bottom == textual_rows(bar)
        # Drawn again while nothing changed: the same rows, not rendered anew.
        assert all(again is row for again, row in zip(bar.render_lines(Region(0, 0, *bar.size)), drawn, strict=True))
        await pilot.press("home")
        await wait_for(pilot, lambda: view.scroll_y == 0)
        await pilot.pause()
        at_top = cells(bar.render_lines(Region(0, 0, *bar.size)))
        assert at_top == textual_rows(bar) and at_top != at_bottom
        assert cells(bar.render_lines(Region(1, 2, 1, 3))) == [row[1:2] for row in at_top[2:5]]  # a crop
        await pilot.press("e")  # fewer lines: a longer thumb
        await wait_for(pilot, lambda: len(view.view) < len(LINES))
        await pilot.pause()
        assert cells(bar.render_lines(Region(0, 0, *bar.size))) == textual_rows(bar)


async def test_the_bar_still_answers_the_mouse() -> None:
    async with log_viewer() as (pilot, view):
        bottom = view.scroll_y
        assert bottom > 0
        await pilot.click(view.vertical_scrollbar, offset=(0, 0))  # above the thumb: a page up
        await wait_for(pilot, lambda: view.scroll_y < bottom)


async def test_log_rows_are_those_of_textuals_style_pass() -> None:
    async with log_viewer() as (pilot, view):

        async def same_rows(crop: Region | None = None) -> None:
            await pilot.pause()
            region = crop or Region(0, 0, *view.size)
            drawn = cells(view.render_lines(region))  # first: it reads the scroll offset for the paint
            assert drawn == cells(Widget.render_lines(view, region))
            assert len(drawn) == region.height and all(len(row) == region.width for row in drawn)

        await same_rows()  # following the end
        await same_rows(Region(3, 2, 40, 5))
        await pilot.press("home", "down", "down")  # the cursor row
        await same_rows()
        view.scroll_to(x=7, animate=False)
        await same_rows()
        await pilot.press("slash", *"503", "enter")  # search matches
        await wait_for(pilot, lambda: view.search is not None)
        await same_rows()
        await pilot.press("e", "t", "w")  # problems only, no times, wrapped
        await wait_for(pilot, lambda: view.wrap)
        await same_rows()
        view.styles.padding = (1, 2)  # a box the pass draws into: Textual's own pass, then back
        await same_rows()
        assert {char for char, _style in cells(view.render_lines(Region(0, 0, *view.size)))[0]} == {" "}  # padded
        view.styles.padding = 0
        await same_rows()

"""Pilot helpers shared by the UI tests: wait for the app, read the screen as text."""

from __future__ import annotations

import io
from typing import Any, Callable

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from meshtui.theming import MESHTUI_VARIABLES_DARK


class ScreenHost(App[None]):
    """A bare app that pushes the screen under test, with meshtui's theme variables."""

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.screen_under_test = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(MESHTUI_VARIABLES_DARK)

    def on_mount(self) -> None:
        self.push_screen(self.screen_under_test)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (worker results arrive as messages)."""
    loop_time = 0.0
    while not condition():
        await pilot.pause(0.02)
        loop_time += 0.02
        if loop_time > timeout:
            raise AssertionError("condition not met in time")


async def press_until(pilot: Pilot, key: str, condition: Callable[[], bool], *, limit: int = 60,
                      pause: float = 0.05) -> None:
    """Press ``key`` until ``condition`` holds, at most ``limit`` times (a list that never gets
    there fails the test instead of looping forever)."""
    for _ in range(limit):
        if condition():
            return
        await pilot.press(key)
        await pilot.pause(pause)
    if not condition():
        raise AssertionError(f"condition not met after pressing {key!r} {limit} times")


async def populated(pilot: Pilot) -> None:
    """The whole cluster listed (the staged load complete), on screen with the engine's modes."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "pods", None) is not None and app.cluster.loaded
                   and app.screen.namespaces.row_count > 0 and app.screen.pods.row_count > 0
                   and app.screen.report is not None and app.screen.report is app.report)
    await pilot.pause()



def screen_text(app: App) -> str:
    """What the terminal shows, as plain text (the same render the SVG screenshot uses)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def notices(app: App) -> str:
    """Messages of the toasts raised so far (headless runs do not always lay toasts out in time)."""
    return "\n".join(n.message for n in app._notifications)


async def undo(pilot: Pilot) -> None:
    """``u`` previews the undo like any change; ``enter`` applies it once the server's dry run is back."""
    from meshtui.screens.change_preview import PreviewScreen

    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PreviewScreen)
                   and pilot.app.screen.dry_run is not None)
    await pilot.press("enter")

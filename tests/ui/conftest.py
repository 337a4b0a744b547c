"""Pilot fixtures: the real app on the simulated mesh, with a pinned clock and a temp journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from textual.pilot import Pilot

from meshtui.app import MeshApp
from meshtui.backend.clock import ManualClock
from meshtui.backend.simulated import SimulatedBackend
from meshtui.config import Settings
from meshtui.factory import build_app


@dataclass
class Demo:
    app: MeshApp
    backend: SimulatedBackend
    clock: ManualClock


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MESHTUI_CONFIG", raising=False)


@pytest.fixture
def make_demo() -> Callable[..., Demo]:
    def make(settings: Settings | None = None, **backend_kw: Any) -> Demo:
        clock = ManualClock()
        backend = SimulatedBackend(seed=7, clock=clock, **backend_kw)
        app = build_app(settings or Settings(demo=True), backend=backend, clock=clock.now)
        return Demo(app, backend, clock)

    return make


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (worker results arrive as messages)."""
    loop_time = 0.0
    while not condition():
        await pilot.pause(0.02)
        loop_time += 0.02
        if loop_time > timeout:
            raise AssertionError("condition not met in time")


async def populated(pilot: Pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "pods", None) is not None
                   and app.screen.namespaces.row_count > 0 and app.screen.pods.row_count > 0)
    await pilot.pause()


WaitFor = Callable[[Pilot, Callable[[], bool]], Awaitable[None]]


def screen_text(app: MeshApp) -> str:
    """What the terminal shows, as plain text (the same render the SVG screenshot uses)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def notices(app: MeshApp) -> str:
    """Messages of the toasts raised so far (headless runs do not always lay toasts out in time)."""
    return "\n".join(n.message for n in app._notifications)

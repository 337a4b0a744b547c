"""Pilot fixtures: the real app on the simulated mesh, with a pinned clock and a temp journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

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

    def advance(self, seconds: float) -> None:
        """Simulated time passes: rollouts progress, traffic flows."""
        self.backend.advance(seconds)


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

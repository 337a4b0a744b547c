"""Pilot fixtures: the real app on KubeBackend talking over HTTP to the demo cluster, with a
hand-driven clock and a temp journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshtui.app import MeshApp
from meshtui.config import Settings
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.factory import build_app


@dataclass
class Demo:
    app: MeshApp
    backend: DemoBackend
    clock: ManualClock

    def advance(self, seconds: float) -> None:
        """Simulated time passes: rollouts progress, traffic flows, a TLS check's window elapses."""
        self.backend.cluster.advance(seconds)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MESHTUI_CONFIG", raising=False)


@pytest.fixture
def make_demo(demo_backend: Callable[..., DemoBackend]) -> Callable[..., Demo]:
    def make(settings: Settings | None = None, *, denied: tuple[tuple[str, str], ...] = (),
             **backend_kw: Any) -> Demo:
        clock = ManualClock()
        backend = demo_backend(clock, **backend_kw)
        for verb, resource in denied:
            backend.cluster.server.deny(verb, resource)
        app = build_app(settings or Settings(demo=True), backend=backend, clock=clock.now)
        return Demo(app, backend, clock)

    return make

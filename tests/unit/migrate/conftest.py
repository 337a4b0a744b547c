"""The demo mesh's snapshot, read once: the migration's pure code is tested on the mesh it demos."""

from __future__ import annotations

import pytest

from meshtui.backend.clock import ManualClock
from meshtui.backend.simulated import SimulatedBackend
from meshtui.model.snapshot import Snapshot


@pytest.fixture(scope="module")
def demo_snapshot() -> Snapshot:
    backend = SimulatedBackend(seed=7, clock=ManualClock())
    try:
        return backend.snapshot()
    finally:
        backend.close()

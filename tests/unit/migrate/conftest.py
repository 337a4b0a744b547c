"""The demo mesh's snapshot, read once: the migration's pure code is tested on the mesh it demos."""

from __future__ import annotations

import pytest

from meshtui.demo.clock import ManualClock
from meshtui.demo.session import start_demo
from meshtui.model.snapshot import Snapshot


@pytest.fixture(scope="module")
def demo_snapshot() -> Snapshot:
    backend = start_demo(7, clock=ManualClock())
    try:
        return backend.snapshot()
    finally:
        backend.discard()

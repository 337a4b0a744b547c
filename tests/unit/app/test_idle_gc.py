"""IdleCollector: full collections only when the user is idle, thresholds restored afterwards."""

from __future__ import annotations

import gc

from meshtui.idle_gc import NEVER, IdleCollector


def test_full_collections_wait_for_an_idle_user_and_thresholds_come_back() -> None:
    before = gc.get_threshold()
    collector = IdleCollector(idle=60.0)
    collector.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        collector.key()
        assert collector.tick() is False  # a key just came
        collector.idle = 0.0
        assert collector.tick() is True
    finally:
        collector.stop()
    assert gc.get_threshold() == before
    assert collector.tick() is False  # stopped: nothing to do

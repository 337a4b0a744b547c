"""What the log views take from the app that hosts them, when it offers it.

The same views run in meshtui's app and on their own (a saved log file, a test's bare App): they ask
by role, typed, instead of probing attribute names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Protocol, runtime_checkable

from textual.signal import Signal

from meshtui.model.snapshot import Snapshot


@runtime_checkable
class PublishesChanges(Protocol):
    """An app that announces each change it applied or undid ("TITLE applied"): open logs mark it,
    stamped with the app's clock."""

    change_applied: Signal[str]
    now: Callable[[], datetime]


@runtime_checkable
class HoldsSnapshot(Protocol):
    """An app with a cluster snapshot (None until the first list): pod IPs name the log's clients."""

    snapshot: Snapshot | None

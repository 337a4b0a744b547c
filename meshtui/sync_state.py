"""The cluster state the app's workers advance together: the current snapshot with its report, and
how far a staged load has come.

The sync worker (load steps, then watch batches) and namespace fetches run on different threads;
each step goes through :meth:`SyncState.advance` under one lock, so every report is the report of
the snapshot it comes with, and the engine re-evaluates only what a step's events touch.
"""

from __future__ import annotations

import gc
import threading
from typing import Sequence

from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot
from meshtui.policy.evaluation import evaluate, update
from meshtui.policy.report import MeshReport


class SyncState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Claims come from the UI thread: they must not wait behind an evaluation holding _lock.
        self._claims = threading.Lock()
        self._current: tuple[Snapshot, MeshReport] | None = None
        self._namespaces: set[str] = set()
        self._complete = False

    def start(self, snapshot: Snapshot, namespaces: Sequence[str]) -> tuple[Snapshot, MeshReport]:
        """A load's first step: evaluated in full; ``namespaces`` are loaded whole."""
        report = evaluate(snapshot)
        with self._lock:
            self._current = (snapshot, report)
        with self._claims:
            self._namespaces = set(namespaces)
            self._complete = False
        return snapshot, report

    def add(self, objects: Sequence[ModelObject]) -> tuple[Snapshot, MeshReport] | None:
        """Objects a load step or a namespace fetch brought: None before the first step, and once the
        load is complete (a fetch that lands after it would bring back what watches changed since)."""
        if not objects:
            return None
        with self._lock:
            return None if self._complete else self._apply([ChangeEvent("ADDED", obj) for obj in objects])

    def apply(self, events: list[ChangeEvent]) -> tuple[Snapshot, MeshReport] | None:
        """A watch batch (None before the first step)."""
        with self._lock:
            return self._apply(events)

    def _apply(self, events: list[ChangeEvent]) -> tuple[Snapshot, MeshReport] | None:
        if self._current is None:
            return None
        previous, report = self._current
        snapshot = previous.apply(events)
        self._current = (snapshot, update(previous, report, snapshot, events))
        return self._current

    def complete(self, snapshot: Snapshot) -> tuple[Snapshot, MeshReport]:
        """The load's complete lists: what was shown so far is brought in line with them."""
        with self._claims:
            self._complete = True
        with self._lock:
            if self._current is None:
                self._current = (snapshot, evaluate(snapshot))
            else:
                # update() evaluates everything when the mesh settings changed.
                previous, report = self._current
                self._current = (snapshot, update(previous, report, snapshot, previous.changes_to(snapshot)))
            # The loaded cluster lives as long as the app, and watch batches replace it a few objects at a
            # time: full collections stop walking it (hundreds of ms at 20,000 pods, landing on key
            # presses). Frozen objects are still freed by reference counting, which is all model objects need.
            gc.freeze()
            return self._current

    @property
    def loaded(self) -> bool:
        """The load's complete lists arrived: what is shown now is the whole cluster in scope."""
        return self._complete

    def claim(self, namespace: str) -> bool:
        """True when ``namespace`` still has to be fetched (once: the caller fetches it)."""
        with self._claims:
            if self._complete or self._current is None or namespace in self._namespaces:
                return False
            self._namespaces.add(namespace)
            return True

"""A tiny identity-keyed cache of recent results.

Snapshots are immutable and replaced on every change, so "the same snapshot" means "the same object".
A few entries are kept because the UI, the traffic model and workers may ask about a couple of
snapshots alternately; old snapshots fall out instead of being kept alive.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, size: int = 4):
        self._size = size
        self._items: list[tuple[K, V]] = []
        self._lock = threading.Lock()

    def get(self, key: K, build: Callable[[K], V]) -> V:
        with self._lock:
            for k, v in self._items:
                if k is key:
                    return v
        value = build(key)  # outside the lock: building may take a while
        with self._lock:
            self._items = [(key, value), *[(k, v) for k, v in self._items if k is not key]][: self._size]
        return value

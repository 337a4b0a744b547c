"""The cluster-wide part of a staged load (KubeBackend.load): every kind listed in pages on a few
threads, handed over in steps at most every STEP_SECONDS so the screen is not redrawn for each page.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Generator, Iterator

from meshtui.backend.base import BackendError, LoadStep
from meshtui.backend.kube_resources import ResourceKind
from meshtui.backend.kube_watch import Key, KindState
from meshtui.model.snapshot import ModelObject

# A staged load hands over what arrived at most this often: each step redraws the screen.
STEP_SECONDS = 0.3
# Lists run on this many threads: decoding holds the GIL, so more buy nothing, and a burst of new
# connections overflows a small listen backlog (SYNs dropped and retried after 1 s, 3 s, ...).
LIST_THREADS = 4


@dataclass(frozen=True, slots=True)
class Page:
    objects: dict[Key, ModelObject]
    resource_version: str
    # The server's remainingItemCount: an estimate of what the next pages hold.
    remaining: int | None
    # The first page of a list: a list started again (expired continue token) forgets what it had.
    first: bool


PageLister = Callable[[ResourceKind], Iterator[Page]]


def stream(kinds: tuple[ResourceKind, ...], pages: PageLister) -> Generator[LoadStep, None, dict[str, KindState]]:
    """Steps of what the lists bring, with the pod count; returns each kind's state for watch()."""
    arrived: queue.Queue[tuple[ResourceKind, Page | BackendError | None]] = queue.Queue()
    halt = threading.Event()

    def list_kind(rk: ResourceKind) -> None:
        try:
            for page in pages(rk):
                if halt.is_set():
                    return  # the caller stopped reading: quit after the page in flight
                arrived.put((rk, page))
        except BackendError as exc:
            arrived.put((rk, exc))
        arrived.put((rk, None))  # done

    known: dict[str, dict[Key, ModelObject]] = {rk.kind: {} for rk in kinds}
    versions: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=LIST_THREADS, thread_name_prefix="list")
    try:
        for rk in kinds:
            pool.submit(list_kind, rk)
        running, total = len(kinds), None
        batch: list[ModelObject] = []
        sent = time.monotonic()
        while running:
            rk, page = arrived.get()
            if isinstance(page, BackendError):
                raise page
            if page is None:
                running -= 1
                continue
            if page.first:
                known[rk.kind] = {}
            known[rk.kind].update(page.objects)
            versions[rk.kind] = page.resource_version
            batch.extend(page.objects.values())
            if rk.kind == "Pod" and page.remaining is not None:
                total = len(known["Pod"]) + page.remaining
            if time.monotonic() - sent >= STEP_SECONDS:
                yield LoadStep(batch, pods=len(known.get("Pod", ())), pods_total=total)
                batch, sent = [], time.monotonic()
    finally:
        halt.set()
        pool.shutdown(wait=False, cancel_futures=True)
    return {rk.kind: KindState(rk, versions.get(rk.kind, ""), known[rk.kind]) for rk in kinds}

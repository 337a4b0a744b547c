"""Watching every kind from the resourceVersion of its last list, as client-go's reflector does.

One thread per kind blocks on its watch stream (so an idle cluster costs no CPU); the caller's thread
collects their events into ~0.25 s batches. A dropped stream reconnects with exponential backoff; a
410 Gone (as an HTTP status or an ERROR event) re-lists the kind and emits the differences.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import urllib3

from meshtui.backend.base import SKIPPED_STATUS, BackendError, Gone, WatchStatus
from meshtui.backend.kube_errors import one_line
from meshtui.backend.kube_http import KubeHttp, close_quietly, decode_json
from meshtui.backend.kube_resources import ResourceKind
from meshtui.model.convert import Malformed, describe, from_k8s
from meshtui.model.snapshot import ChangeEvent, EventType, ModelObject, diff, key_of

Key = tuple[str, str]
Lister = Callable[[ResourceKind], tuple[dict[Key, ModelObject], str]]

BATCH_WINDOW = 0.25
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
# Server-side watch lifetime, spread like client-go (5-10 min) so streams do not all renew together.
WATCH_SECONDS = (300, 600)
# A stream that ends cleanly sooner than this counts as dropped, so a misbehaving server cannot spin us.
MIN_HEALTHY_STREAM = 1.0


@dataclass
class KindState:
    """What the watch of one kind knows: where to resume and the objects as last seen."""

    rk: ResourceKind
    resource_version: str
    known: dict[Key, ModelObject] = field(default_factory=dict)


class _Relist(Exception):
    """The stream said 410 Gone: the resourceVersion left the server's watch history."""


class _Dropped(Exception):
    """The stream ended abnormally; message is the one-line reason."""


Item = tuple[Literal["events"], list[ChangeEvent]] | tuple[Literal["status"], str] | None


class WatchRunner:
    def __init__(
        self,
        http: KubeHttp,
        states: list[KindState],
        lister: Lister,
        *,
        namespace: str | None,
        stop: threading.Event,
    ):
        self.http = http
        self.states = states
        self.lister = lister
        self.namespace = namespace
        self.stop = stop
        self._queue: queue.Queue[Item] = queue.Queue()
        self._lock = threading.Lock()
        self._open: set[urllib3.BaseHTTPResponse] = set()
        self._unhealthy = {st.rk.kind for st in states}

    # -- the caller's thread -------------------------------------------------------------------
    def run(self, emit: Callable[[list[ChangeEvent]], None], status: WatchStatus | None) -> None:
        threads = [
            threading.Thread(target=self._watch_kind, args=(st,), daemon=True, name=f"watch-{st.rk.plural}")
            for st in self.states
        ]
        threading.Thread(target=self._on_stop, daemon=True, name="watch-stop").start()
        for t in threads:
            t.start()
        last_status: str | None = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                pending: list[ChangeEvent] = []
                deadline = time.monotonic() + BATCH_WINDOW
                while item is not None:
                    if item[0] == "events":
                        pending.extend(item[1])
                    else:
                        if pending:
                            emit(pending)
                            pending = []
                        if item[1] != last_status:
                            last_status = item[1]
                            if status is not None:
                                status(item[1])
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if pending and not self.stop.is_set():
                    emit(pending)
                if item is None:
                    return
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=2.0)

    def _on_stop(self) -> None:
        self.stop.wait()
        self._queue.put(None)
        with self._lock:
            responses = list(self._open)
        for resp in responses:
            close_quietly(resp)

    # -- one thread per kind ---------------------------------------------------------------------
    def _status(self, kind: str, healthy: bool, text: str = "") -> None:
        with self._lock:
            if healthy:
                self._unhealthy.discard(kind)
                if self._unhealthy:
                    return
                text = "watching"
            else:
                self._unhealthy.add(kind)
        self._queue.put(("status", text))

    def _watch_kind(self, st: KindState) -> None:
        delay = BACKOFF_MIN
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self._stream(st)
                if time.monotonic() - started >= MIN_HEALTHY_STREAM:
                    delay = BACKOFF_MIN
                    continue
                reason = "watch closed by the server at once"
            except (_Relist, Gone):
                if self._relist(st):
                    delay = BACKOFF_MIN
                    continue
                reason = "re-list failed"
            except (_Dropped, BackendError) as exc:
                reason = str(exc)
            if self.stop.is_set():
                return
            # The kind stays out of the text so that one outage hitting every watch reads as one status.
            self._status(st.rk.kind, False, f"reconnecting: watch dropped ({reason})")
            # Jitter keeps a dozen kinds from reconnecting in lockstep after an apiserver restart.
            self.stop.wait(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, BACKOFF_MAX)

    def _stream(self, st: KindState) -> None:
        seconds = random.randint(*WATCH_SECONDS)
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", st.resource_version or None),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", seconds),
        ]
        path = st.rk.collection(self.namespace)
        if self.namespace and not st.rk.namespaced:
            query.append(("fieldSelector", f"metadata.name={self.namespace}"))
        resp = self.http.open("GET", path, query, timeout=(self.http.timeout, seconds + 30))
        with self._lock:
            self._open.add(resp)
        try:
            if self.stop.is_set():
                return
            self._status(st.rk.kind, True)
            for line in self.http.lines(resp):
                if self.stop.is_set():
                    return
                if line.strip():
                    self._handle(st, line)
        except BackendError as exc:
            if self.stop.is_set():
                return
            raise _Dropped(str(exc)) from None
        except (AttributeError, OSError, ValueError):
            # Stopping closes open responses from another thread; urllib3 then fails inside the
            # read with whatever the half-closed connection gives it.
            if self.stop.is_set():
                return
            raise _Dropped("connection lost while reading") from None
        finally:
            with self._lock:
                self._open.discard(resp)
            close_quietly(resp)

    def _handle(self, st: KindState, line: bytes) -> None:
        try:
            event = decode_json(line)
        except (ValueError, RecursionError):
            raise _Dropped("unreadable watch event") from None
        if not isinstance(event, dict) or not isinstance(event.get("object") or {}, dict):
            raise _Dropped("unreadable watch event (not an object)")
        etype = event.get("type")
        obj = event.get("object") or {}
        if etype == "ERROR":
            if obj.get("code") == 410:
                raise _Relist()
            raise _Dropped(one_line(str(obj.get("message") or f"watch error {obj.get('code')}")))
        raw_meta = obj.get("metadata")
        meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        rv = meta.get("resourceVersion") if isinstance(meta.get("resourceVersion"), str) else ""
        if etype == "BOOKMARK":
            st.resource_version = rv or st.resource_version
            return
        if etype not in ("ADDED", "MODIFIED", "DELETED"):
            return
        try:
            model = from_k8s(obj, st.rk.kind)
        except Malformed as exc:
            # Skipped like a malformed list item: the stream goes on, the user hears of it once.
            st.resource_version = rv or st.resource_version
            self._queue.put(("status", f"{SKIPPED_STATUS}{describe(obj, st.rk.kind)}: {exc}"))
            return
        if model is None:
            return
        st.resource_version = rv or st.resource_version
        key = key_of(model)
        if etype == "DELETED":
            st.known.pop(key, None)
        else:
            st.known[key] = model
        kind: EventType = etype
        self._queue.put(("events", [ChangeEvent(kind, model)]))

    def _relist(self, st: KindState) -> bool:
        self._status(st.rk.kind, False, "relisting")
        try:
            objects, rv = self.lister(st.rk)
        except BackendError:
            return False
        events = diff(st.known, objects)
        st.known = objects
        st.resource_version = rv
        if events:
            self._queue.put(("events", events))
        return True

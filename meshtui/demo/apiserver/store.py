"""Object storage with one global resourceVersion counter, event history and watch fan-out.

Stored objects are never mutated in place (every write stores a new dict), so lists and watch
events can hand them out without copying. All writes happen under one lock, like etcd's single
revision counter: resourceVersions are strictly increasing across every resource type.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import copy
import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from meshtui.demo.apiserver import status as st
from meshtui.demo.apiserver.resources import ResourceType
from meshtui.demo.apiserver.selectors import Matcher

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Admit = Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]

_NAMESPACES_KEY = ("", "namespaces")


def now() -> str:
    return format_now(datetime.now(UTC))


def format_now(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


EventType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True)
class Event:
    rv: int
    type: EventType
    rt: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None = None


# What a watcher's queue carries besides events.
BOOKMARK = "BOOKMARK"
CLOSE = "CLOSE"


@dataclass
class Watcher:
    rt: ResourceType
    queue: queue.Queue[Event | str] = field(default_factory=queue.Queue)


def _sort_key(key: Key) -> str:
    # etcd keys are /registry/<resource>/<namespace>/<name>, so lists come back in that order.
    return f"{key[0]}/{key[1]}"


def _encode_continue(rv: int, start: str) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise st.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                             "(version meta.k8s.io/v1)") from None


def _generation_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    ignored = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in ignored} != \
        {k: v for k, v in new.items() if k not in ignored}


def _fields_v1(value: Any) -> dict[str, Any]:
    """The managed-fields set of a value, in FieldsV1 notation (maps as f:<key>, lists as a whole)."""
    if not isinstance(value, dict):
        return {}
    return {f"f:{key}": _fields_v1(child) for key, child in value.items()}


Observer = Callable[[Event], None]

# Watch history and list snapshots are kept the way etcd compaction and the watch cache bound them:
# the newest HISTORY_EVENTS events, none older than HISTORY_SECONDS (etcd compacts every 5 minutes).
# A watch or continue token from before that answers 410 Gone without a test having to ask for it.
HISTORY_EVENTS = 10_000
HISTORY_SECONDS = 300.0
LIST_SNAPSHOTS = 32


class Store:
    """``now`` stamps server-set times; ``observers`` see every committed event, under the store's
    lock and in resourceVersion order (the demo's controllers and data plane follow the store so)."""

    def __init__(self, types: list[ResourceType], now: Callable[[], str] = now):
        self.types = types
        self.now = now
        self.observers: list[Observer] = []
        self.lock = self._lock = threading.RLock()
        self._rv = 1
        self._objects: dict[ResourceType, dict[Key, dict[str, Any]]] = {rt: {} for rt in types}
        self._history: list[Event] = []
        self._history_times: list[float] = []
        self._floor = 0  # watches from a resourceVersion below this get 410
        self._snapshots: dict[tuple[ResourceType, str, int], list[tuple[str, dict[str, Any]]]] = {}
        self._watchers: list[Watcher] = []
        self.namespaces_rt = next((rt for rt in types if (rt.group, rt.plural) == _NAMESPACES_KEY), None)

    # -- reads ---------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            obj = self._objects[rt].get((namespace, name))
        if obj is None:
            raise st.not_found(rt, name)
        return obj

    def find(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._objects[rt].get((namespace, name))

    def all(self, rt: ResourceType) -> list[dict[str, Any]]:
        with self._lock:
            return [obj for _, obj in sorted(self._objects[rt].items(), key=lambda kv: _sort_key(kv[0]))]

    def list(self, rt: ResourceType, namespace: str, matchers: list[Matcher], limit: int,
             continue_token: str) -> tuple[list[dict[str, Any]], int, str, int | None]:
        """(items, list resourceVersion, continue token, remainingItemCount)."""
        with self._lock:
            if continue_token:
                rv, start = _decode_continue(continue_token)
                rows = self._snapshots.get((rt, namespace, rv))
                if rows is None:
                    raise st.gone_continue()
            else:
                rv, start = self._rv, ""
                rows = sorted(((_sort_key(k), obj) for k, obj in self._objects[rt].items()
                               if not namespace or k[0] == namespace), key=lambda row: row[0])
                if limit:
                    self._snapshots[(rt, namespace, rv)] = rows
                    while len(self._snapshots) > LIST_SNAPSHOTS:
                        del self._snapshots[next(iter(self._snapshots))]
        position = bisect.bisect_left(rows, start, key=lambda row: row[0]) if start else 0
        items: list[dict[str, Any]] = []
        while position < len(rows) and (not limit or len(items) < limit):
            obj = rows[position][1]
            position += 1
            if all(match(obj) for match in matchers):
                items.append(obj)
        if not limit or position >= len(rows):
            return items, rv, "", None
        # remainingItemCount is only known when no selector filters the rest of the list.
        remaining = None if matchers else len(rows) - position
        return items, rv, _encode_continue(rv, rows[position][0]), remaining

    # -- writes --------------------------------------------------------------------------------

    def _commit(self, rt: ResourceType, kind: EventType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        event = Event(self._rv, kind, rt, obj, old)
        self._history.append(event)
        self._history_times.append(time.monotonic())
        self._compact()
        for watcher in self._watchers:
            if watcher.rt is rt:
                watcher.queue.put(event)
        for observe in self.observers:
            observe(event)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def add(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Seed an object as-is (status included), filling in server-set metadata that is missing.
        The store takes ownership of ``obj``: the caller must not change it afterwards."""
        meta = obj.setdefault("metadata", {})
        with self._lock:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", self.now())
            if rt.is_crd or rt.group == "apps":
                meta.setdefault("generation", 1)
            meta["resourceVersion"] = self._next_rv()
            key = (meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            old = self._objects[rt].get(key)
            self._objects[rt][key] = obj
            self._commit(rt, "MODIFIED" if old else "ADDED", obj, old)
        return obj

    def _require_namespace(self, rt: ResourceType, namespace: str) -> None:
        namespaces_rt = self.namespaces_rt
        if rt.namespaced and namespaces_rt is not None and ("", namespace) not in self._objects[namespaces_rt]:
            raise st.not_found(namespaces_rt, namespace)

    def _manage(self, obj: dict[str, Any], manager: str, api_version: str, subresource: str = "") -> None:
        entries = [e for e in obj["metadata"].get("managedFields", ())
                   if (e.get("manager"), e.get("operation"), e.get("subresource", "")) !=
                   (manager, "Update", subresource)]
        if subresource:
            body = {"status": obj.get("status")}
        else:
            body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
            meta = obj.get("metadata", {})
            body["metadata"] = {k: v for k, v in meta.items() if k in ("labels", "annotations")}
        entry = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": self.now(),
                 "fieldsType": "FieldsV1", "fieldsV1": _fields_v1(body)}
        entries.append(entry | ({"subresource": subresource} if subresource else {}))
        obj["metadata"]["managedFields"] = entries

    def create(self, rt: ResourceType, namespace: str, body: dict[str, Any], admit: Admit, *,
               dry_run: bool, manager: str, api_version: str) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        for server_set in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(server_set, None)
        if rt.namespaced:
            meta["namespace"] = namespace
        with self._lock:
            obj = admit(obj, None)
            name = meta["name"]
            self._require_namespace(rt, namespace)
            if (namespace, name) in self._objects[rt]:
                raise st.already_exists(rt, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            if rt.is_crd or rt.group == "apps":
                meta["generation"] = 1
            self._manage(obj, manager, api_version)
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            meta["resourceVersion"] = self._next_rv()
            self._objects[rt][(namespace, name)] = obj
            self._commit(rt, "ADDED", obj, None)
            return obj

    def update(self, rt: ResourceType, namespace: str, name: str,
               change: Callable[[dict[str, Any]], dict[str, Any]], admit: Admit, *,
               dry_run: bool, manager: str, api_version: str, status_only: bool = False,
               conditional: bool = False) -> dict[str, Any]:
        """PUT and PATCH: ``change`` builds the new object from the stored one (under the lock).
        ``status_only`` (the /status subresource) keeps everything but the status as stored.
        ``conditional``: a PUT that must name the resourceVersion it replaces (custom resources
        do not allow unconditional updates)."""
        with self._lock:
            old = self.get(rt, namespace, name)
            new = change(old)
            sent_rv = new.get("metadata", {}).get("resourceVersion")
            if conditional and not sent_rv:
                raise st.rv_required(rt, name)
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise st.conflict(rt, name)
            if status_only:
                new = {**copy.deepcopy(old), "status": new.get("status")}
                if new["status"] is None:
                    del new["status"]
            meta = new.setdefault("metadata", {})
            # Identity and server-set fields cannot be changed by the client.
            for kept in ("uid", "creationTimestamp", "generation", "managedFields", "deletionTimestamp"):
                if kept in old["metadata"]:
                    meta[kept] = old["metadata"][kept]
                else:
                    meta.pop(kept, None)
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = namespace
            if "status" in rt.subresources and not status_only:
                # With a status subresource the main resource ignores status changes.
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            new = admit(new, old)
            meta = new["metadata"]
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            if new == old:
                return old  # a no-op write stores nothing, bumps nothing and sends no event
            if "generation" in meta and _generation_changed(old, new):
                meta["generation"] = meta["generation"] + 1
            self._manage(new, manager, api_version, "status" if status_only else "")
            if dry_run:
                return new
            meta["resourceVersion"] = self._next_rv()
            self._objects[rt][(namespace, name)] = new
            self._commit(rt, "MODIFIED", new, old)
            return new

    def delete(self, rt: ResourceType, namespace: str, name: str, *, dry_run: bool,
               precondition_rv: str | None, precondition_uid: str | None) -> dict[str, Any]:
        with self._lock:
            obj = self.get(rt, namespace, name)
            actual_rv = obj["metadata"]["resourceVersion"]
            if precondition_rv and precondition_rv != actual_rv:
                raise st.precondition_conflict(rt, name, precondition_rv, actual_rv)
            if precondition_uid and precondition_uid != obj["metadata"]["uid"]:
                raise st.ApiError(st.failure(
                    409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified} "{name}": '
                    f"Precondition failed: UID in precondition: {precondition_uid}, UID in object meta: "
                    f"{obj['metadata']['uid']}", {"name": name, "kind": rt.plural}))
            if dry_run:
                return obj
            if rt is self.namespaces_rt:
                self._delete_namespace_contents(name)
            final = copy.deepcopy(obj)
            final["metadata"]["resourceVersion"] = self._next_rv()
            del self._objects[rt][(namespace, name)]
            self._commit(rt, "DELETED", final, obj)
            return final

    def _delete_namespace_contents(self, namespace: str) -> None:
        # The namespace controller empties a terminating namespace; here that happens at once.
        for rt, objects in self._objects.items():
            if not rt.namespaced:
                continue
            for key in sorted(k for k in objects if k[0] == namespace):
                obj = copy.deepcopy(objects.pop(key))
                obj["metadata"]["resourceVersion"] = self._next_rv()
                self._commit(rt, "DELETED", obj, None)

    # -- watch ---------------------------------------------------------------------------------

    def subscribe(self, rt: ResourceType, since: int | None) -> tuple[Watcher, builtins.list[Event]] | None:
        """Register a watcher; returns the backlog after ``since`` (all current objects as ADDED when
        None), or None when ``since`` is older than the kept history (the caller answers 410)."""
        with self._lock:
            watcher = Watcher(rt)
            if since is None:
                backlog = [Event(self._rv, "ADDED", rt, obj) for obj in self.all(rt)]
            elif since < self._floor:
                return None
            else:
                start = bisect.bisect_right(self._history, since, key=lambda e: e.rv)
                backlog = [e for e in self._history[start:] if e.rt is rt]
            self._watchers.append(watcher)
            return watcher, backlog

    def unsubscribe(self, watcher: Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def broadcast(self, message: str) -> None:
        with self._lock:
            for watcher in self._watchers:
                watcher.queue.put(message)

    def _compact(self) -> None:
        cutoff = time.monotonic() - HISTORY_SECONDS
        drop = max(len(self._history) - HISTORY_EVENTS, bisect.bisect_left(self._history_times, cutoff))
        if drop <= 0:
            return
        self._floor = self._history[drop - 1].rv
        del self._history[:drop]
        del self._history_times[:drop]
        for key in [k for k in self._snapshots if k[2] < self._floor]:
            del self._snapshots[key]

    def expire_history(self) -> None:
        """Compaction: every resourceVersion before now becomes too old to watch or continue from."""
        with self._lock:
            self._floor = self._rv
            self._history.clear()
            self._history_times.clear()
            self._snapshots.clear()

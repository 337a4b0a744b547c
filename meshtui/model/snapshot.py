"""A cluster snapshot: everything the engine needs, at one instant, immutable.

Watch events produce a *new* snapshot (only the touched collections are copied), so a worker can
hand snapshots to the UI without locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Literal, Mapping

from meshtui.model.objects import (
    AuthorizationPolicy,
    DestinationRule,
    MeshSettings,
    Namespace,
    PeerAuthentication,
    Pod,
    Service,
    Sidecar,
    VirtualService,
    Waypoint,
    Workload,
)

ModelObject = (
    Namespace
    | Pod
    | Service
    | Workload
    | PeerAuthentication
    | DestinationRule
    | AuthorizationPolicy
    | VirtualService
    | Sidecar
    | Waypoint
)

# Snapshot field that holds each model class.
COLLECTION: dict[type, str] = {
    Namespace: "namespaces",
    Pod: "pods",
    Service: "services",
    Workload: "workloads",
    PeerAuthentication: "peer_authentications",
    DestinationRule: "destination_rules",
    AuthorizationPolicy: "authorization_policies",
    VirtualService: "virtual_services",
    Sidecar: "sidecars",
    Waypoint: "waypoints",
}

# Snapshot's collections by field name, as keyword arguments. Each holds only the class COLLECTION
# names it for, which a type checker cannot follow through a string key: the values are Any.
_Collections = dict[str, Any]

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


def key_of(obj: ModelObject) -> tuple[str, str]:
    """The collection key: (namespace, name); workloads add their kind since names repeat across kinds."""
    if isinstance(obj, Namespace):
        return ("", obj.name)
    if isinstance(obj, Workload):
        return (obj.namespace, f"{obj.kind}/{obj.name}")
    return (obj.namespace, obj.name)


def _index(objs: Iterable[ModelObject]) -> dict[tuple[str, str], ModelObject]:
    return {key_of(o): o for o in objs}


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One watch notification, already converted to the model."""

    type: EventType
    obj: ModelObject


@dataclass(frozen=True)
class Snapshot:
    namespaces: Mapping[tuple[str, str], Namespace] = field(default_factory=dict)
    pods: Mapping[tuple[str, str], Pod] = field(default_factory=dict)
    services: Mapping[tuple[str, str], Service] = field(default_factory=dict)
    workloads: Mapping[tuple[str, str], Workload] = field(default_factory=dict)
    peer_authentications: Mapping[tuple[str, str], PeerAuthentication] = field(default_factory=dict)
    destination_rules: Mapping[tuple[str, str], DestinationRule] = field(default_factory=dict)
    authorization_policies: Mapping[tuple[str, str], AuthorizationPolicy] = field(default_factory=dict)
    virtual_services: Mapping[tuple[str, str], VirtualService] = field(default_factory=dict)
    sidecars: Mapping[tuple[str, str], Sidecar] = field(default_factory=dict)
    waypoints: Mapping[tuple[str, str], Waypoint] = field(default_factory=dict)
    mesh: MeshSettings = field(default_factory=MeshSettings)
    # Malformed objects left out of this snapshot, each "where: why" (kind/name or file/document).
    skipped: tuple[str, ...] = ()

    @classmethod
    def build(cls, objects: Iterable[ModelObject], mesh: MeshSettings | None = None,
              skipped: Iterable[str] = ()) -> Snapshot:
        buckets: dict[str, list[ModelObject]] = {name: [] for name in COLLECTION.values()}
        for obj in objects:
            buckets[COLLECTION[type(obj)]].append(obj)
        collections: _Collections = {name: _index(objs) for name, objs in buckets.items()}
        return cls(**collections, mesh=mesh or MeshSettings(), skipped=tuple(skipped))

    def objects(self) -> Iterable[ModelObject]:
        for name in COLLECTION.values():
            yield from getattr(self, name).values()

    def apply(self, events: Iterable[ChangeEvent]) -> Snapshot:
        """A new snapshot with the events applied in order; untouched collections are shared, and so
        are the namespace indexes (:meth:`by_namespace`) of the namespaces the events leave alone."""
        changed: dict[str, dict[tuple[str, str], ModelObject]] = {}
        indexes = dict(self._indexes)
        copied: set[tuple[str, str]] = set()
        for ev in events:
            name = COLLECTION[type(ev.obj)]
            coll = changed.get(name)
            if coll is None:
                coll = changed[name] = dict(getattr(self, name))
                if name in indexes:
                    indexes[name] = dict(indexes[name])
            key = key_of(ev.obj)
            if ev.type == "DELETED":
                coll.pop(key, None)
            else:
                coll[key] = ev.obj
            index = indexes.get(name)
            if index is not None:
                namespace = _namespace_of(name, key)
                if (name, namespace) not in copied:
                    copied.add((name, namespace))
                    index[namespace] = dict(index.get(namespace, {}))
                members = index[namespace]
                if ev.type == "DELETED":
                    members.pop(key, None)
                else:
                    members[key] = ev.obj
        if not changed:
            return self
        for name, namespace in copied:
            if not indexes[name][namespace]:
                del indexes[name][namespace]
        collections: _Collections = changed
        snapshot = replace(self, **collections)
        snapshot._indexes.update(indexes)
        return snapshot

    @property
    def _indexes(self) -> dict[str, dict[str, dict[tuple[str, str], Any]]]:
        # Derived from the fields, so kept out of them (equality, repr): a frozen instance's own cache.
        found: dict[str, dict[str, dict[tuple[str, str], Any]]] = self.__dict__.setdefault("_by_namespace", {})
        return found

    def by_namespace(self, collection: str) -> Mapping[str, Mapping[tuple[str, str], Any]]:
        """A collection's objects by namespace (a Namespace under its own name), keyed as in the collection.

        Built once per snapshot and carried over by :meth:`apply`, so a watch batch's snapshot answers
        "what is in namespace X" without scanning the cluster."""
        index = self._indexes.get(collection)
        if index is None:
            index = {}
            for key, obj in getattr(self, collection).items():
                index.setdefault(_namespace_of(collection, key), {})[key] = obj
            self._indexes[collection] = index
        return index

    def changes_to(self, other: Snapshot) -> list[ChangeEvent]:
        """Events turning this snapshot into ``other`` (mesh settings aside)."""
        events: list[ChangeEvent] = []
        for name in COLLECTION.values():
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not theirs:
                events.extend(diff(mine, theirs))
        return events

    def with_mesh(self, mesh: MeshSettings) -> Snapshot:
        return replace(self, mesh=mesh)

    # Convenience views, all sorted for stable display.
    def pods_in(self, namespace: str) -> list[Pod]:
        return sorted(self.by_namespace("pods").get(namespace, {}).values(), key=lambda p: p.name)

    def in_namespace(self, collection: str, namespace: str) -> list[ModelObject]:
        return sorted(self.by_namespace(collection).get(namespace, {}).values(), key=lambda o: o.name)


def _namespace_of(collection: str, key: tuple[str, str]) -> str:
    return key[1] if collection == "namespaces" else key[0]


def diff(old: Mapping[tuple[str, str], ModelObject], new: Mapping[tuple[str, str], ModelObject]) -> list[ChangeEvent]:
    """Events turning one collection into another (after a re-list, or at the end of a staged load)."""
    events = [ChangeEvent("DELETED", obj) for key, obj in old.items() if key not in new]
    for key, obj in new.items():
        before = old.get(key)
        if before is None:
            events.append(ChangeEvent("ADDED", obj))
        elif before is not obj and before != obj:
            events.append(ChangeEvent("MODIFIED", obj))
    return events

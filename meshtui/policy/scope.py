"""Which policies concern a namespace or a pod: what the Policies pane lists. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Protocol, TypeVar

from meshtui.model.objects import (
    AuthorizationPolicy,
    DestinationRule,
    PeerAuthentication,
    Pod,
    VirtualService,
)
from meshtui.model.snapshot import Snapshot
from meshtui.policy.labels import matches


@dataclass(frozen=True, slots=True)
class Scoped:
    peer_authentications: tuple[PeerAuthentication, ...]
    destination_rules: tuple[DestinationRule, ...]
    virtual_services: tuple[VirtualService, ...]
    authorization_policies: tuple[AuthorizationPolicy, ...]


def _selects(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    return selector is None or matches(selector, labels)


def _hosts_of(snapshot: Snapshot, pod: Pod) -> set[str]:
    """Short, namespaced and FQDN names of every Service selecting the pod."""
    hosts: set[str] = set()
    for svc in snapshot.services.values():
        if svc.namespace == pod.namespace and svc.selector and _selects(svc.selector, pod.labels):
            hosts |= {svc.name, f"{svc.name}.{svc.namespace}", f"{svc.name}.{svc.namespace}.svc", svc.fqdn}
    return hosts


def _host_matches(host: str, hosts: set[str]) -> bool:
    if host.startswith("*"):
        return any(h.endswith(host[1:]) for h in hosts)
    return host in hosts


class _Aged(Protocol):
    @property
    def created(self) -> datetime: ...
    @property
    def name(self) -> str: ...


_A = TypeVar("_A", bound=_Aged)


def _by_age(objs: Iterable[_A]) -> tuple[_A, ...]:
    return tuple(sorted(objs, key=lambda o: (o.created, o.name)))


def policies_for_namespace(snapshot: Snapshot, namespace: str) -> Scoped:
    """Mesh-wide PeerAuthentications, then everything in the namespace."""
    root = snapshot.mesh.root_namespace
    pas = [pa for pa in snapshot.peer_authentications.values()
           if pa.namespace == namespace or (pa.namespace == root and pa.selector is None)]
    return Scoped(
        peer_authentications=_by_age(pas),
        destination_rules=_by_age([d for d in snapshot.destination_rules.values() if d.namespace == namespace]),
        virtual_services=_by_age([v for v in snapshot.virtual_services.values() if v.namespace == namespace]),
        authorization_policies=_by_age(
            [a for a in snapshot.authorization_policies.values() if a.namespace == namespace]),
    )


def policies_for_pod(snapshot: Snapshot, pod: Pod) -> Scoped:
    """Policies that can act on this pod: as a server (PA, AuthZ, DR/VS for its Services)."""
    root = snapshot.mesh.root_namespace
    hosts = _hosts_of(snapshot, pod)
    pas = [pa for pa in snapshot.peer_authentications.values()
           if (pa.namespace == root and pa.selector is None)
           or (pa.namespace == pod.namespace and _selects(pa.selector, pod.labels))]
    aps = [a for a in snapshot.authorization_policies.values()
           if (a.namespace == root and a.selector is None)
           or (a.namespace == pod.namespace and _selects(a.selector, pod.labels))]
    drs = [d for d in snapshot.destination_rules.values() if _host_matches(d.host, hosts)]
    vss = [v for v in snapshot.virtual_services.values() if hosts.intersection(v.hosts)]
    return Scoped(_by_age(pas), _by_age(drs), _by_age(vss), _by_age(aps))

"""Which pods a Service selects and which container port a Service port reaches."""

from __future__ import annotations

from meshtui.model.objects import Pod, Service, ServicePort
from meshtui.model.snapshot import Snapshot
from meshtui.policy.labels import LabelIndex, SelectorIndex


def target_port(sp: ServicePort, pod: Pod) -> int | None:
    """The container port a Service port delivers to on this pod; a named targetPort is looked up
    in the pod's container ports as kube-proxy does (no match: the pod is not an endpoint)."""
    if isinstance(sp.target_port, int):
        return sp.target_port
    for c in pod.app_containers:
        for p in c.ports:
            if p.name == sp.target_port:
                return p.port
    return None


class ServiceIndex:
    """Services ↔ pods through selectors; services without a selector have no pod endpoints.

    ``pods`` indexes pods by label for any other selector look-up.
    """

    def __init__(self, snapshot: Snapshot):
        self.pods = LabelIndex(snapshot.pods.values(), lambda p: p.namespace, lambda p: p.labels)
        self._services = SelectorIndex(
            (s for s in snapshot.services.values() if s.selector),
            lambda s: s.namespace,
            lambda s: s.selector,
        )
        self._pods_of: dict[tuple[str, str], list[Pod]] = {}
        self.by_host = {s.fqdn: s for s in snapshot.services.values()}

    def pods_of(self, service: Service) -> list[Pod]:
        key = (service.namespace, service.name)
        pods = self._pods_of.get(key)
        if pods is None:
            pods = self._pods_of[key] = sorted(
                self.pods.selected_by(service.namespace, service.selector), key=lambda p: p.name
            )
        return pods

    def services_of(self, pod: Pod) -> list[Service]:
        return sorted(self._services.selecting(pod.namespace, pod.labels), key=lambda s: s.name)

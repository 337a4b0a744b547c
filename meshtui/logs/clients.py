"""Who sent a logged connection: a downstream address resolved against the cluster's pods. Pure.

Pod IPs name a pod, its workload and namespace; a node's IP (status.hostIP, or the IP of a
hostNetwork pod, which is the node's) means the connection came from the node itself: a NodePort
or an external client SNATed by kube-proxy, or the kubelet. Anything else stays the bare address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from meshtui.model.objects import Pod

ClientKind = Literal["pod", "node", "address"]


@dataclass(frozen=True, slots=True)
class Client:
    address: str  # the IP, without the port
    kind: ClientKind = "address"
    namespace: str = ""
    workload: str = ""
    pod: str = ""
    node: str = ""

    @property
    def label(self) -> str:
        """Short, for a column: "legacy/batch-reporter", "node kind-worker (NodePort/external)", "10.0.0.9"."""
        if self.kind == "pod":
            return f"{self.namespace}/{self.workload}"
        if self.kind == "node":
            return f"node {self.node} (NodePort/external)"
        return self.address

    def label_in(self, namespace: str) -> str:
        """The label as seen from ``namespace``: a pod of that namespace goes by its workload alone."""
        return self.workload if self.kind == "pod" and self.namespace == namespace else self.label

    @property
    def description(self) -> str:
        """For prose: the label with the address it was resolved from."""
        return self.address if self.kind == "address" else f"{self.label} ({self.address})"


def host_of(address: str | None) -> str | None:
    """The IP in an Envoy address ("10.0.0.1:443", "[fd00::1]:443"); None for Envoy's internal
    addresses ("envoy://…") and pipes."""
    if not address or address == "-" or "://" in address:
        return None
    if address.startswith("["):
        end = address.find("]")
        return address[1:end] if end > 1 else None
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host or None
    return address if sep == "" else None


class ClientIndex:
    """Pod and node IPs of one snapshot, for :meth:`resolve`."""

    def __init__(self, pods: Iterable[Pod] = ()) -> None:
        self._pods: dict[str, Pod] = {}
        self._nodes: dict[str, str] = {}
        for pod in pods:
            if pod.host_ip and pod.node:
                self._nodes.setdefault(pod.host_ip, pod.node)
            if not pod.ip:
                continue
            if pod.host_network:
                if pod.node:
                    self._nodes.setdefault(pod.ip, pod.node)
                continue
            held = self._pods.get(pod.ip)
            # An IP is reused after a pod ends: the live pod is the one that could have called.
            if held is None or _rank(pod) > _rank(held):
                self._pods[pod.ip] = pod

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientIndex) and self._nodes == other._nodes and \
            {ip: p.key for ip, p in self._pods.items()} == {ip: p.key for ip, p in other._pods.items()}

    __hash__ = None  # type: ignore[assignment]

    def resolve(self, address: str | None) -> Client | None:
        """The client behind ``address``; None when the address is absent or internal to Envoy."""
        ip = host_of(address)
        if ip is None:
            return None
        pod = self._pods.get(ip)
        if pod is not None:
            return Client(ip, "pod", pod.namespace, pod.workload_name, pod.name, pod.node)
        node = self._nodes.get(ip)
        if node is not None:
            return Client(ip, "node", node=node)
        return Client(ip)


def _rank(pod: Pod) -> tuple[bool, bool]:
    return (pod.phase == "Running", not pod.deleting)

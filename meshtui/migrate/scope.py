"""What a migration covers (namespaces or the whole mesh) and the port exceptions it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.injection import SYSTEM_NAMESPACES
from meshtui.tls.check import Scope as CheckScope


@dataclass(frozen=True, slots=True)
class Scope:
    namespaces: tuple[str, ...] = ()
    mesh: bool = False

    @classmethod
    def of(cls, namespaces: tuple[str, ...] | list[str] = (), *, mesh: bool = False) -> Scope:
        return cls((), True) if mesh else cls(tuple(sorted(set(namespaces))), False)

    def describe(self) -> str:
        return "mesh" if self.mesh else "namespace " + ", ".join(self.namespaces)

    def members(self, snapshot: Snapshot) -> list[str]:
        """The namespaces whose pods the migration makes STRICT. The mesh means every namespace
        but the root and Kubernetes' own (Istio never injects those)."""
        if not self.mesh:
            return list(self.namespaces)
        skip = SYSTEM_NAMESPACES | {snapshot.mesh.root_namespace}
        return sorted(ns.name for ns in snapshot.namespaces.values() if ns.name not in skip)

    def pods(self, snapshot: Snapshot) -> list[Pod]:
        """The members' pods, as the TLS check picks a namespace's (Observe runs that check)."""
        return [p for ns in self.members(snapshot) for p in CheckScope("namespace", ns).pods(snapshot)]

    def to_data(self) -> dict[str, Any]:
        return {"mesh": self.mesh, "namespaces": list(self.namespaces)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Scope:
        return cls.of([str(n) for n in data.get("namespaces") or ()], mesh=bool(data.get("mesh")))


@dataclass(frozen=True, slots=True, order=True)
class PortException:
    """A container port of a workload kept PERMISSIVE, and the client that needs it."""

    namespace: str
    workload: str
    port: int
    client: str = ""
    kind: str = "Deployment"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.namespace, self.workload, self.port)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.workload}:{self.port}"

    def to_data(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "workload": self.workload, "kind": self.kind, "port": self.port,
                "client": self.client}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PortException:
        return cls(str(data["namespace"]), str(data["workload"]), int(data["port"]), str(data.get("client") or ""),
                   str(data.get("kind") or "Deployment"))

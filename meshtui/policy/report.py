"""The engine's result types: frozen, so a report can be handed to the UI thread as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from meshtui.model.objects import Pod, Ref

STRICT = "STRICT"
PERMISSIVE = "PERMISSIVE"
DISABLE = "DISABLE"
NONE = "NONE"
MIXED = "MIXED"
UNSET = "UNSET"

LEVELS = ("mesh", "namespace", "workload", "port")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a mode comes from: a PeerAuthentication at a level, or the built-in default (kind "")."""

    kind: str
    namespace: str
    name: str
    level: str

    @property
    def ref(self) -> Ref | None:
        return Ref(self.kind, self.namespace, self.name) if self.kind else None

    def __str__(self) -> str:
        if not self.kind:
            return "default"
        return f"{self.level}: {self.kind} {self.namespace}/{self.name}"


DEFAULT_SOURCE = Source("", "", "", "default")


@dataclass(frozen=True, slots=True)
class PortMtls:
    port: int
    mode: str
    source: Source


@dataclass(frozen=True, slots=True)
class PodMtls:
    pod: Pod
    sidecar: bool
    mode: str
    source: Source
    ports: tuple[PortMtls, ...]
    # "sidecar", "ambient" or "none" (meshtui.policy.ambient); captured: ztunnel has the pod's traffic.
    dataplane: str = "sidecar"
    captured: bool = False
    # The mode came from the mesh level (or the default) while the mesh-wide policy could not be read.
    provisional: bool = False

    @property
    def in_mesh(self) -> bool:
        """A proxy enforces the pod's mode: its sidecar, or ztunnel once redirection is active."""
        return self.sidecar or self.captured

    def port(self, number: int) -> PortMtls | None:
        for p in self.ports:
            if p.port == number:
                return p
        return None


@dataclass(frozen=True, slots=True)
class NamespaceSummary:
    name: str
    injection: str
    mtls: str
    source: Source
    pods: int
    # Pods no proxy enforces a mode for (no sidecar, not captured by ztunnel).
    without_sidecar: int
    port_counts: Mapping[str, int] = field(default_factory=dict)
    # "sidecar", "ambient" or "none": what the namespace's labels ask for; pods ztunnel captures.
    dataplane: str = "none"
    ambient: int = 0
    # Why a part of this summary is a guess (a read RBAC refused); empty when all was read.
    provisional: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MeshSummary:
    mtls: str
    source: Source
    namespaces: int
    pods: int
    without_sidecar: int
    port_counts: Mapping[str, int] = field(default_factory=dict)
    # The reads RBAC refused, each named once ("Namespace shop", "PeerAuthentications in istio-system").
    unknown: tuple[str, ...] = ()
    # The mesh-wide mode is a guess: the root namespace's policies could not be read.
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """``kind/namespace/name`` is the object to fix; ``about`` the other objects the finding concerns
    (the pods a DestinationRule fails against, ...), so it is shown with them and nowhere else."""

    code: str
    severity: str
    kind: str
    namespace: str
    name: str
    message: str
    fix: str
    about: tuple[Ref, ...] = ()

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.namespace, self.name)

    @property
    def key(self) -> str:
        """Stable across snapshots while the finding stays the same: keeps a list's cursor on it."""
        return "\x1f".join((self.code, self.kind, self.namespace, self.name, self.message))

    @property
    def objects(self) -> tuple[Ref, ...]:
        return (self.ref, *self.about)

    def concerns_namespace(self, namespace: str) -> bool:
        return any(r.namespace == namespace or (r.kind == "Namespace" and r.name == namespace)
                   for r in self.objects)


@dataclass(frozen=True)
class MeshReport:
    pods: Mapping[tuple[str, str], PodMtls]
    namespaces: Mapping[str, NamespaceSummary]
    mesh: MeshSummary
    findings: tuple[Finding, ...]

"""A pod's container ports with the Services that reach them, for the port-scope mode picker."""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import port_mode
from meshtui.policy.services import ServiceIndex, target_port


@dataclass(frozen=True, slots=True)
class PortChoice:
    port: int
    name: str
    services: tuple[str, ...]  # "web:80 (http)" for each Service port that targets this port
    mode: str
    source: str

    def describe(self) -> str:
        via = ", ".join(self.services) if self.services else "no Service"
        named = f"/{self.name}" if self.name else ""
        return f"{self.port}{named}  ← {via}  {self.mode} ({self.source})"


def port_choices(snapshot: Snapshot, pod: Pod) -> list[PortChoice]:
    """Every declared container port, plus ports only Services name (undeclared but reachable)."""
    targets: dict[int, list[str]] = {}
    for svc in ServiceIndex(snapshot).services_of(pod):
        for sp in svc.ports:
            port = target_port(sp, pod)
            if port is not None:
                named = f" ({sp.name})" if sp.name else ""
                targets.setdefault(port, []).append(f"{svc.name}:{sp.port}{named}")
    names = {p.port: p.name for p in pod.ports}
    out = []
    for port in sorted(names.keys() | targets.keys()):
        effective = port_mode(snapshot, pod, port)
        out.append(PortChoice(port, names.get(port, ""), tuple(targets.get(port, ())), effective.mode,
                              str(effective.source)))
    return out

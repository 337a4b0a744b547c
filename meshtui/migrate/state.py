"""The wizard's saved state, one JSON file per context next to the change journal.

Quitting and reopening meshtui resumes the migration where it stopped. ``fingerprint`` is a digest
of the PeerAuthentications that decide the scope's modes as the wizard last left them: when the
cluster's differs, someone else changed them and the plan is made again from the cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from meshtui.migrate.scope import PortException, Scope
from meshtui.model.snapshot import Snapshot

STAGES = ("preflight", "observe", "plan", "apply", "verify", "done")
MAX_WINDOWS = 50
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class AppliedStep:
    title: str
    journal_id: str
    at: str
    yaml: str = ""  # the objects as the step left them, to reproduce elsewhere


@dataclass(frozen=True, slots=True)
class Window:
    start: str
    end: str
    callers: tuple[dict[str, Any], ...] = ()  # PlaintextCaller.to_data() of the window, with its source
    unknown: tuple[dict[str, Any], ...] = ()  # UnreadPod.to_data(): pods whose callers the window could not see


@dataclass(frozen=True, slots=True)
class Verifying:
    """The step being verified: enough to resume its window after a restart of meshtui."""

    title: str
    started: str
    ports: tuple[tuple[str, str, int], ...]  # (namespace, pod, container port) whose mode it changed
    before: str = ""  # fingerprint before the step: what a rollback returns to

    def to_data(self) -> dict[str, Any]:
        return {"title": self.title, "started": self.started, "ports": [list(p) for p in self.ports],
                "before": self.before}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Verifying:
        ports = tuple((str(a), str(b), int(c)) for a, b, c in data.get("ports") or ())
        return cls(str(data["title"]), str(data["started"]), ports, str(data.get("before") or ""))


@dataclass(frozen=True)
class MigrationState:
    context: str
    scope: Scope
    stage: str = "preflight"
    applied: tuple[AppliedStep, ...] = ()
    exceptions: tuple[PortException, ...] = ()
    windows: tuple[Window, ...] = ()
    fingerprint: str = ""
    rolled_back: tuple[str, ...] = field(default=())  # titles of steps verify rolled back
    verifying: Verifying | None = None

    def with_window(self, window: Window) -> MigrationState:
        return replace(self, windows=(*self.windows, window)[-MAX_WINDOWS:])

    def to_data(self) -> dict[str, Any]:
        return {
            "version": 1, "context": self.context, "scope": self.scope.to_data(), "stage": self.stage,
            "applied": [{"title": a.title, "journal_id": a.journal_id, "at": a.at, "yaml": a.yaml}
                        for a in self.applied],
            "exceptions": [e.to_data() for e in self.exceptions],
            "windows": [{"start": w.start, "end": w.end, "callers": list(w.callers), "unknown": list(w.unknown)}
                        for w in self.windows],
            "fingerprint": self.fingerprint, "rolled_back": list(self.rolled_back),
            "verifying": self.verifying.to_data() if self.verifying else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MigrationState:
        stage = str(data.get("stage") or "preflight")
        return cls(
            context=str(data["context"]), scope=Scope.from_data(data["scope"]),
            stage=stage if stage in STAGES else "preflight",
            applied=tuple(AppliedStep(str(a["title"]), str(a.get("journal_id") or ""), str(a.get("at") or ""),
                                      str(a.get("yaml") or "")) for a in data.get("applied") or ()),
            exceptions=tuple(PortException.from_data(e) for e in data.get("exceptions") or ()),
            windows=tuple(Window(str(w["start"]), str(w["end"]), tuple(w.get("callers") or ()),
                                 tuple(w.get("unknown") or ())) for w in data.get("windows") or ()),
            fingerprint=str(data.get("fingerprint") or ""),
            rolled_back=tuple(str(t) for t in data.get("rolled_back") or ()),
            verifying=Verifying.from_data(data["verifying"]) if data.get("verifying") else None,
        )


def state_path(journal_path: Path, context: str) -> Path:
    return journal_path.parent / "migrate" / f"{_UNSAFE.sub('_', context) or 'default'}.json"


def load(path: Path) -> MigrationState | None:
    """The saved state, or None when there is none or it cannot be read (a damaged file is not
    worth a traceback: the wizard starts over from the cluster's state)."""
    try:
        return MigrationState.from_data(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(state: MigrationState, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_data(), indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def fingerprint(snapshot: Snapshot, namespaces: Sequence[str]) -> str:
    """A digest of what decides the modes of ``namespaces``: their PeerAuthentications and the
    root namespace's (resourceVersions and timestamps left out: only content counts)."""
    relevant = set(namespaces) | {snapshot.mesh.root_namespace}
    items = sorted(
        (pa.namespace, pa.name, sorted((pa.selector or {}).items()), pa.mode or "",
         sorted((str(k), v or "") for k, v in pa.port_level.items()))
        for pa in snapshot.peer_authentications.values() if pa.namespace in relevant
    )
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]

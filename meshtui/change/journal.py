"""The change journal: one JSON line per applied change, and undo of the last one.

Append-only so a crash can at worst lose the line being written; a damaged line (truncated, binary,
not UTF-8, not JSON, nested too deep, missing fields) is skipped when reading, with a warning naming
it, rather than making the whole history unreadable. Each line is written with one write() on an
O_APPEND descriptor under an exclusive flock, so two meshtui processes never interleave lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from meshtui.backend.base import Backend, merge_patch
from meshtui.change.apply import ApplyResult, ReadOnlyError, apply_changes
from meshtui.change.bodies import clean, merge_diff, resource_version
from meshtui.change.diff import yaml_diff
from meshtui.change.plan import ChangePlan, ObjectChange, undo_plan
from meshtui.config import state_dir
from meshtui.model.convert import check_value, format_time
from meshtui.model.snapshot import Snapshot


def default_journal_path() -> Path:
    """$XDG_STATE_HOME/meshtui/journal.jsonl (~/.local/state/meshtui/journal.jsonl by default)."""
    return state_dir() / "journal.jsonl"


@dataclass(frozen=True, slots=True)
class JournalObject:
    kind: str
    namespace: str
    name: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # resourceVersion the server gave the object when it was applied ("" once deleted).
    resource_version: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: str
    time: str
    context: str
    title: str
    objects: tuple[JournalObject, ...]
    # Set on an undo entry: the id of the entry it reverted.
    undoes: str = ""

    def to_json(self) -> str:
        data = {
            "id": self.id, "time": self.time, "context": self.context, "title": self.title,
            "undoes": self.undoes,
            "objects": [
                {"kind": o.kind, "namespace": o.namespace, "name": o.name, "op": o.op,
                 "before": o.before, "after": o.after, "resourceVersion": o.resource_version}
                for o in self.objects
            ],
        }
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> JournalEntry:
        """Raises ValueError (with the reason) for anything but a whole, well-formed entry."""
        try:
            data = json.loads(line)
        except RecursionError:
            raise ValueError("nested too deep") from None
        if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
            raise ValueError("not a journal entry")
        for key in ("id", "time", "context", "title"):
            if not isinstance(data.get(key), str):
                raise ValueError(f"{key} is missing or not a string")
        return cls(data["id"], data["time"], data["context"], data["title"],
                   tuple(_object(o) for o in data["objects"]), str(data.get("undoes") or ""))


def _object(o: Any) -> JournalObject:
    if not isinstance(o, dict):
        raise ValueError("an object is not a map")
    for key in ("kind", "name", "op"):
        if not isinstance(o.get(key), str):
            raise ValueError(f"object {key} is missing or not a string")
    before, after = o.get("before"), o.get("after")
    if not (before is None or isinstance(before, dict)) or not (after is None or isinstance(after, dict)):
        raise ValueError("object before/after is not a map")
    check_value([before, after])  # shown as YAML diffs: bounded depth, valid text (Malformed is a ValueError)
    return JournalObject(o["kind"], str(o.get("namespace") or ""), o["name"], o["op"], before, after,
                         str(o.get("resourceVersion") or ""))


# A real entry is a few KB (two versions of a handful of objects); a longer line is damage.
MAX_LINE_BYTES = 1024 * 1024


class JournalUnusable(OSError):
    """The journal cannot be written (state directory is a file, no permission...); one line."""


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_journal_path()
        # Lines skipped by the last entries() call, each naming the file and line number.
        self.warnings: list[str] = []

    def check_writable(self) -> None:
        """Raise JournalUnusable, with one line saying why, if append() would fail."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError as exc:
            raise JournalUnusable(f"cannot write the change journal {self.path}: {exc.strerror or exc}") from None

    def append(self, entry: JournalEntry) -> None:
        data = (entry.to_json() + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalUnusable(f"cannot write the change journal {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(data)
            while view:  # a regular file takes it in one write; loop only for safety
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def entries(self) -> list[JournalEntry]:
        self.warnings = []
        try:
            with self.path.open("rb") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH)  # never read a line while another process writes it
                raw = fh.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.warnings.append(f"{self.path}: cannot read: {exc.strerror or exc}")
            return []
        out = []
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                if len(line) > MAX_LINE_BYTES:
                    raise ValueError(f"longer than {MAX_LINE_BYTES} bytes")
                if number == len(lines):
                    raise ValueError("truncated (no end of line; an interrupted write?)")
                out.append(JournalEntry.from_json(line.decode("utf-8")))
            except UnicodeDecodeError:
                self.warnings.append(f"{self.path}:{number}: skipped: not UTF-8 text")
            except ValueError as exc:
                self.warnings.append(f"{self.path}:{number}: skipped: {' '.join(str(exc).split())[:120]}")
        return out

    def record(self, context: str, title: str, result: ApplyResult, *, undoes: str = "",
               now: datetime | None = None) -> JournalEntry | None:
        """Append what a successful real apply changed; None (nothing written) otherwise."""
        if not result.applied:
            return None
        objects = tuple(
            JournalObject(o.change.kind, o.change.namespace, o.change.name, o.change.op,
                          o.change.before, o.change.after, resource_version(o.result))
            for o in result.applied
        )
        entry = JournalEntry(uuid.uuid4().hex, format_time(now or datetime.now(UTC)),
                             context, title, objects, undoes)
        self.append(entry)
        return entry

    def last_undoable(self, context: str) -> JournalEntry | None:
        """The newest change in the context that is not an undo, has not been undone and has
        something to revert: a restart cannot be reverted, so it never hides the change before it."""
        entries = [e for e in self.entries() if e.context == context]
        undone = {e.undoes for e in entries if e.undoes}
        for entry in reversed(entries):
            if not entry.undoes and entry.id not in undone and _revertible(entry):
                return entry
        return None


def _revertible(entry: JournalEntry) -> bool:
    return any(o.op != "restart" for o in entry.objects)


UndoStatus = Literal["planned", "undone", "refused", "nothing", "failed"]


@dataclass(frozen=True, slots=True)
class UndoResult:
    status: UndoStatus
    message: str
    entry: JournalEntry | None = None
    undo_entry: JournalEntry | None = None
    # For "refused": a YAML diff per object that changed since, recorded → current.
    diff: str = ""
    apply: ApplyResult | None = field(default=None)
    # For "planned": the undo as a change to preview and confirm.
    plan: ChangePlan | None = None


def _last_written(entries: list[JournalEntry], obj: JournalObject) -> JournalObject:
    """The journal's latest record of the object: ``obj`` itself unless a later change (since
    undone) and its undo touched it too, which leaves a newer resourceVersion that is ours."""
    latest = obj
    for entry in entries:
        for other in entry.objects:
            if (other.kind, other.namespace, other.name) == (obj.kind, obj.namespace, obj.name):
                latest = other
    return latest


def _drifted(written: JournalObject, current: dict[str, Any] | None) -> bool:
    if written.op == "delete":
        return current is not None
    return current is None or resource_version(current) != written.resource_version


def _inverse(obj: JournalObject, current: dict[str, Any] | None) -> ObjectChange:
    """The change that takes the object from its current (= recorded after) state to before."""
    if obj.op == "create":
        return ObjectChange(obj.kind, obj.namespace, obj.name, current, None, "delete")
    if obj.op == "delete":
        return ObjectChange(obj.kind, obj.namespace, obj.name, None, obj.before, "create")
    assert current is not None
    restored = merge_patch(current, merge_diff(clean(obj.after), clean(obj.before)))
    op: Literal["label", "patch"] = "label" if obj.op == "label" else "patch"
    return ObjectChange(obj.kind, obj.namespace, obj.name, current, restored, op)


def plan_undo(backend: Backend, journal: Journal, context: str, snapshot: Snapshot, *,
              read_only: bool = False) -> UndoResult:
    """The undo of the newest revertible change in ``context`` as a plan to preview ("planned"),
    or why there is none ("nothing", "refused" with the difference). Nothing is sent yet.

    Every object is checked first: if one was changed by someone else since (its resourceVersion
    is not the one recorded after the apply), the undo is refused and the difference returned.
    """
    if read_only:
        raise ReadOnlyError("meshtui is read-only: undo is not available")
    entry = journal.last_undoable(context)
    if entry is None:
        return UndoResult("nothing", f"nothing to undo in context {context}")
    objects = [o for o in entry.objects if o.op != "restart"]
    entries = [e for e in journal.entries() if e.context == context]
    later = entries[entries.index(entry) + 1:]
    written = {o.label: _last_written(later, o) for o in objects}
    current = {o.label: backend.get(o.kind, o.namespace, o.name) for o in objects}
    drift = [o for o in objects if _drifted(written[o.label], current[o.label])]
    if drift:
        diff = "\n".join(
            yaml_diff(written[o.label].after, current[o.label], label=o.label,
                      from_label="as meshtui left it", to_label="now")
            for o in drift
        )
        names = ", ".join(o.label for o in drift)
        return UndoResult("refused", f"changed since '{entry.title}': {names}; undo would overwrite it",
                          entry, diff=diff)
    changes = [_inverse(o, current[o.label]) for o in reversed(objects)]
    later_restarts = [e.title for e in later if not e.undoes and not _revertible(e)]
    namespaces = sorted({o.namespace or o.name for o in objects if o.namespace or o.kind == "Namespace"})
    notes = [f"reverts '{entry.title}', applied {entry.time} in context {context}",
             f"namespace(s): {', '.join(namespaces) or '-'}"]
    if any(o.op == "restart" for o in entry.objects):
        notes.append("its restarts cannot be reverted; pods keep running as restarted")
    if later_restarts:
        notes.append(f"not reverted (restarts cannot be): {', '.join(later_restarts)}")
    plan = undo_plan(snapshot, f"Undo: {entry.title}", f"context {context}", changes, notes=notes,
                     undoes=entry.id)
    return UndoResult("planned", plan.title, entry, plan=plan)


def apply_undo(backend: Backend, journal: Journal, context: str, result: UndoResult, *,
               dry_run: bool = False) -> UndoResult:
    """Apply a planned undo (after the user confirmed its preview) and journal it."""
    plan, entry = result.plan, result.entry
    assert plan is not None and entry is not None
    applied = apply_changes(backend, plan.changes, dry_run=dry_run)
    if not applied.ok:
        return UndoResult("failed", applied.error, entry, apply=applied)
    if dry_run:
        return UndoResult("undone", f"dry run: '{entry.title}' can be undone", entry, apply=applied)
    undo_entry = journal.record(context, plan.title, applied, undoes=entry.id)
    return UndoResult("undone", f"undone: {entry.title}", entry, undo_entry, apply=applied)


def undo_last(backend: Backend, journal: Journal, context: str, *, dry_run: bool = False,
              read_only: bool = False) -> UndoResult:
    """Plan and apply the undo without a preview (for tests and scripted use, --yes)."""
    result = plan_undo(backend, journal, context, Snapshot(), read_only=read_only)
    if result.status != "planned":
        return result
    return apply_undo(backend, journal, context, result, dry_run=dry_run)

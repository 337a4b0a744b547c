"""Applying a plan through the Backend protocol: server-side dry run, or for real with rollback.

Only the generic Backend mutation calls are used, so the simulated mesh and a real cluster take
exactly the same path. A multi-object change is never left half-applied: when an object fails,
the objects already changed are put back and the result names each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from meshtui.backend.base import Backend, BackendError, Conflict
from meshtui.change.bodies import clean, label_delta, merge_diff, resource_version
from meshtui.change.plan import ChangePlan, ObjectChange


class ReadOnlyError(Exception):
    """A mutation was attempted while meshtui runs read-only."""


@dataclass(frozen=True, slots=True)
class ObjectOutcome:
    change: ObjectChange
    error: str = ""
    # The object as the server returned it (None after a delete or a failure).
    result: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class ApplyResult:
    dry_run: bool
    outcomes: tuple[ObjectOutcome, ...] = ()
    error: str = ""
    conflict: bool = False
    rolled_back: tuple[str, ...] = ()
    rollback_failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def applied(self) -> tuple[ObjectOutcome, ...]:
        """Objects changed and kept (none when the apply failed and was rolled back)."""
        if self.dry_run or not self.ok:
            return ()
        return self.outcomes


def _patch_body(patch: dict[str, Any], rv: str) -> dict[str, Any]:
    """A merge patch that the server refuses with 409 if the object moved past ``rv``."""
    if rv:
        patch.setdefault("metadata", {})["resourceVersion"] = rv
    return patch


def _forward(backend: Backend, c: ObjectChange, dry_run: bool) -> dict[str, Any] | None:
    if c.op == "create":
        return backend.create(c.kind, clean(c.after) or {}, dry_run=dry_run)
    if c.op == "patch":
        patch = _patch_body(merge_diff(clean(c.before), clean(c.after)), resource_version(c.before))
        return backend.patch(c.kind, c.namespace, c.name, patch, dry_run=dry_run)
    if c.op == "delete":
        backend.delete(c.kind, c.namespace, c.name, dry_run=dry_run,
                       resource_version=resource_version(c.before) or None)
        return None
    if c.op == "label":
        return backend.label_namespace(c.name, label_delta(c.before, c.after), dry_run=dry_run)
    return backend.restart_workload(c.kind, c.namespace, c.name, dry_run=dry_run)


def _revert(backend: Backend, c: ObjectChange, result: dict[str, Any] | None) -> None:
    """Put one applied object back to its before state. Raises BackendError when that fails."""
    if c.op == "create":
        backend.delete(c.kind, c.namespace, c.name, resource_version=resource_version(result) or None)
    elif c.op == "patch":
        patch = _patch_body(merge_diff(clean(c.after), clean(c.before)), resource_version(result))
        backend.patch(c.kind, c.namespace, c.name, patch)
    elif c.op == "delete":
        backend.create(c.kind, clean(c.before) or {})
    elif c.op == "label":
        backend.label_namespace(c.name, label_delta(c.after, c.before))
    else:
        raise BackendError(f"{c.label}: a restart cannot be taken back")


def _describe(c: ObjectChange, exc: BackendError) -> str:
    return f"{c.op} {c.label}: {exc}"


def apply_changes(backend: Backend, changes: Sequence[ObjectChange], *, dry_run: bool) -> ApplyResult:
    """Apply in order. A dry run sends every object (collecting every rejection) and changes
    nothing; a real apply stops at the first failure and rolls back what it already changed."""
    outcomes: list[ObjectOutcome] = []
    errors: list[str] = []
    conflict = False
    for change in changes:
        try:
            result = _forward(backend, change, dry_run)
        except BackendError as exc:
            conflict = conflict or isinstance(exc, Conflict)
            errors.append(_describe(change, exc))
            outcomes.append(ObjectOutcome(change, error=str(exc)))
            if dry_run:
                continue
            rolled, failed = _roll_back(backend, outcomes[:-1])
            return ApplyResult(False, tuple(outcomes), errors[0], conflict, rolled, failed)
        outcomes.append(ObjectOutcome(change, result=result))
    return ApplyResult(dry_run, tuple(outcomes), "; ".join(errors), conflict)


def _roll_back(backend: Backend, done: Sequence[ObjectOutcome]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rolled: list[str] = []
    failed: list[str] = []
    for outcome in reversed(done):
        try:
            _revert(backend, outcome.change, outcome.result)
        except BackendError as exc:
            failed.append(_describe(outcome.change, exc))
        else:
            rolled.append(outcome.change.label)
    return tuple(rolled), tuple(failed)


def apply_plan(backend: Backend, plan: ChangePlan, *, dry_run: bool, read_only: bool = False) -> ApplyResult:
    if read_only:
        raise ReadOnlyError("meshtui is read-only: no change is sent to the cluster")
    return apply_changes(backend, plan.changes, dry_run=dry_run)

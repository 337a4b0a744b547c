"""Unified YAML diffs of a change's objects, as the preview and a refused undo show them."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

import yaml

from meshtui.backend.base import RESTARTED_AT
from meshtui.change.bodies import clean
from meshtui.change.plan import ChangePlan, ObjectChange


def to_yaml(body: Mapping[str, Any] | None) -> str:
    """YAML of the body without server noise; "" for an absent object."""
    cleaned = clean(body)
    if cleaned is None:
        return ""
    return yaml.safe_dump(cleaned, sort_keys=False, default_flow_style=False)


def yaml_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
              label: str, from_label: str = "before", to_label: str = "after") -> str:
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(keepends=True),
        to_yaml(after).splitlines(keepends=True),
        fromfile=f"{label} ({from_label})",
        tofile=f"{label} ({to_label})",
    )
    return "".join(lines)


def change_diff(change: ObjectChange) -> str:
    if change.op == "restart":
        return (f"# {change.label}: rollout restart (pod template annotation {RESTARTED_AT}); "
                "pods are replaced one by one\n")
    return yaml_diff(change.before, change.after, label=change.label)


def plan_diff(plan: ChangePlan) -> str:
    return "\n".join(change_diff(c) for c in plan.changes)

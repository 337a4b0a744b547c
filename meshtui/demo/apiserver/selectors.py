"""labelSelector and fieldSelector parsing and matching with apiserver semantics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from meshtui.demo.apiserver.status import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET_OP = re.compile(r"^\s*([^\s!=<>,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_OP = re.compile(r"^\s*([^\s!=<>,()]+)\s*(==|=|!=|>|<)\s*([^\s,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=<>,()]+)\s*$")

# Fields every resource supports, plus the pod fields kube-apiserver registers selectors for.
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
               "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName")


def _split_requirements(selector: str) -> list[str]:
    """Split on commas that are not inside an `in (...)` value list."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if match := _SET_OP.match(text):
        key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: key not in labels or labels[key] not in values
    if match := _EQ_OP.match(text):
        key, op, value = match.groups()
        if op in ("=", "=="):
            return lambda labels: labels.get(key) == value
        if op == "!=":
            return lambda labels: labels.get(key) != value
        try:
            bound = int(value)
        except ValueError:
            raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                              f"an integer: {value}") from None
        sign = 1 if op == ">" else -1

        def compare(labels: Mapping[str, str]) -> bool:
            try:
                return sign * (int(labels[key]) - bound) > 0
            except (KeyError, ValueError):
                return False
        return compare
    if match := _EXISTS.match(text):
        negate, key = match.groups()
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    raise bad_request(f"unable to parse requirement: found '{text.strip()}', expected: identifier")


def label_matcher(selector: str) -> Matcher | None:
    if not selector.strip():
        return None
    requirements = [_requirement(part) for part in _split_requirements(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in requirements)
    return matches


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def field_matcher(selector: str, kind: str) -> Matcher | None:
    if not selector.strip():
        return None
    allowed = _COMMON_FIELDS + (_POD_FIELDS if kind == "Pod" else ())
    checks: list[tuple[str, bool, str]] = []
    for part in selector.split(","):
        match = re.fullmatch(r"\s*([^!=\s]+)\s*(==|=|!=)\s*(\S*)\s*", part)
        if not match:
            raise bad_request(f'invalid selector: \'{selector}\'; can\'t understand \'{part}\'')
        path, op, value = match.groups()
        if path not in allowed:
            if kind == "Pod":
                raise bad_request(f'field label not supported: {path}')
            raise bad_request(f'"{path}" is not a known field selector: only "metadata.name", '
                              f'"metadata.namespace"')
        checks.append((path, op != "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) == equal for path, equal, value in checks)
    return matches

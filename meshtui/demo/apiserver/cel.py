"""The few CEL rules the Istio CRDs use on the resources meshtui writes, evaluated in Python.

Not a CEL engine: each supported rule text (whitespace-normalised, exactly as it appears in
crd-all.gen.yaml) maps to a Python predicate. Rules not in the table are skipped and listed by
:func:`unsupported_rules`, so a test can see which checks the emulator does not make.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class CelEvalError(Exception):
    """A runtime error in a rule; the apiserver reports it as "<error> evaluating rule: <rule>"."""


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CelEvalError("type conversion error from 'string' to 'int'") from None


def _port_level_mtls_needs_selector(spec: dict[str, Any]) -> bool:
    if "portLevelMtls" not in spec:
        return True
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    # Rules run on the schema-checked value: matchLabels is a map, or absent (a null is dropped first).
    return isinstance(labels, dict) and len(labels) > 0


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(text: str) -> float:
    """Seconds in a Go duration string ("1h30m", "250ms"), as CEL's duration() parses it."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    parts = _GO_DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise CelEvalError('type conversion error from \'string\' to \'google.protobuf.Duration\'')
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return -seconds if text.startswith("-") else seconds


RULES: dict[str, Callable[[Any], bool]] = {
    # PeerAuthentication
    "has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? "
    "self.selector.matchLabels : {}).size() > 0) : true": _port_level_mtls_needs_selector,
    "self.all(key, 0 < int(key) && int(key) <= 65535)": lambda m: all(0 < _int(k) <= 65535 for k in m),
    '!self.contains("*")': lambda s: "*" not in s,
    'self.all(key, !key.contains("*"))': lambda m: all("*" not in k for k in m),
    "self.all(key, key.size() != 0)": lambda m: all(len(k) != 0 for k in m),
    # Port numbers and durations in DestinationRule / VirtualService / Sidecar.
    "0 < self && self <= 65535": lambda n: 0 < n <= 65535,
    "duration(self) >= duration('1ms')": lambda s: _duration(s) >= 1e-3,
    # targetRef namespaces in AuthorizationPolicy.
    "self.size() == 0": lambda v: len(v) == 0,
}


def normalise(rule: str) -> str:
    return " ".join(rule.split())


def evaluate(rule: str, value: Any) -> bool | None:
    """True/False for a supported rule, None when the rule is not in the table."""
    predicate = RULES.get(normalise(rule))
    return None if predicate is None else predicate(value)


def unsupported_rules(schema: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for validation in node.get("x-kubernetes-validations", ()):
                if normalise(validation["rule"]) not in RULES:
                    found.add(normalise(validation["rule"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    return found

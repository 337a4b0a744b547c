"""The demo server's embedded Istio types against Istio's real CRDs: same kinds, versions, names, rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from meshtui.demo.apiserver.istio_crds import istio_types
from meshtui.demo.apiserver.resources import ResourceType, load_crds
from tests.shared_fixtures import ISTIO_CRDS

RULE_KEYS = ("type", "enum", "required", "x-kubernetes-validations", "minProperties", "maxProperties",
             "maxLength", "minimum", "maximum", "maxItems")
EMBEDDED = {rt.kind: rt for rt in istio_types()}
REAL = {rt.kind: rt for rt in load_crds(ISTIO_CRDS)}


def nodes(schema: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from nodes(child, (*path, name))
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from nodes(schema[key], (*path, f"[{key}]"))


def at(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for step in path:
        if node is None:
            return None
        node = node.get(step[1:-1]) if step.startswith("[") else (node.get("properties") or {}).get(step)
    return node


def rules(node: dict[str, Any]) -> dict[str, Any]:
    found = {k: node[k] for k in RULE_KEYS if k in node}
    if "x-kubernetes-validations" in found:
        found["x-kubernetes-validations"] = sorted((v["rule"], v["message"]) for v in found[
            "x-kubernetes-validations"])
    return found


def test_every_real_istio_kind_that_meshtui_serves_is_there() -> None:
    assert set(EMBEDDED) <= set(REAL)
    assert {"PeerAuthentication", "DestinationRule", "AuthorizationPolicy", "VirtualService", "Gateway",
            "Sidecar", "ServiceEntry"} <= set(EMBEDDED)


@pytest.mark.parametrize("kind", sorted(EMBEDDED))
def test_names_versions_and_scope_match(kind: str) -> None:
    ours, real = EMBEDDED[kind], REAL[kind]
    fields = ("group", "versions", "plural", "singular", "namespaced", "short_names", "categories", "subresources")
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(real, f) for f in fields}


def _schema(rt: ResourceType) -> dict[str, Any]:
    assert rt.schemas is not None
    return rt.schemas[rt.versions[0]]


@pytest.mark.parametrize("kind", sorted(EMBEDDED))
def test_every_embedded_rule_is_the_real_one(kind: str) -> None:
    real = _schema(REAL[kind])
    for path, node in nodes(_schema(EMBEDDED[kind])):
        if path[:1] == ("status",):
            continue
        real_node = at(real, path)
        assert real_node is not None, f"{kind}: {'.'.join(path)} is not in Istio's schema"
        ours, theirs = rules(node), rules(real_node)
        where = f"{kind}: {'.'.join(path) or '<root>'}"
        # A subset: the embedded schema may leave out a real rule, never state one Istio lacks.
        assert set(ours.pop("x-kubernetes-validations", [])) <= set(theirs.pop("x-kubernetes-validations", [])), where
        assert {k: theirs.get(k) for k in ours} == ours, where


@pytest.mark.parametrize("kind", ["PeerAuthentication"])
def test_peer_authentication_has_every_real_rule(kind: str) -> None:
    ours = _schema(EMBEDDED[kind])
    for path, node in nodes(_schema(REAL[kind])):
        if path[:1] == ("status",) or not rules(node):
            continue
        our_node = at(ours, path)
        assert our_node is not None and rules(our_node) == rules(node), f"{kind}: {'.'.join(path)}"

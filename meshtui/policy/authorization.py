"""AuthorizationPolicy as a server sidecar applies it to one request (pure).

Istio's semantics (istio.io/latest/docs/reference/config/security/authorization-policy/): policies
in the server's namespace and the root namespace whose selector matches the workload apply; a DENY
rule that matches denies; otherwise, when any ALLOW policy applies, one of its rules must match.
Strings match exactly, as "*", or as a "prefix*" / "*suffix". Principals and namespaces come from
the peer's mTLS identity, so they match nothing for a plaintext caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshtui.model.objects import AuthorizationPolicy, Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.labels import matches


def principal_of(pod: Pod) -> str:
    """The principal an mTLS peer presents: its ServiceAccount's SPIFFE identity, without the scheme."""
    return f"cluster.local/ns/{pod.namespace}/sa/{pod.service_account}"


def _string_match(pattern: str, value: str) -> bool:
    """Istio's AuthorizationPolicy string match: exact, "*", prefix "abc*" or suffix "*abc"."""
    if pattern == "*":
        return bool(value)
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _field_matches(spec: Mapping[str, Any], key: str, value: str) -> bool:
    """A positive field and its not-field; absent fields match everything."""
    yes, no = spec.get(key), spec.get("not" + key[0].upper() + key[1:])
    if yes is not None and not any(_string_match(str(p), value) for p in yes):
        return False
    return not (no is not None and any(_string_match(str(p), value) for p in no))


def _rule_matches(rule: Mapping[str, Any], principal: str, port: int, method: str, path: str) -> bool:
    source_ns = principal.split("/ns/", 1)[1].split("/", 1)[0] if "/ns/" in principal else ""
    sources = [f.get("source") or {} for f in rule.get("from") or ()]
    if sources and not any(
        _field_matches(s, "principals", principal) and _field_matches(s, "namespaces", source_ns)
        for s in sources
    ):
        return False
    operations = [t.get("operation") or {} for t in rule.get("to") or ()]
    return not operations or any(
        _field_matches(o, "ports", str(port))
        and _field_matches(o, "methods", method)
        and _field_matches(o, "paths", path.split("?", 1)[0])
        for o in operations
    )


def authorization(
    snapshot: Snapshot, server: Pod, principal: str, port: int, method: str, path: str
) -> str | None:
    """None when the server's sidecar lets the request through, else Envoy's RBAC response details.

    DENY policies are checked first; then, if any ALLOW policy applies, one of its rules must match.
    A policy without rules (``spec: {}``) is the usual allow-nothing default-deny.
    """
    root = snapshot.mesh.root_namespace
    applicable: list[AuthorizationPolicy] = [
        ap
        for ap in snapshot.authorization_policies.values()
        if ap.namespace in (server.namespace, root)
        and (ap.selector is None or matches(ap.selector, server.labels))
    ]
    for ap in sorted(applicable, key=lambda a: (a.namespace, a.name)):
        if ap.action == "DENY":
            for i, rule in enumerate(ap.rules):
                if _rule_matches(rule, principal, port, method, path):
                    return (
                        f"rbac_access_denied_matched_policy[ns[{ap.namespace}]-policy[{ap.name}]-rule[{i}]]"
                    )
    allows = [ap for ap in applicable if ap.action == "ALLOW"]
    if allows and not any(_rule_matches(r, principal, port, method, path) for ap in allows for r in ap.rules):
        return "rbac_access_denied_matched_policy[none]"
    return None

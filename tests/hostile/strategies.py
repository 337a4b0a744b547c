"""Hypothesis strategies for what arrives from outside: JSON values, text with control characters,
Kubernetes objects with wrong types in the places meshtui reads."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Characters that drive a terminal or fake layout, plus a lone surrogate (valid in JSON, not in UTF-8).
NASTY_CHARS = ["\x1b[2J", "\x1b]0;pwned\x07", "\x9b31m", "\x00", "\r", "\n", "\u202e", "\u2066", "\ud800", "\t"]

nasty_text = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(NASTY_CHARS)), max_size=6).map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), nasty_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(nasty_text, children, max_size=4)),
    max_leaves=12,
)

KINDS = ["Namespace", "Pod", "Service", "Deployment", "StatefulSet", "DaemonSet", "Job", "PeerAuthentication",
         "DestinationRule", "AuthorizationPolicy", "VirtualService", "Sidecar"]


@st.composite
def k8s_objects(draw: st.DrawFn, kind: str | None = None, *, valid_name: bool = False) -> dict[str, Any]:
    """An object of a modelled kind whose fields are sometimes right and sometimes any JSON value."""
    kind = kind or draw(st.sampled_from(KINDS))

    def maybe(good: st.SearchStrategy[Any]) -> Any:
        return draw(st.one_of(good, json_values))

    name = draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)) if valid_name else maybe(nasty_text)
    meta: dict[str, Any] = {"name": name}
    for field, good in (
        ("namespace", st.just("shop")),
        ("labels", st.dictionaries(nasty_text, nasty_text, max_size=3)),
        ("annotations", st.dictionaries(nasty_text, nasty_text, max_size=3)),
        ("creationTimestamp", st.just("2026-11-24T12:00:00Z")),
        ("resourceVersion", st.just("7")),
        ("ownerReferences", st.just([{"kind": "ReplicaSet", "name": "x"}])),
    ):
        if draw(st.booleans()):
            meta[field] = maybe(good)
    if valid_name:
        meta["namespace"] = "shop"
    spec = maybe(st.fixed_dictionaries({}, optional={
        "containers": json_values, "ports": json_values, "selector": json_values, "mtls": json_values,
        "portLevelMtls": json_values, "trafficPolicy": json_values, "template": json_values,
        "replicas": json_values, "hosts": json_values, "workloadSelector": json_values, "rules": json_values,
    }))
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec, "status": maybe(json_values)}

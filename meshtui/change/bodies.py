"""Kubernetes JSON bodies for the objects a change touches, and the pure dict algebra on them.

Plans keep before/after as plain Kubernetes dicts (not model objects) so the same values can be
sent to the API server, diffed for the preview, written to the journal and converted back into a
predicted snapshot.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from meshtui.model.convert import format_time
from meshtui.model.objects import EPOCH, Namespace, PeerAuthentication

PA_API_VERSION = "security.istio.io/v1"
# On every object meshtui creates, so `kubectl get pa -l app.kubernetes.io/managed-by=meshtui` finds them.
MANAGED_BY = {"app.kubernetes.io/managed-by": "meshtui"}

# Server-maintained metadata: it differs between reads of the same object, so it is left out of
# diffs, patches and re-created bodies.
_NOISY_METADATA = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def namespace_body(ns: Namespace) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": ns.name, "labels": dict(ns.labels)}
    if ns.annotations:
        metadata["annotations"] = dict(ns.annotations)
    if ns.resource_version:
        metadata["resourceVersion"] = ns.resource_version
    if ns.created != EPOCH:
        metadata["creationTimestamp"] = format_time(ns.created)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata, "status": {"phase": ns.phase}}


def peer_authentication_body(pa: PeerAuthentication) -> dict[str, Any]:
    """The policy as the server holds it: its raw JSON when read from a cluster, else rebuilt."""
    if pa.raw:
        body = copy.deepcopy(dict(pa.raw))
        body.setdefault("apiVersion", PA_API_VERSION)
        body.setdefault("kind", "PeerAuthentication")
        return body
    metadata: dict[str, Any] = {"name": pa.name, "namespace": pa.namespace}
    if pa.resource_version:
        metadata["resourceVersion"] = pa.resource_version
    if pa.created != EPOCH:
        metadata["creationTimestamp"] = format_time(pa.created)
    spec: dict[str, Any] = {}
    if pa.selector:
        spec["selector"] = {"matchLabels": dict(pa.selector)}
    if pa.mode:
        spec["mtls"] = {"mode": pa.mode}
    if pa.port_level:
        spec["portLevelMtls"] = {
            str(port): ({"mode": mode} if mode else {}) for port, mode in sorted(pa.port_level.items())
        }
    return {"apiVersion": PA_API_VERSION, "kind": "PeerAuthentication", "metadata": metadata, "spec": spec}


def resource_version(body: Mapping[str, Any] | None) -> str:
    if not body:
        return ""
    return str((body.get("metadata") or {}).get("resourceVersion") or "")


def clean(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The body without server-maintained metadata and status: what a user wrote, what a diff shows."""
    if body is None:
        return None
    out = copy.deepcopy(dict(body))
    out.pop("status", None)
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        for key in _NOISY_METADATA:
            metadata.pop(key, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(_LAST_APPLIED, None)
            if not annotations:
                metadata.pop("annotations")
    return out


def merge_diff(source: Any, target: Any) -> Any:
    """The RFC 7386 merge patch that turns ``source`` into ``target`` (inverse of merge_patch).

    Lists and scalars are replaced whole, as merge patch does; removed keys become None.
    """
    if not isinstance(source, Mapping) or not isinstance(target, Mapping):
        return copy.deepcopy(target)
    patch: dict[str, Any] = {}
    for key in source.keys() - target.keys():
        patch[key] = None
    for key, value in target.items():
        if key not in source:
            patch[key] = copy.deepcopy(value)
        elif source[key] != value:
            if isinstance(value, Mapping) and isinstance(source[key], Mapping):
                patch[key] = merge_diff(source[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch


def labels_of(body: Mapping[str, Any] | None) -> dict[str, str]:
    if not body:
        return {}
    return dict((body.get("metadata") or {}).get("labels") or {})


def label_delta(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Labels to set (value) or remove (None) to go from ``before``'s labels to ``after``'s."""
    old, new = labels_of(before), labels_of(after)
    delta: dict[str, str | None] = {k: None for k in old.keys() - new.keys()}
    delta.update({k: v for k, v in new.items() if old.get(k) != v})
    return delta

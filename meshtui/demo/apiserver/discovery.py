"""Discovery documents (/version, /api, /apis, APIResourceLists) built from the served types."""

from __future__ import annotations

from typing import Any

from meshtui.demo.apiserver.resources import ResourceType, version_priority

KUBERNETES_VERSION = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.4",
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596",
    "gitTreeState": "clean", "buildDate": "2024-08-14T19:02:46Z", "goVersion": "go1.22.5",
    "compiler": "gc", "platform": "linux/amd64",
}

_SUBRESOURCE_VERBS = {"exec": ("create", "get"), "log": ("get",),
                      "proxy": ("create", "delete", "get", "patch", "update"),
                      "status": ("get", "patch", "update"), "scale": ("get", "patch", "update")}
_SUBRESOURCE_KIND = {"exec": "PodExecOptions", "log": "Pod", "proxy": "PodProxyOptions", "scale": "Scale"}


def group_versions(types: list[ResourceType]) -> dict[str, list[str]]:
    """Served versions per group, preferred first."""
    found: dict[str, set[str]] = {}
    for rt in types:
        found.setdefault(rt.group, set()).update(rt.versions)
    return {group: sorted(versions, key=version_priority) for group, versions in found.items()}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(types: list[ResourceType]) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in group_versions(types).items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(types: list[ResourceType], name: str) -> dict[str, Any] | None:
    versions = group_versions(types).get(name)
    if not versions or not name:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(types: list[ResourceType], group: str, version: str) -> dict[str, Any] | None:
    served = [rt for rt in types if rt.group == group and version in rt.versions]
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(served, key=lambda r: r.plural):
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": list(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            resources.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                              "kind": _SUBRESOURCE_KIND.get(sub, rt.kind),
                              "verbs": list(_SUBRESOURCE_VERBS[sub])})
    # The core group's list carries no apiVersion; named groups' lists do.
    head = {"kind": "APIResourceList", "apiVersion": "v1"} if group else {"kind": "APIResourceList"}
    return {**head, "groupVersion": f"{group}/{version}" if group else version, "resources": resources}

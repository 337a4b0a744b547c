"""The resource types the emulator serves: built-in core/apps types and CRDs loaded from YAML."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple[str, ...]  # served versions, preferred first
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # OpenAPI v3 schema per served version; None for built-in types, which the emulator does not validate.
    schemas: dict[str, dict[str, Any]] | None = field(default=None, compare=False)

    @property
    def qualified(self) -> str:
        """How apiserver messages name the resource: "pods", "peerauthentications.security.istio.io"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def is_crd(self) -> bool:
        return self.schemas is not None

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering: GA before beta before alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0)
    major, level, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[level]
    return (rank, -int(major), -int(minor or 0))


def _builtin(group: str, plural: str, kind: str, *, namespaced: bool = True, short: tuple[str, ...] = (),
             verbs: tuple[str, ...] = ALL_VERBS, subresources: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType(group=group, versions=("v1",), plural=plural, singular=kind.lower(), kind=kind,
                        namespaced=namespaced, verbs=verbs, short_names=short, subresources=subresources)


BUILTINS: tuple[ResourceType, ...] = (
    _builtin("", "namespaces", "Namespace", namespaced=False, short=("ns",),
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
             subresources=("status",)),
    _builtin("", "pods", "Pod", short=("po",), subresources=("exec", "log", "proxy", "status")),
    _builtin("", "services", "Service", short=("svc",), subresources=("proxy", "status")),
    _builtin("", "events", "Event", short=("ev",)),
    _builtin("apps", "deployments", "Deployment", short=("deploy",), subresources=("scale", "status")),
    _builtin("apps", "statefulsets", "StatefulSet", short=("sts",), subresources=("scale", "status")),
    _builtin("apps", "daemonsets", "DaemonSet", short=("ds",), subresources=("status",)),
    _builtin("apps", "replicasets", "ReplicaSet", short=("rs",), subresources=("scale", "status")),
    _builtin("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
             namespaced=False, verbs=("create",)),
)


def crd_resource(crd: dict[str, Any]) -> ResourceType:
    spec = crd["spec"]
    names = spec["names"]
    served = [v for v in spec["versions"] if v.get("served")]
    served.sort(key=lambda v: version_priority(v["name"]))
    subresources = tuple(sorted(next((v.get("subresources") or {} for v in served), {})))
    return ResourceType(
        group=spec["group"], versions=tuple(v["name"] for v in served), plural=names["plural"],
        singular=names.get("singular", names["plural"]), kind=names["kind"],
        namespaced=spec["scope"] == "Namespaced", short_names=tuple(names.get("shortNames", ())),
        categories=tuple(names.get("categories", ())), subresources=subresources,
        schemas={v["name"]: v["schema"]["openAPIV3Schema"] for v in served},
    )


def load_crds(path: Path) -> tuple[ResourceType, ...]:
    """The CRDs in a YAML file, parsed once per process (the Istio file takes seconds to parse)."""
    return _parse_crds(Path(path).resolve())


@functools.cache
def _parse_crds(path: Path) -> tuple[ResourceType, ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as stream:
        docs: Iterable[Any] = yaml.load_all(stream, Loader=loader)
        return tuple(crd_resource(d) for d in docs if d and d.get("kind") == "CustomResourceDefinition")

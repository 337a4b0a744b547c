"""Kubernetes manifests (files, directories, stdin) → a Snapshot, for ``meshtui check -f``.

Workloads become template pods so the engine can evaluate them like running pods; whether each
would get a sidecar is predicted as Istio's injector would decide it once applied.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence, TextIO

import yaml

from meshtui.model import convert
from meshtui.model.objects import PROXY_CONTAINER, Container, Namespace, Pod, Workload
from meshtui.model.snapshot import ModelObject, Snapshot
from meshtui.policy.injection import would_inject

SUFFIXES = (".yaml", ".yml", ".json")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


# libyaml's loader reads large manifest sets about ten times faster; pure Python where it is not built in.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestError(Exception):
    """Unusable input; the message names the file (and line for YAML errors)."""


def _documents(text: str, name: str) -> Iterator[tuple[int, Any]]:
    try:
        yield from enumerate(yaml.load_all(text, Loader=SAFE_LOADER), start=1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        message = f"{where}: {exc.problem or exc.context or 'invalid YAML'}"
        ctx = exc.context_mark
        if exc.context and ctx is not None and mark is not None and ctx.line != mark.line:
            # Unclosed brackets and quotes are reported where the stream ends; say where they began.
            message += f" ({exc.context} started at line {ctx.line + 1})"
        raise ManifestError(message) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{name}: {exc}") from None


def _files(path: str) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in SUFFIXES)
    if p.is_file():
        return [p]
    raise ManifestError(f"{path}: no such file or directory")


def _sources(paths: Sequence[str], stdin: TextIO | None) -> Iterator[tuple[str, str]]:
    for path in paths:
        if path == "-":
            yield "<stdin>", (stdin or sys.stdin).read()
            continue
        for f in _files(path):
            try:
                yield str(f), f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ManifestError(f"{f}: {exc}") from None


def _objects(doc: Any, name: str, index: int) -> Iterator[Mapping[str, Any]]:
    if doc is None:
        return
    if not isinstance(doc, Mapping):
        raise ManifestError(f"{name}: document {index} is not a Kubernetes object")
    if doc.get("kind") == "List" or (str(doc.get("kind", "")).endswith("List") and "items" in doc):
        for item in doc.get("items") or ():
            yield from _objects(item, name, index)
        return
    yield doc


def template_pod(workload: Workload, raw: Mapping[str, Any]) -> Pod:
    """The pod a workload's template describes, named after the workload."""
    spec = ((raw.get("spec") or {}).get("template") or {}).get("spec") or {}
    return Pod(
        namespace=workload.namespace,
        name=workload.name,
        labels=dict(workload.template_labels),
        annotations=dict(workload.template_annotations),
        containers=workload.containers,
        init_containers=workload.init_containers,
        phase="Template",
        service_account=workload.service_account,
        owner_kind=workload.kind,
        owner_name=workload.name,
        template=True,
        host_network=bool(spec.get("hostNetwork")),
    )


def with_predicted_sidecar(pod: Pod, namespace: Namespace | None) -> Pod:
    if pod.has_sidecar or any(c.name == PROXY_CONTAINER for c in pod.init_containers):
        return pod  # an explicit istio-proxy container is kept as written (custom injection)
    if not would_inject(namespace, pod.labels, pod.annotations, host_network=pod.host_network):
        return pod
    return replace(pod, containers=(*pod.containers, Container(PROXY_CONTAINER)))


def load_paths(paths: Sequence[str], stdin: TextIO | None = None) -> Snapshot:
    """Read manifests; kinds meshtui does not model are ignored."""
    objects: list[ModelObject] = []
    pods: list[Pod] = []
    for name, text in _sources(paths, stdin):
        for index, doc in _documents(text, name):
            for raw in _objects(doc, name, index):
                kind = raw.get("kind", "")
                try:
                    if kind in WORKLOAD_KINDS:
                        wl = convert.workload(raw)
                        objects.append(wl)
                        pods.append(template_pod(wl, raw))
                    elif kind == "Pod":
                        pods.append(convert.pod(raw, template=True))
                    else:
                        obj = convert.from_k8s(raw)
                        if obj is not None:
                            objects.append(obj)
                except (AttributeError, TypeError, ValueError) as exc:
                    meta = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else {}
                    raise ManifestError(
                        f"{name}: document {index} ({kind} {meta.get('name', '?')}) is malformed: {exc}"
                    ) from None
    namespaces = {o.name: o for o in objects if isinstance(o, Namespace)}
    objects += [with_predicted_sidecar(p, namespaces.get(p.namespace)) for p in pods]
    return Snapshot.build(objects)

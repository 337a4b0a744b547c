"""Kubernetes manifests (files, directories, stdin) → a Snapshot, for ``meshtui check -f``.

Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) become template pods so the
engine can evaluate them like running pods; whether each would get a sidecar is predicted as Istio's
injector would decide it once applied. A Pod object is taken as it is (from ``kubectl get pods -o yaml``
or a support bundle it is already past admission), with the containers it has, as istioctl analyze does.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence, TextIO

import yaml

from meshtui.forking import map_shares
from meshtui.model import convert
from meshtui.model.convert import Skipped
from meshtui.model.objects import PROXY_CONTAINER, Container, Namespace, Pod, Workload
from meshtui.model.snapshot import ModelObject, Snapshot
from meshtui.policy.injection import would_inject
from meshtui.yamlfile import MAX_YAML_BYTES, YamlLimitError, load_all

SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """Unusable input; the message names the file (and line for YAML errors)."""


def _documents(text: str, name: str) -> Iterator[tuple[int, Any]]:
    try:
        documents = load_all(text)
    except YamlLimitError as exc:
        where = f"{name}:{exc.line}" if exc.line else name
        raise ManifestError(f"{where}: refused: {exc.problem} (see docs/limits.md)") from None
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
        raise ManifestError(f"{name}: {' '.join(str(exc).split())}") from None
    yield from enumerate(documents, start=1)


def _files(path: str) -> list[Path]:
    if not path:
        raise ManifestError("-f needs a file, a directory or - for stdin (got an empty path)")
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in SUFFIXES)
    if p.exists():
        # Not only regular files: /dev/stdin, /dev/fd/N (<(kustomize build ...)) and FIFOs are inputs.
        return [p]
    if p.is_symlink():
        raise ManifestError(f"{path}: a broken symbolic link")
    raise ManifestError(f"{path}: no such file or directory")


def _bounded(name: str, text: str) -> str:
    if len(text) > MAX_YAML_BYTES:
        raise ManifestError(f"{name}: refused: larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB (see docs/limits.md)")
    return text


# An input: a file, "-" (stdin), or a path that cannot be read, raised when its turn comes.
Input = Path | str | ManifestError


def _inputs(paths: Sequence[str]) -> list[Input]:
    inputs: list[Input] = []
    for path in paths:
        try:
            inputs += ["-"] if path == "-" else _files(path)
        except ManifestError as exc:
            inputs.append(exc)
    return inputs


def _read(source: Input, stdin: TextIO | None) -> tuple[str, str]:
    """(name, text) of an input."""
    if isinstance(source, ManifestError):
        raise source
    if source == "-":
        return "<stdin>", _bounded("<stdin>", (stdin or sys.stdin).read(MAX_YAML_BYTES + 1))
    try:
        # Read one character past the limit, never the whole of an endless or huge input. A
        # regular file's size is known: read whole, it is read 5× faster than with a size.
        with open(source, encoding="utf-8") as fh:
            info = os.fstat(fh.fileno())
            whole = stat.S_ISREG(info.st_mode) and info.st_size <= MAX_YAML_BYTES
            text = fh.read() if whole else fh.read(MAX_YAML_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return str(source), _bounded(str(source), text)


def _objects(doc: Any) -> Iterator[Any]:
    """The objects of a document: itself, or the items of a List (items are checked by the converter)."""
    if doc is None:
        return
    kind = doc.get("kind") if isinstance(doc, Mapping) else None
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        yield from (item for item in doc["items"] if item is not None)
        return
    yield doc


def _with_pod_template(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A CronJob's pod template sits one level deeper (spec.jobTemplate.spec.template)."""
    if not isinstance(raw, Mapping) or raw.get("kind") != "CronJob":
        return raw  # anything else (a non-object too) is for the converter to take or refuse
    job_spec = ((raw.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
    return {**raw, "spec": job_spec}


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


@dataclass
class _Loaded:
    """What some inputs hold: the objects taken as they are, the template pods of their workloads
    (their sidecars not predicted yet: the Namespace objects may come later) and what was left out."""

    objects: list[ModelObject] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _load(inputs: Sequence[Input], stdin: TextIO | None = None) -> _Loaded:
    loaded = _Loaded()
    for source in inputs:
        name, text = _read(source, stdin)
        for index, doc in _documents(text, name):
            for raw in _objects(doc):
                try:
                    flat = _with_pod_template(raw)
                    obj = convert.from_k8s(flat)
                except convert.Malformed as exc:
                    loaded.skipped.append(Skipped(f"{name}: document {index} ({convert.describe(raw)})", str(exc)))
                    continue
                if isinstance(obj, Workload):
                    # A template not applied yet: the pod it makes gets the sidecar injection would add.
                    loaded.objects.append(obj)
                    loaded.pods.append(template_pod(obj, flat))
                elif obj is not None:
                    # A Pod (or any other object) is taken as it is, with the containers it has.
                    loaded.objects.append(obj)
    return loaded


# Below this much YAML a forked worker costs more than it saves.
SPREAD_BYTES = 256 * 1024


def _shares(inputs: list[Input], workers: int) -> list[list[Input]] | None:
    """``inputs`` cut into up to ``workers`` runs of about the same size, in order; None when they
    are not all regular files (stdin is this process's to read) or too few bytes to be worth it."""
    sizes = []
    for source in inputs:
        if not isinstance(source, Path):
            return None
        try:
            info = source.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        sizes.append(info.st_size)
    total = sum(sizes)
    if workers < 2 or len(inputs) < 2 or total < SPREAD_BYTES:
        return None
    shares: list[list[Input]] = [[]]
    done = 0
    for source, size in zip(inputs, sizes, strict=True):
        if done >= total * len(shares) / workers:
            shares.append([])
        shares[-1].append(source)
        done += size
    return shares


def load_paths(paths: Sequence[str], stdin: TextIO | None = None, *, workers: int = 1) -> Snapshot:
    """Read manifests; kinds meshtui does not model are ignored; malformed objects are left out and
    listed in ``Snapshot.skipped``, each named by file and document number. With ``workers`` > 1
    (single-threaded callers only), many files are read on that many cores."""
    inputs = _inputs(paths)
    shares = _shares(inputs, workers)
    parts = map_shares(_load, shares) if shares else [_load(inputs, stdin)]
    objects = [obj for part in parts for obj in part.objects]
    namespaces = {o.name: o for o in objects if isinstance(o, Namespace)}
    objects += [with_predicted_sidecar(p, namespaces.get(p.namespace)) for part in parts for p in part.pods]
    return Snapshot.build(objects, skipped=[str(s) for part in parts for s in part.skipped])

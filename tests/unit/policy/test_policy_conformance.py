"""Conformance with istioctl analyze's own tests (../shared/fixtures/istio-analyzer/EXPECTED.md):
for the IST codes meshtui implements, the same (code, resource) pairs and no extras.

The inputs are read as cluster state (as istioctl's analyzer reads them), not as manifests whose
injection is still to come, so a bare Pod is a running pod.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from meshtui.model.convert import from_k8s
from meshtui.model.snapshot import Snapshot
from meshtui.policy.evaluation import evaluate

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "istio-analyzer"
IMPLEMENTED = {"IST0102", "IST0103", "IST0123", "IST0128", "IST0129"}

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"{FIXTURES} not present")


def _cases() -> list[tuple[str, list[str], set[tuple[str, str, str]]]]:
    if not FIXTURES.is_dir():
        return []
    cases = []
    for block in (FIXTURES / "EXPECTED.md").read_text().split("\n### ")[1:]:
        name = block.split("`")[1]
        files = re.findall(r"`([^`]+\.yaml)`", block.split("- inputFiles:")[1].split("\n")[0])
        expected = set()
        for code, resource in re.findall(r"^\s+- `(IST\d{4})` .*? — `([^`]+)`", block, re.M):
            kind, _, ref = resource.partition(" ")
            namespace, _, obj = ref.rpartition("/")
            expected.add((code, kind, f"{namespace}/{obj}" if namespace else obj))
        cases.append((name, files, expected))
    return cases


def _load(files: list[str]) -> Snapshot:
    objs = []
    for f in files:
        for doc in yaml.safe_load_all((FIXTURES / f).read_text()):
            obj = from_k8s(doc) if isinstance(doc, dict) else None
            if obj is not None:
                objs.append(obj)
    return Snapshot.build(objs)


def _resource(namespace: str, name: str, has_namespace: bool) -> str:
    return f"{namespace}/{name}" if has_namespace and namespace else name


CASES = _cases()


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_messages_as_istioctl(files: list[str], expected: set[tuple[str, str, str]]) -> None:
    if not {code for code, _, _ in expected} <= IMPLEMENTED:
        pytest.skip("expects codes meshtui does not implement (IST0148 needs the injector ConfigMap)")
    namespaced = {kind for _, kind, ref in expected if "/" in ref} | {"Pod"}
    got = {
        (f.code, f.kind, _resource(f.namespace, f.name, f.kind in namespaced))
        for f in evaluate(_load(files)).findings
        if f.code.startswith("IST")
    }
    assert got == expected


def test_expectations_were_read() -> None:
    assert len(CASES) == 10
    assert sum(1 for _, _, expected in CASES if not expected) == 3

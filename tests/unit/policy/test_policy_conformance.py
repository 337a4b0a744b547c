"""Conformance with istioctl analyze's own tests (../shared/fixtures/istio-analyzer/EXPECTED.md):
for the IST codes meshtui implements, the same (code, resource) pairs and no extras.

The inputs go through ``meshtui check -f`` itself (argument parsing, manifest loading, JSON output), so
the path a user runs is the one tested: a Pod object is taken with the containers it has, as
istioctl's analyzer takes it.
"""

from __future__ import annotations

import json
import re

import pytest

from meshtui.__main__ import main
from tests.shared_fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "istio-analyzer"
IMPLEMENTED = {"IST0102", "IST0103", "IST0123", "IST0128", "IST0129"}

def _cases() -> list[tuple[str, list[str], set[tuple[str, str, str]]]]:
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


def _check(files: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    argv = ["check", "-o", "json", "--fail-on", "never"]
    for f in files:
        argv += ["-f", str(FIXTURES / f)]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)["findings"]


def _resource(namespace: str, name: str, has_namespace: bool) -> str:
    return f"{namespace}/{name}" if has_namespace and namespace else name


CASES = _cases()


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_messages_as_istioctl(files: list[str], expected: set[tuple[str, str, str]],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    if not {code for code, _, _ in expected} <= IMPLEMENTED:
        pytest.skip("expects codes meshtui does not implement (IST0148 needs the injector ConfigMap)")
    namespaced = {kind for _, kind, ref in expected if "/" in ref} | {"Pod"}
    got = {
        (f["code"], f["kind"], _resource(f["namespace"], f["name"], f["kind"] in namespaced))
        for f in _check(files, capsys)
        if f["code"].startswith("IST")
    }
    assert got == expected


def test_expectations_were_read() -> None:
    assert len(CASES) == 10
    assert sum(1 for _, _, expected in CASES if not expected) == 3

"""What travels back from a forked worker (meshtui.forking): model objects rebuilt equal, through
their ``__init__``, and other objects the standard way; how manifests are cut into shares."""

from __future__ import annotations

import pickle
import pickletools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from meshtui import forking, manifests
from meshtui.model import convert
from tests.objects import deployment, namespace, peer_auth


@dataclass(frozen=True)
class Derived:
    """A frozen dataclass whose __init__ does not take every field: it goes the standard way."""

    value: int
    double: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "double", self.value * 2)


@dataclass
class Mutable:
    items: list[int]


@pytest.mark.parametrize("value", [
    convert.from_k8s(namespace("shop", **{"istio-injection": "enabled"})),
    convert.from_k8s(peer_auth("shop", "strict", mode="STRICT", selector={"app": "a"}, ports={8080: "PERMISSIVE"})),
    convert.from_k8s(deployment("shop", "a", {"app": "a"})),
    [Derived(3), Mutable([1, 2]), {"nested": (Derived(4),)}],
], ids=["namespace", "peer-authentication", "workload", "others"])
def test_results_come_back_equal(value: Any) -> None:
    assert pickle.loads(forking._dumps(value)) == value


def opcodes(data: bytes) -> set[str]:
    return {op.name for op, _, _ in pickletools.genops(data)}


def test_model_objects_are_rebuilt_through_their_init() -> None:
    workload = convert.from_k8s(deployment("shop", "a", {"app": "a"}))
    # The standard way sets the state after building (BUILD: the dataclass's slow __setstate__).
    assert "BUILD" in opcodes(pickle.dumps(workload, pickle.HIGHEST_PROTOCOL))
    assert "BUILD" not in opcodes(forking._dumps(workload))
    assert forking._init_fields(Derived) is None and forking._init_fields(Mutable) is None


def sized(root: Path, sizes: list[int]) -> list[manifests.Input]:
    files = []
    for index, size in enumerate(sizes):
        files.append(root / f"{index}.yaml")
        files[-1].write_text("#" * size)
    return files


@pytest.mark.parametrize(("sizes", "workers", "cut"), [
    ([100] * 6, 3, [2, 2, 2]),
    ([100] * 6, 2, [3, 3]),
    ([500, 100, 100, 100, 100, 100], 2, [1, 5]),  # about the same bytes each, in order
    ([100] * 3, 8, [1, 1, 1]),  # never an empty share
    ([100] * 6, 1, None),
    ([600], 4, None),  # one file is read whole by one process
    ([10] * 6, 3, None),  # too little to be worth a fork
])
def test_shares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sizes: list[int], workers: int,
                cut: list[int] | None) -> None:
    monkeypatch.setattr(manifests, "SPREAD_BYTES", 300)
    files = sized(tmp_path, sizes)
    shares = manifests._shares(files, workers)
    assert (shares and [len(share) for share in shares]) == cut
    assert shares is None or [f for share in shares for f in share] == files


def test_no_shares_with_stdin_or_an_unreadable_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "SPREAD_BYTES", 0)
    files = sized(tmp_path, [100] * 4)
    assert manifests._shares(files, 2) is not None
    assert manifests._shares([*files, "-"], 2) is None
    assert manifests._shares([*files, manifests.ManifestError("missing")], 2) is None

"""kept_to_the_end: no automatic collection while a command builds what it keeps, and what it built
is frozen afterwards (meshtui/bulk_gc.py); `meshtui check`, `tls` and `migrate` build their
snapshot so, from manifests or from a cluster (the API emulator)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.__main__ import main
from meshtui.backend.kube import KubeBackend
from meshtui.bulk_gc import kept_to_the_end
from meshtui.cli import check
from meshtui.demo.apiserver import Emulator


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test run keeps collecting its garbage
    gc.enable()


@pytest.mark.parametrize("enabled", [True, False])
def test_collections_pause_inside_and_what_was_built_is_frozen(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    gc.unfreeze()
    with kept_to_the_end():
        assert not gc.isenabled()
        built = [{"i": i} for i in range(1000)]
    assert gc.isenabled() is enabled
    assert gc.get_freeze_count() >= len(built)


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_garbage_from_before_is_collected_not_frozen() -> None:
    cycle = _Node()
    gone = weakref.ref(cycle)
    del cycle  # a cycle: only the collector frees it
    with kept_to_the_end():
        pass
    assert gone() is None


def test_check_builds_its_snapshot_without_collections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    load = check.load_paths
    monkeypatch.setattr(check, "load_paths", lambda *a, **k: (seen.append(gc.isenabled()), load(*a, **k))[1])
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    gc.unfreeze()
    assert main(["check", "-f", str(tmp_path), "--fail-on", "never"]) == 0
    assert seen == [False] and gc.isenabled() and gc.get_freeze_count() > 0


@pytest.mark.parametrize("command", [["check"], ["tls", "-n", "default", "--window", "10ms"],
                                     ["migrate", "--plan", "-n", "default", "--window", "0"]])
def test_commands_read_the_cluster_without_collections(command: list[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    read = KubeBackend.snapshot
    monkeypatch.setattr(KubeBackend, "snapshot", lambda self: (seen.append(gc.isenabled()), read(self))[1])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    emulator = Emulator()
    emulator.start()
    try:
        emulator.kubeconfig(str(tmp_path / "kubeconfig"), context="emulator")
        main(["--kubeconfig", str(tmp_path / "kubeconfig"), *command])
    finally:
        emulator.stop()
    assert seen and not any(seen) and gc.isenabled()

"""KubeBackend on hostile list and watch bodies served by the API emulator over real HTTP: malformed
objects are skipped and named by kind/name, everything else still arrives, nothing raises."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.backend.base import SKIPPED_STATUS
from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.model.snapshot import ChangeEvent
from meshtui.text import safe_line
from tests.hostile.counter import count
from tests.hostile.strategies import k8s_objects

# Namespaces are left out: the emulator fills in their status when seeding and needs it to be a map.
SERVED_KINDS = ["Pod", "Service", "Deployment", "StatefulSet", "DaemonSet", "PeerAuthentication",
                "DestinationRule", "AuthorizationPolicy", "VirtualService", "Sidecar"]
_names = itertools.count()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, KubeBackend]]:
    with Emulator(istio=True) as emu:
        emu.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        path = emu.kubeconfig(Path(tmp_path_factory.mktemp("kc")) / "kubeconfig")
        backend = KubeBackend(kubeconfig=str(path), request_timeout=5.0)
        backend.connect()
        yield emu, backend
        backend.close()


def _unique(obj: dict) -> dict:
    obj["metadata"]["name"] = f"{obj['metadata']['name']}-{next(_names)}"
    return obj


@settings(max_examples=20)
@given(objects=st.lists(st.sampled_from(SERVED_KINDS).flatmap(lambda k: k8s_objects(k, valid_name=True)),
                        min_size=1, max_size=3))
def test_lists_skip_malformed_objects(cluster: tuple[Emulator, KubeBackend], objects: list[dict]) -> None:
    emu, backend = cluster
    for obj in objects:
        emu.add(_unique(obj))
    count("API list items", len(objects))
    snapshot = backend.snapshot()
    names = {o.name for o in snapshot.objects()} | {s.split(": ", 1)[0].rsplit("/", 1)[-1] for s in snapshot.skipped}
    for obj in objects:
        assert obj["metadata"]["name"] in names  # each object is either in the snapshot or named as skipped
    for line in snapshot.skipped:
        assert "\n" not in safe_line(line)


def test_a_watch_skips_a_malformed_event_and_keeps_streaming(cluster: tuple[Emulator, KubeBackend]) -> None:
    emu, backend = cluster
    backend.snapshot()
    stop = threading.Event()
    events: list[ChangeEvent] = []
    statuses: list[str] = []
    thread = threading.Thread(target=backend.watch, args=(events.extend, stop, statuses.append), daemon=True)
    thread.start()
    try:
        _wait(lambda: "watching" in statuses)
        emu.add({"kind": "Pod", "metadata": {"name": "bad", "namespace": "shop", "labels": {"v": 2}}})
        emu.add({"kind": "Pod", "metadata": {"name": "good", "namespace": "shop"}, "spec": {}})
        count("API watch events", 2)
        _wait(lambda: any(e.obj.name == "good" for e in events))
        assert [s for s in statuses if s.startswith(SKIPPED_STATUS)] == [
            f"{SKIPPED_STATUS}Pod shop/bad: metadata.labels.v is int, not a string (quote it)"
        ]
    finally:
        stop.set()
        thread.join(5)


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def watching(cluster: tuple[Emulator, KubeBackend]) -> Iterator[tuple[Emulator, list[str], list[str]]]:
    """A watch running for the whole module: names of objects it emitted, statuses it reported."""
    emu, backend = cluster
    backend.snapshot()
    stop = threading.Event()
    names: list[str] = []
    statuses: list[str] = []
    thread = threading.Thread(target=backend.watch, daemon=True,
                              args=(lambda events: names.extend(e.obj.name for e in events), stop, statuses.append))
    thread.start()
    _wait(lambda: "watching" in statuses)
    yield emu, names, statuses
    stop.set()
    thread.join(5)


@settings(max_examples=20)
@given(obj=st.sampled_from(SERVED_KINDS).flatmap(lambda k: k8s_objects(k, valid_name=True)))
def test_watch_events_with_malformed_objects(watching: tuple[Emulator, list[str], list[str]], obj: dict) -> None:
    emu, names, statuses = watching
    name = _unique(obj)["metadata"]["name"]
    emu.add(obj)
    count("API watch events")
    # Each event arrives either as a change or as a notice naming the skipped object; the watch goes on.
    _wait(lambda: name in names or any(s.startswith(SKIPPED_STATUS) and f"/{name}:" in s for s in statuses))
    assert not [s for s in statuses if s.startswith("reconnecting")]

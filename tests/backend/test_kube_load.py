"""KubeBackend.load over HTTP: the first namespace first, then the cluster in pages, then what watch() continues."""

from __future__ import annotations

import threading

from meshtui.backend.base import LoadStep
from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.model.objects import Pod
from meshtui.model.snapshot import ChangeEvent, Snapshot
from meshtui.policy.evaluation import evaluate
from meshtui.sync_state import SyncState
from tests.backend.test_kube_backend import MESH_NS, add_pods, wait_until


def first_of(chosen: list[str]) -> object:
    def pick(names: list[str]) -> str | None:
        chosen.extend(names)
        return MESH_NS

    return pick


def test_first_step_holds_the_chosen_namespace_and_the_root_policies(emulator: Emulator, kube: KubeBackend) -> None:
    add_pods(emulator, 1100)
    names: list[str] = []
    steps = kube.load(first_of(names), "istio-system")  # type: ignore[arg-type]
    first = next(steps)
    assert names == sorted(names) and MESH_NS in names
    assert first.mesh is not None and first.mesh.istio_installed
    kinds = {type(o).__name__ for o in first.objects}
    pods = [o for o in first.objects if isinstance(o, Pod)]
    assert {p.namespace for p in pods} == {MESH_NS}
    assert first.pods == len(pods) == len([p for p in emulator.objects("Pod")
                                           if p["metadata"]["namespace"] == MESH_NS])
    assert {o.name for o in first.objects if type(o).__name__ == "Namespace"} == set(names)
    root_pas = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in emulator.objects("PeerAuthentication")
                if p["metadata"]["namespace"] in ("istio-system", MESH_NS)}
    assert {(o.namespace, o.name) for o in first.objects if type(o).__name__ == "PeerAuthentication"} == root_pas
    assert "Namespace" in kinds
    # Only namespace-scoped requests so far: nothing listed every pod of the cluster yet.
    assert not any(r.path == "/api/v1/pods" for r in emulator.requests)
    rest: list[LoadStep] = list(steps)
    assert rest[-1].complete is not None
    assert all(step.complete is None for step in rest[:-1])
    pages = [r.query for r in emulator.requests if r.method == "GET" and r.path == "/api/v1/pods"]
    assert [q.get("limit") for q in pages] == ["500"] * len(pages) and len(pages) >= 2


def test_the_complete_step_equals_a_snapshot_and_progress_counts_pods(emulator: Emulator,
                                                                       kubeconfig: str) -> None:
    add_pods(emulator, 1100)
    loader = KubeBackend(kubeconfig=kubeconfig)
    steps = list(loader.load(lambda names: names[0], "istio-system"))
    complete = steps[-1].complete
    assert complete is not None
    reference = KubeBackend(kubeconfig=kubeconfig).snapshot()
    assert complete == reference
    assert steps[-1].pods == steps[-1].pods_total == len(emulator.objects("Pod"))
    counts = [s.pods for s in steps[1:]]
    assert counts == sorted(counts)
    totals = {s.pods_total for s in steps[1:-1] if s.pods_total is not None}
    assert totals <= {len(emulator.objects("Pod"))}  # remainingItemCount: an estimate, exact here
    loader.close()


def test_watch_continues_from_the_completed_load(emulator: Emulator, kube: KubeBackend) -> None:
    list(kube.load(lambda names: names[0], "istio-system"))
    seen: list[ChangeEvent] = []
    stop = threading.Event()
    watcher = threading.Thread(target=kube.watch, args=(seen.extend, stop))
    watcher.start()
    try:
        add_pods(emulator, 1)
        wait_until(lambda: any(ev.obj.name == "bulk-0000" for ev in seen))
        # The load's objects are known: the watch does not replay them as ADDED.
        assert all(ev.obj.name == "bulk-0000" for ev in seen)
    finally:
        stop.set()
        watcher.join(5)


def test_namespace_objects_lists_one_namespace(emulator: Emulator, kube: KubeBackend) -> None:
    objects = kube.namespace_objects(MESH_NS)
    assert objects and {getattr(o, "namespace", None) for o in objects} == {MESH_NS}
    expected = {p["metadata"]["name"] for p in emulator.objects("Pod") if p["metadata"]["namespace"] == MESH_NS}
    assert {o.name for o in objects if isinstance(o, Pod)} == expected


def test_a_namespace_fetched_ahead_of_the_stream_then_the_complete_load_equal_a_full_evaluation(
        emulator: Emulator, kube: KubeBackend) -> None:
    add_pods(emulator, 600)
    state = SyncState()
    steps = kube.load(first_of([]), "istio-system")  # type: ignore[arg-type]
    first = next(steps)
    assert first.mesh is not None
    snapshot, _ = state.start(Snapshot.build(first.objects, first.mesh), [MESH_NS])
    other = next(ns.name for ns in snapshot.namespaces.values() if ns.name != MESH_NS)
    assert state.claim(other) and not state.claim(other)  # fetched once
    assert not snapshot.pods_in(other)
    fetched = state.add(kube.namespace_objects(other))
    assert fetched is not None
    expected = {p["metadata"]["name"] for p in emulator.objects("Pod") if p["metadata"]["namespace"] == other}
    assert {p.name for p in fetched[0].pods_in(other)} == expected
    assert {k[1] for k in fetched[1].pods if k[0] == other} == expected
    for step in steps:
        result = state.add(step.objects) if step.complete is None else state.complete(step.complete)
    assert state.loaded and not state.claim("anything")
    assert result is not None
    complete, report = result
    full = evaluate(Snapshot.build(complete.objects(), complete.mesh))
    assert dict(report.pods) == dict(full.pods)
    assert list(report.namespaces.items()) == list(full.namespaces.items())
    assert (report.mesh, report.findings) == (full.mesh, full.findings)

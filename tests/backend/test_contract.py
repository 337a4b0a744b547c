"""One contract for every Backend: the demo cluster and KubeBackend over HTTP against the API
emulator (both seeded with the same demo objects), plus a real cluster for the read-only and dry-run
part when MESHTUI_E2E_KUBECONFIG is set."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from meshtui.backend.base import RESTARTED_AT, Backend, Conflict, Invalid, NotFound
from meshtui.backend.kube_resources import CORE_KINDS, ISTIO_KINDS, WAYPOINT_KIND
from meshtui.demo.mesh import demo_objects
from meshtui.model.convert import from_k8s
from meshtui.model.snapshot import COLLECTION, ChangeEvent, Snapshot
from tests.backend.conftest import SEED, START, BackendFactory

NS = "legacy"
WAIT = 5.0


# What KubeBackend lists (it reads Deployments, not the ReplicaSets under them).
READ_KINDS = {rk.kind for rk in (*CORE_KINDS, *ISTIO_KINDS, WAYPOINT_KIND)}


def seed_model() -> Snapshot:
    objects = (o for o in demo_objects(START, SEED) if o["kind"] in READ_KINDS)
    return Snapshot.build(m for m in (from_k8s(o) for o in objects) if m is not None)


def peer_auth(name: str, namespace: str = NS, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec or {"mtls": {"mode": "STRICT"}},
    }


def mode_of(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else obj["spec"]["mtls"]["mode"]


class Collector:
    """Watch events gathered on a background thread, with a wait for the one a test expects."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self._cond = threading.Condition()

    def emit(self, batch: list[ChangeEvent]) -> None:
        with self._cond:
            self.events.extend(batch)
            self._cond.notify_all()

    def wait_for(self, match: Callable[[ChangeEvent], bool]) -> ChangeEvent:
        with self._cond:
            found: list[ChangeEvent] = []

            def seen() -> bool:
                found[:] = [e for e in self.events if match(e)]
                return bool(found)

            assert self._cond.wait_for(seen, timeout=WAIT), f"no matching event in {self.events}"
            return found[0]


@contextmanager
def watching(backend: Backend) -> Iterator[Collector]:
    collector = Collector()
    stop = threading.Event()
    thread = threading.Thread(target=backend.watch, args=(collector.emit, stop), daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive(), "watch() did not return promptly after stop"


# -- reading ---------------------------------------------------------------------------------------

def test_connect_reports_the_cluster(make_any_backend: BackendFactory) -> None:
    backend = make_any_backend()
    assert isinstance(backend, Backend)
    info = backend.connect()
    assert info.context == backend.context
    assert info.context in backend.contexts()
    assert info.kubernetes_version.startswith("v")


@pytest.mark.parametrize("collection", list(COLLECTION.values()))
def test_snapshot_holds_the_seeded_objects(make_backend: BackendFactory, collection: str) -> None:
    backend = make_backend()
    assert set(getattr(backend.snapshot(), collection)) == set(getattr(seed_model(), collection))


def project(snap: Snapshot, collection: str, view: Callable[[Any], Any]) -> dict[Any, Any]:
    return {key: view(obj) for key, obj in getattr(snap, collection).items()}


STATE_VIEWS: dict[str, Callable[[Any], Any]] = {
    "pods": lambda p: p.has_sidecar,
    "namespaces": lambda n: n.injection,
    "peer_authentications": lambda p: (p.mode, p.selector, dict(p.port_level)),
    "destination_rules": lambda r: (r.host, r.tls),
    "authorization_policies": lambda a: (a.action, a.selector),
}


@pytest.mark.parametrize("collection", list(STATE_VIEWS))
def test_snapshot_keeps_sidecar_and_policy_state(make_backend: BackendFactory, collection: str) -> None:
    snap, seed = make_backend().snapshot(), seed_model()
    view = STATE_VIEWS[collection]
    assert project(snap, collection, view) == project(seed, collection, view)
    assert snap.mesh.istio_installed


def test_snapshot_is_consistent(make_any_backend: BackendFactory) -> None:
    snap = make_any_backend().snapshot()
    assert snap.namespaces
    names = {n.name for n in snap.namespaces.values()}
    assert {p.namespace for p in snap.pods.values()} <= names


def test_get_missing_is_none(make_any_backend: BackendFactory) -> None:
    assert make_any_backend().get("Namespace", "", "meshtui-no-such-namespace") is None


# -- mutations -------------------------------------------------------------------------------------

def test_create_then_get_and_create_again_conflicts(make_backend: BackendFactory) -> None:
    backend = make_backend()
    created = backend.create("PeerAuthentication", peer_auth("strict"))
    assert created["metadata"]["resourceVersion"]
    assert mode_of(backend.get("PeerAuthentication", NS, "strict")) == "STRICT"
    with pytest.raises(Conflict, match="already exists"):
        backend.create("PeerAuthentication", peer_auth("strict"))


def test_patch_with_stale_resource_version_conflicts(make_backend: BackendFactory) -> None:
    backend = make_backend()
    created = backend.create("PeerAuthentication", peer_auth("p"))
    rv = created["metadata"]["resourceVersion"]
    patched = backend.patch("PeerAuthentication", NS, "p", {"metadata": {"resourceVersion": rv},
                                                            "spec": {"mtls": {"mode": "PERMISSIVE"}}})
    assert mode_of(patched) == "PERMISSIVE"
    with pytest.raises(Conflict):
        backend.patch("PeerAuthentication", NS, "p", {"metadata": {"resourceVersion": rv},
                                                      "spec": {"mtls": {"mode": "DISABLE"}}})
    assert mode_of(backend.get("PeerAuthentication", NS, "p")) == "PERMISSIVE"


def test_patch_merges_and_missing_is_not_found(make_backend: BackendFactory) -> None:
    backend = make_backend()
    backend.create("PeerAuthentication", peer_auth("p", selector={"matchLabels": {"app": "batch-reporter"}}))
    patched = backend.patch("PeerAuthentication", NS, "p", {"spec": {"mtls": {"mode": "PERMISSIVE"}}})
    assert mode_of(patched) == "PERMISSIVE"
    assert patched["spec"]["selector"] == {"matchLabels": {"app": "batch-reporter"}}
    with pytest.raises(NotFound):
        backend.patch("PeerAuthentication", NS, "missing", {"spec": {"mtls": {"mode": "STRICT"}}})


def test_delete(make_backend: BackendFactory) -> None:
    backend = make_backend()
    created = backend.create("PeerAuthentication", peer_auth("p"))
    backend.patch("PeerAuthentication", NS, "p", {"spec": {"mtls": {"mode": "PERMISSIVE"}}})
    with pytest.raises(Conflict):
        backend.delete("PeerAuthentication", NS, "p", resource_version=created["metadata"]["resourceVersion"])
    backend.delete("PeerAuthentication", NS, "p")
    assert backend.get("PeerAuthentication", NS, "p") is None
    with pytest.raises(NotFound):
        backend.delete("PeerAuthentication", NS, "p")


def test_port_level_mtls_needs_a_selector(make_backend: BackendFactory) -> None:
    body = peer_auth("ports", mtls={"mode": "STRICT"}, portLevelMtls={"8080": {"mode": "DISABLE"}})
    with pytest.raises(Invalid, match="portLevelMtls"):
        make_backend().create("PeerAuthentication", body)


DRY_RUNS: dict[str, Callable[[Backend], Any]] = {
    "create": lambda b: b.create("PeerAuthentication", peer_auth("dry"), dry_run=True),
    "patch": lambda b: b.patch("PeerAuthentication", "tenant-a-orders", "default",
                               {"spec": {"mtls": {"mode": "DISABLE"}}}, dry_run=True),
    "delete": lambda b: b.delete("PeerAuthentication", "tenant-a-orders", "default", dry_run=True),
    "label": lambda b: b.label_namespace(NS, {"istio-injection": "enabled"}, dry_run=True),
    "restart": lambda b: b.restart_workload("Deployment", NS, "batch-reporter", dry_run=True),
}


@pytest.mark.parametrize("action", list(DRY_RUNS))
def test_dry_run_does_not_persist(make_backend: BackendFactory, action: str) -> None:
    backend = make_backend()
    watched = [("PeerAuthentication", NS, "dry"), ("PeerAuthentication", "tenant-a-orders", "default"),
               ("Namespace", "", NS), ("Deployment", NS, "batch-reporter")]
    before = {key: backend.get(*key) for key in watched}
    DRY_RUNS[action](backend)
    assert {key: backend.get(*key) for key in watched} == before


def test_dry_run_label_on_any_cluster(make_any_backend: BackendFactory) -> None:
    backend = make_any_backend()
    name = sorted(n.name for n in backend.snapshot().namespaces.values())[0]
    result = backend.label_namespace(name, {"meshtui.dev/contract": "dry-run"}, dry_run=True)
    assert result["metadata"]["labels"]["meshtui.dev/contract"] == "dry-run"
    stored = backend.get("Namespace", "", name)
    assert stored is not None
    assert "meshtui.dev/contract" not in stored["metadata"].get("labels", {})


def test_label_namespace_sets_and_removes(make_backend: BackendFactory) -> None:
    backend = make_backend()
    labelled = backend.label_namespace(NS, {"istio-injection": "enabled", "team": "core"})
    assert {"istio-injection": "enabled", "team": "core"}.items() <= labelled["metadata"]["labels"].items()
    unlabelled = backend.label_namespace(NS, {"istio-injection": None})
    assert "istio-injection" not in unlabelled["metadata"]["labels"]
    assert unlabelled["metadata"]["labels"]["team"] == "core"


def test_restart_stamps_the_pod_template(make_backend: BackendFactory) -> None:
    backend = make_backend()
    backend.restart_workload("Deployment", NS, "batch-reporter")
    deployment = backend.get("Deployment", NS, "batch-reporter")
    assert deployment is not None
    assert RESTARTED_AT in deployment["spec"]["template"]["metadata"]["annotations"]
    with pytest.raises(NotFound):
        backend.restart_workload("Deployment", NS, "missing")


# -- watch -----------------------------------------------------------------------------------------

def test_watch_reports_a_mutation(make_backend: BackendFactory) -> None:
    backend = make_backend()
    backend.snapshot()
    with watching(backend) as events:
        backend.label_namespace(NS, {"team": "watch"})
        event = events.wait_for(lambda e: e.obj.ref.kind == "Namespace" and e.obj.name == NS
                                and e.obj.labels.get("team") == "watch")
    assert event.type == "MODIFIED"


def test_watch_reports_create_and_delete(make_backend: BackendFactory) -> None:
    backend = make_backend()
    backend.snapshot()
    with watching(backend) as events:
        backend.create("PeerAuthentication", peer_auth("watched"))
        events.wait_for(lambda e: e.type == "ADDED" and e.obj.name == "watched")
        backend.delete("PeerAuthentication", NS, "watched")
        events.wait_for(lambda e: e.type == "DELETED" and e.obj.name == "watched")


# -- RBAC ------------------------------------------------------------------------------------------

def test_can_i_allowed(make_any_backend: BackendFactory) -> None:
    access = make_any_backend().can_i("get", "pods", "", "kube-system")
    assert access.allowed


def test_can_i_denied_names_verb_and_resource(make_backend: BackendFactory) -> None:
    backend = make_backend(denied={("patch", "namespaces")})
    access = backend.can_i("patch", "namespaces")
    assert not access.allowed
    assert "patch" in access.reason and "namespaces" in access.reason
    assert backend.can_i("delete", "peerauthentications", "security.istio.io", NS).allowed

"""The demo cluster through KubeBackend over HTTP: its objects, rollouts and injection, the proxies' logs,
stats and admin API. (The API server's own semantics are tested in tests/apiserver.)"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from meshtui.backend.base import (
    RESTARTED_AT,
    BackendError,
    LogOptions,
    NotFound,
)
from meshtui.demo.clock import ManualClock, SystemClock
from meshtui.demo.cluster import DemoCluster
from meshtui.demo.mesh import OLD_ISTIO_VERSION, SAFE_ALPHABET, demo_objects
from meshtui.demo.session import DemoBackend
from meshtui.model.objects import Pod
from meshtui.model.snapshot import ChangeEvent

START = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
STAGING = "kubestock-staging"


@pytest.fixture
def backend(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend(ManualClock(START))


def pa(name: str, namespace: str = STAGING, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# --- the demo mesh's objects -------------------------------------------------------------------
OBJECTS = demo_objects(START, 7)


def of_kind(kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
    return [
        o
        for o in OBJECTS
        if o["kind"] == kind and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]


def test_demo_objects_are_pure_and_seeded() -> None:
    assert demo_objects(START, 7) == OBJECTS
    assert demo_objects(START, 8) != OBJECTS


def test_demo_objects_carry_server_metadata() -> None:
    rvs = [int(o["metadata"]["resourceVersion"]) for o in OBJECTS]
    assert rvs == sorted(set(rvs))
    assert len({o["metadata"]["uid"] for o in OBJECTS}) == len(OBJECTS)
    for o in OBJECTS:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["metadata"]["creationTimestamp"])
        if o["apiVersion"].endswith("istio.io/v1"):
            assert o["apiVersion"] in ("security.istio.io/v1", "networking.istio.io/v1")


def test_demo_pods_look_like_replicaset_pods() -> None:
    safe = f"[{SAFE_ALPHABET}]"
    for pod in of_kind("Pod"):
        owner = pod["metadata"]["ownerReferences"][0]
        if owner["kind"] == "DaemonSet":  # ztunnel: one pod per node, named <daemonset>-<5 chars>
            assert re.fullmatch(rf"{re.escape(owner['name'])}-{safe}{{5}}", pod["metadata"]["name"])
            continue
        assert owner["kind"] == "ReplicaSet"
        assert re.fullmatch(rf"{re.escape(owner['name'])}-{safe}{{5}}", pod["metadata"]["name"])
        assert re.fullmatch(rf"[a-z-]+-{safe}{{10}}", owner["name"])
        assert len(pod["status"]["containerStatuses"]) == len(pod["spec"]["containers"])
        for c in pod["spec"]["containers"]:
            assert c.get("ports"), f"{pod['metadata']['name']}/{c['name']} declares no port"


def proxy_versions(namespace: str) -> set[str]:
    return {
        c["image"].rsplit(":", 1)[1]
        for p in of_kind("Pod", namespace)
        for c in p["spec"]["containers"]
        if c["name"] == "istio-proxy"
    }


@pytest.mark.parametrize(
    ("namespace", "app", "sidecar"),
    [
        (STAGING, "frontend", True),
        ("tenant-a-orders", "payment-service", True),
        ("researchflow", "orchestrator", True),
        ("researchflow", "worker", False),
        ("legacy", "batch-reporter", False),
        ("istio-system", "istiod", False),
    ],
)
def test_sidecars_as_the_story_needs(namespace: str, app: str, sidecar: bool) -> None:
    pods = [p for p in of_kind("Pod", namespace) if p["metadata"]["labels"]["app"] == app]
    assert pods
    for p in pods:
        names = [c["name"] for c in p["spec"]["containers"]]
        assert ("istio-proxy" in names) is sidecar
        assert all(s["ready"] for s in p["status"]["containerStatuses"])


def test_proxy_versions_one_namespace_behind() -> None:
    assert proxy_versions(STAGING) == {"1.24.2"}
    assert proxy_versions("tenant-b-orders") == {OLD_ISTIO_VERSION}


def test_policies_of_the_demo() -> None:
    assert not of_kind("PeerAuthentication", "istio-system")
    assert [p["metadata"]["namespace"] for p in of_kind("PeerAuthentication")] == ["tenant-a-orders", "payments"]
    assert {d["spec"]["trafficPolicy"]["tls"]["mode"] for d in of_kind("DestinationRule", STAGING)} == {
        "ISTIO_MUTUAL"
    }
    staging_vs = of_kind("VirtualService", STAGING)
    assert len(staging_vs) == 6
    for vs in staging_vs:
        route = vs["spec"]["http"][0]
        assert (route["retries"]["attempts"], route["timeout"]) == (3, "30s")
    tenant_ap = {a["metadata"]["name"]: a["spec"] for a in of_kind("AuthorizationPolicy", "tenant-a-orders")}
    assert tenant_ap["deny-all"] == {}
    principals = tenant_ap["allow-order-service-to-payment-service"]["rules"][0]["from"][0]["source"]
    assert principals == {"principals": ["cluster.local/ns/tenant-a-orders/sa/order-service"]}
    frontend = next(s for s in of_kind("Service", STAGING) if s["metadata"]["name"] == "frontend")
    assert frontend["spec"]["type"] == "NodePort"


# --- the Backend protocol ----------------------------------------------------------------------
def test_snapshot_holds_the_demo(backend: DemoBackend) -> None:
    snap = backend.snapshot()
    assert {n.name for n in snap.namespaces.values()} == {
        "istio-system",
        STAGING,
        "tenant-a-orders",
        "tenant-b-orders",
        "researchflow",
        "legacy",
        "payments",
    }
    assert len(snap.pods) == len(of_kind("Pod"))
    assert snap.mesh.root_namespace == "istio-system"


def collect_watch(b: DemoBackend) -> tuple[list[ChangeEvent], threading.Event, threading.Thread]:
    events: list[ChangeEvent] = []
    stop = threading.Event()
    statuses: list[str] = []
    t = threading.Thread(target=b.watch, args=(events.extend, stop, statuses.append), daemon=True)
    t.start()
    assert wait_for(lambda: statuses == ["watching"])
    return events, stop, t


def test_label_namespace_sets_and_removes(backend: DemoBackend) -> None:
    labelled = backend.label_namespace("legacy", {"istio-injection": "enabled", "team": "reports"})
    assert labelled["metadata"]["labels"]["istio-injection"] == "enabled"
    assert backend.snapshot().namespaces[("", "legacy")].injection == "enabled"
    removed = backend.label_namespace("legacy", {"team": None})
    assert "team" not in removed["metadata"]["labels"]
    assert removed["metadata"]["labels"]["kubernetes.io/metadata.name"] == "legacy"


def workload_pods(b: DemoBackend, namespace: str, app: str) -> list[Pod]:
    return [p for p in b.snapshot().pods_in(namespace) if p.labels.get("app") == app]


def test_restart_rolls_pods_and_injects_like_the_webhook(backend: DemoBackend) -> None:
    before = workload_pods(backend, "researchflow", "worker")
    assert [p.ready_count for p in before] == [(1, 1)] * 3
    backend.snapshot()
    events, stop, t = collect_watch(backend)
    deploy = backend.restart_workload("Deployment", "researchflow", "worker")
    assert RESTARTED_AT in deploy["spec"]["template"]["metadata"]["annotations"]
    for _ in range(40):
        backend.cluster.advance(1)
    after = workload_pods(backend, "researchflow", "worker")
    assert wait_for(lambda: sum(1 for e in events if e.type == "DELETED") == len(before))
    stop.set()
    t.join(2)
    assert not {p.name for p in after} & {p.name for p in before}
    assert [(p.ready_count, p.proxy_version, p.phase) for p in after] == [((2, 2), "1.24.2", "Running")] * 3
    pod_states = [
        (e.type, e.obj.status, e.obj.ready_count)
        for e in events
        if isinstance(e.obj, Pod) and e.obj.name == after[0].name
    ]
    assert pod_states[:3] == [
        ("ADDED", "PodInitializing", (0, 2)),
        ("MODIFIED", "Running", (0, 2)),
        ("MODIFIED", "Running", (2, 2)),
    ]
    terminating = [
        e.obj.name
        for e in events
        if e.type == "MODIFIED" and isinstance(e.obj, Pod) and e.obj.status == "Terminating"
    ]
    deleted = [e.obj.name for e in events if e.type == "DELETED"]
    assert sorted(terminating) == sorted(deleted) == sorted(p.name for p in before)
    workload = backend.snapshot().workloads[("researchflow", "Deployment/worker")]
    assert (workload.replicas, workload.ready_replicas, workload.updated_replicas) == (3, 3, 3)


def replica_sets(b: DemoBackend, namespace: str, deployment: str) -> dict[str, dict[str, Any]]:
    return {rs["metadata"]["name"]: rs for rs in b.cluster.objects("ReplicaSet")
            if rs["metadata"]["namespace"] == namespace
            and rs["metadata"]["ownerReferences"][0]["name"] == deployment}


def test_every_demo_pod_of_a_deployment_has_its_replicaset() -> None:
    sets = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in of_kind("ReplicaSet")}
    for pod in of_kind("Pod"):
        owner = pod["metadata"]["ownerReferences"][0]
        if owner["kind"] == "ReplicaSet":
            rs = sets[(pod["metadata"]["namespace"], owner["name"])]
            assert rs["metadata"]["uid"] == owner["uid"]
            assert rs["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_restart_makes_a_new_replicaset_and_scales_the_old_one_to_zero(backend: DemoBackend) -> None:
    (old_name, old), = replica_sets(backend, "researchflow", "worker").items()
    assert (old["spec"]["replicas"], old["status"]["readyReplicas"]) == (3, 3)
    backend.restart_workload("Deployment", "researchflow", "worker")
    backend.cluster.advance(1)
    during = replica_sets(backend, "researchflow", "worker")
    assert len(during) == 2 and during[old_name]["spec"]["replicas"] == 3
    for _ in range(40):
        backend.cluster.advance(1)
    after = replica_sets(backend, "researchflow", "worker")
    new_name = next(name for name in after if name != old_name)
    new = after[new_name]
    assert (after[old_name]["spec"]["replicas"], after[old_name]["status"]["replicas"]) == (0, 0)
    assert (new["spec"]["replicas"], new["status"]["readyReplicas"]) == (3, 3)
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = [p for p in backend.cluster.objects("Pod") if p["metadata"]["namespace"] == "researchflow"
            and p["metadata"]["labels"].get("app") == "worker"]
    assert {(p["metadata"]["ownerReferences"][0]["name"], p["metadata"]["ownerReferences"][0]["uid"])
            for p in pods} == {(new_name, new["metadata"]["uid"])}


def test_a_rollout_leaves_the_events_its_controllers_record(backend: DemoBackend) -> None:
    backend.restart_workload("Deployment", "researchflow", "worker")
    for _ in range(40):
        backend.cluster.advance(1)
    events = [e for e in backend.cluster.objects("Event") if e["metadata"]["namespace"] == "researchflow"]
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_reason.setdefault(e["reason"], []).append(e)
    scaling = [e["message"] for e in by_reason["ScalingReplicaSet"]]
    assert all(e["involvedObject"]["kind"] == "Deployment" for e in by_reason["ScalingReplicaSet"])
    assert any(re.fullmatch(r"Scaled up replica set worker-\w+ from 0 to 1", m) for m in scaling)
    assert any(re.fullmatch(r"Scaled down replica set worker-\w+ from 1 to 0", m) for m in scaling)
    assert len(by_reason["SuccessfulCreate"]) == len(by_reason["Scheduled"]) == 3
    assert {e["involvedObject"]["kind"] for e in by_reason["Killing"]} == {"Pod"}
    assert len({e["metadata"]["name"] for e in events}) == len(events)


def test_restart_without_injection_label_gives_no_sidecar(backend: DemoBackend) -> None:
    backend.label_namespace(STAGING, {"istio-injection": None})
    backend.restart_workload("Deployment", STAGING, "ms-supplier")
    backend.cluster.advance(30)
    assert [p.ready_count for p in workload_pods(backend, STAGING, "ms-supplier")] == [(1, 1)] * 2


def test_restart_rejects_non_workloads(backend: DemoBackend) -> None:
    with pytest.raises(BackendError):
        backend.restart_workload("Pod", "legacy", "x")
    with pytest.raises(NotFound):
        backend.restart_workload("Deployment", "legacy", "nothing")


def test_deleting_a_namespace_removes_its_objects(backend: DemoBackend) -> None:
    backend.delete("Namespace", "", "legacy")
    snap = backend.snapshot()
    assert ("", "legacy") not in snap.namespaces
    assert not snap.pods_in("legacy")


# --- proxies -----------------------------------------------------------------------------------
def first_pod(b: DemoBackend, namespace: str, app: str) -> str:
    return workload_pods(b, namespace, app)[0].name


def test_proxy_logs_tail_then_follow(backend: DemoBackend) -> None:
    pod = first_pod(backend, STAGING, "frontend")
    backend.cluster.advance(60)
    stop = threading.Event()
    tail = list(backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=5, follow=False), stop))
    assert len(tail) == 5 and all(line.startswith("[2026-11-24T12:0") for line in tail)
    stamped = next(iter(backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=1, timestamps=True), stop)))
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \[", stamped)

    got: list[str] = []
    stream = backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=0, follow=True), stop)
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    time.sleep(0.05)
    assert got == []
    backend.cluster.advance(10)
    assert wait_for(lambda: len(got) > 3)
    stop.set()
    reader.join(2)
    assert not reader.is_alive()


def test_proxy_logs_errors(backend: DemoBackend) -> None:
    stop = threading.Event()
    worker = first_pod(backend, "researchflow", "worker")
    with pytest.raises(BackendError, match="has no istio-proxy container"):
        list(backend.proxy_logs("researchflow", worker, LogOptions(follow=False), stop))
    with pytest.raises(NotFound):
        list(backend.proxy_logs("researchflow", "ghost", LogOptions(follow=False), stop))


def test_proxy_requests(backend: DemoBackend) -> None:
    pod = first_pod(backend, STAGING, "ms-inventory")
    assert "  http: warning\n" in backend.proxy_request(STAGING, pod, "/logging")
    changed = backend.proxy_request(STAGING, pod, "/logging?connection=debug", method="POST")
    assert "  connection: debug\n" in changed and "  http: warning\n" in changed
    everything = backend.proxy_request(STAGING, pod, "/logging?level=debug", method="POST")
    assert "warning" not in everything
    with pytest.raises(BackendError, match="requires POST"):
        backend.proxy_request(STAGING, pod, "/logging?level=debug")
    with pytest.raises(BackendError, match="unknown level"):
        backend.proxy_request(STAGING, pod, "/logging?level=loud", method="POST")

    certs = json.loads(backend.proxy_request(STAGING, pod, "/certs"))
    chain = certs["certificates"][1]["cert_chain"][0]
    assert chain["subject_alt_names"] == [
        {"uri": "spiffe://cluster.local/ns/kubestock-staging/sa/ms-inventory"}
    ]
    valid_from = datetime.fromisoformat(chain["valid_from"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(chain["expiration_time"].replace("Z", "+00:00"))
    assert valid_from <= START < expires and (expires - valid_from).total_seconds() == 86400

    backend.cluster.advance(30)
    stats = backend.proxy_request(STAGING, pod, "/stats")
    assert "component.proxy.tag.1.24.2;._istio_build: 1" in stats
    assert "reporter=.=destination;.;" in stats
    prom = backend.proxy_stats(STAGING, pod)
    assert 'connection_security_policy="mutual_tls"' in prom
    with pytest.raises(BackendError):
        backend.proxy_request(STAGING, pod, "/quitquitquit", method="POST")


@pytest.mark.parametrize(
    "call",
    [
        lambda b, pod: b.proxy_stats("legacy", pod),
        lambda b, pod: b.proxy_request("legacy", pod, "/certs"),
    ],
)
def test_pods_without_sidecar_have_no_proxy(backend: DemoBackend, call: Callable) -> None:
    pod = first_pod(backend, "legacy", "batch-reporter")
    with pytest.raises(BackendError):
        call(backend, pod)


def test_advance_needs_a_manual_clock() -> None:
    with pytest.raises(TypeError):
        DemoCluster(clock=SystemClock()).advance(1)


def deployment_body(name: str, template_labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "legacy"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, **template_labels}},
                "spec": {
                    "containers": [{"name": name, "image": "busybox:1.36", "ports": [{"containerPort": 80}]}]
                },
            },
        },
    }


@pytest.mark.parametrize(
    ("template_labels", "ready"),
    [({}, (1, 1)), ({"sidecar.istio.io/inject": "true"}, (2, 2))],
)
def test_new_deployment_pods_follow_the_injection_webhooks(
    backend: DemoBackend, template_labels: dict[str, str], ready: tuple[int, int]
) -> None:
    backend.create("Deployment", deployment_body("reports-api", template_labels))
    backend.cluster.advance(20)
    pods = workload_pods(backend, "legacy", "reports-api")
    assert [(p.ready_count, p.owner_kind, p.workload_name) for p in pods] == [
        (ready, "ReplicaSet", "reports-api")
    ] * 2


def test_manual_clock_sleep_waits_for_advance_or_stop() -> None:
    clock = ManualClock(START)
    stop = threading.Event()
    results: list[bool] = []
    sleeper = threading.Thread(target=lambda: results.append(clock.sleep(5, stop)))
    sleeper.start()
    clock.advance(4)
    time.sleep(0.05)
    assert results == []
    clock.advance(1)
    sleeper.join(2)
    assert results == [True] and clock.now() == START.replace(second=5)

    stopped = threading.Thread(target=lambda: results.append(clock.sleep(5, stop)))
    stopped.start()
    stop.set()
    stopped.join(2)
    assert results == [True, False]
    assert SystemClock().sleep(10, stop) is False

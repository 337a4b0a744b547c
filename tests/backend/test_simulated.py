"""SimulatedBackend: the demo mesh's objects, API-server store semantics, watch, rollouts, proxies."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from meshtui.backend.base import (
    MUTABLE_KINDS,
    RESTARTED_AT,
    Backend,
    BackendError,
    Conflict,
    ConnectionFailed,
    Invalid,
    LogOptions,
    NotFound,
)
from meshtui.backend.clock import ManualClock, SystemClock
from meshtui.backend.demo_mesh import OLD_ISTIO_VERSION, SAFE_ALPHABET, demo_objects
from meshtui.backend.simulated import SimulatedBackend
from meshtui.model.objects import PeerAuthentication, Pod
from meshtui.model.snapshot import ChangeEvent

START = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
STAGING = "kubestock-staging"


@pytest.fixture
def backend() -> Iterator[SimulatedBackend]:
    b = SimulatedBackend(seed=7, clock=ManualClock(START))
    yield b
    b.close()


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
def test_is_a_backend(backend: SimulatedBackend) -> None:
    assert isinstance(backend, Backend)
    assert backend.context == "demo"
    assert backend.contexts() == ["demo"]
    info = backend.connect()
    assert (info.context, info.istio_version, info.namespace) == ("demo", "1.24.2", None)
    assert backend.switch_context("demo") == info
    with pytest.raises(ConnectionFailed, match="does not exist"):
        backend.switch_context("prod")


def test_snapshot_holds_the_demo(backend: SimulatedBackend) -> None:
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


def test_namespace_scope() -> None:
    b = SimulatedBackend(clock=ManualClock(START), namespace="legacy")
    snap = b.snapshot()
    assert {p.namespace for p in snap.pods.values()} == {"legacy"}
    assert [n.name for n in snap.namespaces.values()] == ["legacy"]
    assert b.connect().namespace == "legacy"


def test_get(backend: SimulatedBackend) -> None:
    ns = backend.get("Namespace", "", "legacy")
    assert ns is not None and ns["metadata"]["name"] == "legacy"
    assert backend.get("PeerAuthentication", STAGING, "default") is None
    with pytest.raises(BackendError):
        backend.get("Secret", STAGING, "x")


def test_create_conflict_and_not_found(backend: SimulatedBackend) -> None:
    created = backend.create("PeerAuthentication", pa("default", mtls={"mode": "STRICT"}))
    assert created["metadata"]["uid"] and created["metadata"]["generation"] == 1
    assert backend.get("PeerAuthentication", STAGING, "default") == created
    with pytest.raises(
        Conflict, match=re.escape('peerauthentications.security.istio.io "default" already exists')
    ):
        backend.create("PeerAuthentication", pa("default"))
    with pytest.raises(NotFound, match='namespaces "nowhere" not found'):
        backend.create("PeerAuthentication", pa("default", namespace="nowhere"))
    with pytest.raises(NotFound):
        backend.patch("PeerAuthentication", STAGING, "missing", {"spec": {}})


def test_resource_version_increments_and_stale_replace_conflicts(backend: SimulatedBackend) -> None:
    first = backend.create("PeerAuthentication", pa("default", mtls={"mode": "PERMISSIVE"}))
    body = {**first, "spec": {"mtls": {"mode": "STRICT"}}}
    second = backend.replace("PeerAuthentication", body)
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert second["metadata"]["generation"] == 2
    with pytest.raises(Conflict, match="the object has been modified"):
        backend.replace("PeerAuthentication", body)  # still carries the first resourceVersion
    with pytest.raises(Conflict, match="precondition"):
        backend.delete(
            "PeerAuthentication", STAGING, "default", resource_version=first["metadata"]["resourceVersion"]
        )
    backend.delete(
        "PeerAuthentication", STAGING, "default", resource_version=second["metadata"]["resourceVersion"]
    )
    assert backend.get("PeerAuthentication", STAGING, "default") is None
    with pytest.raises(NotFound):
        backend.delete("PeerAuthentication", STAGING, "default")


def test_patch_is_a_merge_patch(backend: SimulatedBackend) -> None:
    backend.create(
        "PeerAuthentication",
        pa("ms-inventory", selector={"matchLabels": {"app": "ms-inventory"}}, mtls={"mode": "STRICT"}),
    )
    patched = backend.patch(
        "PeerAuthentication",
        STAGING,
        "ms-inventory",
        {"spec": {"mtls": None, "portLevelMtls": {"3001": {"mode": "PERMISSIVE"}}}},
    )
    assert patched["spec"] == {
        "selector": {"matchLabels": {"app": "ms-inventory"}},
        "portLevelMtls": {"3001": {"mode": "PERMISSIVE"}},
    }


def collect_watch(b: SimulatedBackend) -> tuple[list[ChangeEvent], threading.Event, threading.Thread]:
    events: list[ChangeEvent] = []
    stop = threading.Event()
    statuses: list[str] = []
    t = threading.Thread(target=b.watch, args=(events.extend, stop, statuses.append), daemon=True)
    t.start()
    assert wait_for(lambda: statuses == ["watching"])
    return events, stop, t


def test_dry_run_neither_stores_nor_emits(backend: SimulatedBackend) -> None:
    backend.snapshot()
    events, stop, t = collect_watch(backend)
    would_be = backend.create("PeerAuthentication", pa("default", mtls={"mode": "STRICT"}), dry_run=True)
    assert would_be["spec"] == {"mtls": {"mode": "STRICT"}}
    assert backend.get("PeerAuthentication", STAGING, "default") is None
    backend.label_namespace("legacy", {"istio-injection": "enabled"}, dry_run=True)
    backend.restart_workload("Deployment", "legacy", "batch-reporter", dry_run=True)
    backend.delete("Namespace", "", "legacy", dry_run=True)
    time.sleep(0.2)
    assert events == []
    backend.create("PeerAuthentication", pa("default", mtls={"mode": "STRICT"}))
    assert wait_for(lambda: len(events) == 1)
    stop.set()
    t.join(2)
    assert not t.is_alive()
    assert events[0].type == "ADDED"
    assert isinstance(events[0].obj, PeerAuthentication) and events[0].obj.mode == "STRICT"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"portLevelMtls": {"3001": {"mode": "PERMISSIVE"}}},
            'PeerAuthentication.security.istio.io "bad" is invalid: spec: Invalid value: "object": '
            "portLevelMtls requires selector",
        ),
        (
            {"selector": {}, "portLevelMtls": {"3001": {"mode": "PERMISSIVE"}}},
            'spec: Invalid value: "object": portLevelMtls requires selector',
        ),
        (
            {"mtls": {"mode": "STRICTEST"}},
            'spec.mtls.mode: Unsupported value: "STRICTEST": supported values: "UNSET", "DISABLE", '
            '"PERMISSIVE", "STRICT"',
        ),
        (
            {"selector": {"matchLabels": {"app": "x"}}, "portLevelMtls": {"0": {"mode": "STRICT"}}},
            'spec.portLevelMtls: Invalid value: "object": port must be between 1-65535',
        ),
        (
            {"selector": {"matchLabels": {"app": "x"}}, "portLevelMtls": {}},
            "spec.portLevelMtls in body should have at least 1 properties",
        ),
        (
            {"selector": {"matchLabels": {"app": "x*"}}},
            "wildcard not allowed in label value match",
        ),
    ],
)
def test_peer_authentication_validation(backend: SimulatedBackend, spec: dict, message: str) -> None:
    with pytest.raises(Invalid) as err:
        backend.create("PeerAuthentication", pa("bad", **spec), dry_run=True)
    assert err.value.status == 422
    assert message in str(err.value)


def test_invalid_name_and_multiple_errors(backend: SimulatedBackend) -> None:
    with pytest.raises(Invalid, match="a lowercase RFC 1123 subdomain"):
        backend.create("PeerAuthentication", pa("Default"))
    with pytest.raises(Invalid, match=r"is invalid: \[spec.mtls.mode: .*, spec: .*requires selector\]"):
        backend.create("PeerAuthentication", pa("bad", mtls={"mode": "x"}, portLevelMtls={"1": {}}))


def test_label_namespace_sets_and_removes(backend: SimulatedBackend) -> None:
    labelled = backend.label_namespace("legacy", {"istio-injection": "enabled", "team": "reports"})
    assert labelled["metadata"]["labels"]["istio-injection"] == "enabled"
    assert backend.snapshot().namespaces[("", "legacy")].injection == "enabled"
    removed = backend.label_namespace("legacy", {"team": None})
    assert "team" not in removed["metadata"]["labels"]
    assert removed["metadata"]["labels"]["kubernetes.io/metadata.name"] == "legacy"


def workload_pods(b: SimulatedBackend, namespace: str, app: str) -> list[Pod]:
    return [p for p in b.snapshot().pods_in(namespace) if p.labels.get("app") == app]


def test_restart_rolls_pods_and_injects_like_the_webhook(backend: SimulatedBackend) -> None:
    before = workload_pods(backend, "researchflow", "worker")
    assert [p.ready_count for p in before] == [(1, 1)] * 3
    backend.snapshot()
    events, stop, t = collect_watch(backend)
    deploy = backend.restart_workload("Deployment", "researchflow", "worker")
    assert deploy["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == "2026-11-24T12:00:00Z"
    for _ in range(40):
        backend.advance(1)
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


def test_restart_without_injection_label_gives_no_sidecar(backend: SimulatedBackend) -> None:
    backend.label_namespace(STAGING, {"istio-injection": None})
    backend.restart_workload("Deployment", STAGING, "ms-supplier")
    backend.advance(30)
    assert [p.ready_count for p in workload_pods(backend, STAGING, "ms-supplier")] == [(1, 1)] * 2


def test_restart_rejects_non_workloads(backend: SimulatedBackend) -> None:
    with pytest.raises(BackendError):
        backend.restart_workload("Pod", "legacy", "x")
    with pytest.raises(NotFound):
        backend.restart_workload("Deployment", "legacy", "nothing")


def test_deleting_a_namespace_removes_its_objects(backend: SimulatedBackend) -> None:
    backend.delete("Namespace", "", "legacy")
    snap = backend.snapshot()
    assert ("", "legacy") not in snap.namespaces
    assert not snap.pods_in("legacy")


ROUND_TRIP = [
    pa("pa", mtls={"mode": "PERMISSIVE"}),
    {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "dr", "namespace": STAGING},
        "spec": {"host": "ms-product", "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
    },
    {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "ap", "namespace": STAGING},
        "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]},
    },
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}},
]


@pytest.mark.parametrize("body", ROUND_TRIP, ids=lambda b: b["kind"])
def test_mutable_kinds_round_trip(backend: SimulatedBackend, body: dict[str, Any]) -> None:
    kind, meta = body["kind"], body["metadata"]
    assert kind in MUTABLE_KINDS
    created = backend.create(kind, body)
    assert backend.get(kind, meta.get("namespace", ""), meta["name"]) == created
    backend.delete(kind, meta.get("namespace", ""), meta["name"])
    assert backend.get(kind, meta.get("namespace", ""), meta["name"]) is None


def test_other_kinds_are_rejected(backend: SimulatedBackend) -> None:
    with pytest.raises(BackendError) as err:
        backend.create("Secret", {"metadata": {"name": "s", "namespace": STAGING}})
    assert err.value.status == 400


def test_wrong_api_version_is_rejected(backend: SimulatedBackend) -> None:
    body = {**pa("old"), "apiVersion": "security.istio.io/v1beta1"}
    with pytest.raises(BackendError, match="does not match the expected API version"):
        backend.create("PeerAuthentication", body)


# --- proxies -----------------------------------------------------------------------------------
def first_pod(b: SimulatedBackend, namespace: str, app: str) -> str:
    return workload_pods(b, namespace, app)[0].name


def test_proxy_logs_tail_then_follow(backend: SimulatedBackend) -> None:
    pod = first_pod(backend, STAGING, "frontend")
    backend.advance(60)
    stop = threading.Event()
    tail = list(backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=5, follow=False), stop))
    assert len(tail) == 5 and all(line.startswith("[2026-11-24T12:0") for line in tail)
    stamped = next(iter(backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=1, timestamps=True), stop)))
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \[", stamped)

    got: list[str] = []
    stream = backend.proxy_logs(STAGING, pod, LogOptions(tail_lines=0, follow=True), stop)
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    time.sleep(0.05)
    assert got == []
    backend.advance(10)
    assert wait_for(lambda: len(got) > 3)
    stop.set()
    reader.join(2)
    assert not reader.is_alive()


def test_proxy_logs_errors(backend: SimulatedBackend) -> None:
    stop = threading.Event()
    worker = first_pod(backend, "researchflow", "worker")
    with pytest.raises(BackendError, match="container istio-proxy is not valid for pod") as err:
        list(backend.proxy_logs("researchflow", worker, LogOptions(follow=False), stop))
    assert err.value.status == 400
    with pytest.raises(NotFound):
        list(backend.proxy_logs("researchflow", "ghost", LogOptions(follow=False), stop))


def test_proxy_requests(backend: SimulatedBackend) -> None:
    pod = first_pod(backend, STAGING, "ms-inventory")
    assert "  http: warning\n" in backend.proxy_request(STAGING, pod, "/logging")
    changed = backend.proxy_request(STAGING, pod, "/logging?connection=debug", method="POST")
    assert "  connection: debug\n" in changed and "  http: warning\n" in changed
    everything = backend.proxy_request(STAGING, pod, "/logging?level=debug", method="POST")
    assert "warning" not in everything
    with pytest.raises(BackendError) as err:
        backend.proxy_request(STAGING, pod, "/logging?level=debug")
    assert err.value.status == 405
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

    backend.advance(30)
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
def test_pods_without_sidecar_have_no_proxy(backend: SimulatedBackend, call: Callable) -> None:
    pod = first_pod(backend, "legacy", "batch-reporter")
    with pytest.raises(NotFound, match="has no istio-proxy container"):
        call(backend, pod)


def test_can_i() -> None:
    b = SimulatedBackend(clock=ManualClock(START), denied={("create", "peerauthentications")})
    assert b.can_i("patch", "namespaces").allowed
    denied = b.can_i("create", "peerauthentications", "security.istio.io", STAGING)
    assert not denied.allowed and "cannot create" in denied.reason


def test_advance_needs_a_manual_clock() -> None:
    b = SimulatedBackend(clock=SystemClock())
    with pytest.raises(TypeError):
        b.advance(1)


def test_close_ends_watch(backend: SimulatedBackend) -> None:
    _, stop, t = collect_watch(backend)
    backend.close()
    t.join(2)
    assert not t.is_alive()
    stop.set()


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
    backend: SimulatedBackend, template_labels: dict[str, str], ready: tuple[int, int]
) -> None:
    backend.create("Deployment", deployment_body("reports-api", template_labels))
    backend.advance(20)
    pods = workload_pods(backend, "legacy", "reports-api")
    assert [(p.ready_count, p.owner_kind, p.workload_name) for p in pods] == [
        (ready, "ReplicaSet", "reports-api")
    ] * 2


def test_latency_delays_every_call() -> None:
    b = SimulatedBackend(clock=ManualClock(START), latency=0.05)
    began = time.perf_counter()
    b.connect()
    b.get("Namespace", "", "legacy")
    assert time.perf_counter() - began >= 0.1


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

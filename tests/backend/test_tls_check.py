"""The TLS check over real HTTP: KubeBackend against the API emulator (pods/proxy, exec, pods/log,
RBAC denials, a pod that does not answer, a pod without a sidecar, istiod's syncz)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.tls.check import Progress, Scope, run_check
from meshtui.tls.report import NO_DATA, PLAINTEXT, REJECTING, SAFE, to_data
from tests.emulator import Emulator

SHOP, LEGACY = "shop", "legacy"
CERT_ID = "spiffe://cluster.local/ns/shop/sa/inventory"


def pod_json(namespace: str, name: str, ip: str, app: str, *, sidecar: bool = True, ports: tuple[int, ...] = (3001,),
             sa: str = "default", host_network: bool = False, node: str = "node-a",
             labels: dict[str, str] | None = None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = [
        {"name": "app", "image": "example/app:1", "ports": [{"containerPort": p} for p in ports]}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app, **(labels or {})},
                         "creationTimestamp": "2026-11-01T00:00:00Z",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": app,
                                              "uid": f"uid-{app}", "controller": True}]},
            "spec": {"containers": containers, "serviceAccountName": sa, "nodeName": node,
                     "hostNetwork": host_network},
            "status": {"phase": "Running", "podIP": ip}}


def metric(security: str, count: int, workload: str = "unknown", namespace: str = "unknown") -> str:
    principal = f"spiffe://cluster.local/ns/{namespace}/sa/{workload}" if security == "mutual_tls" else "unknown"
    return (f'istio_requests_total{{reporter="destination",source_workload="{workload}",'
            f'source_workload_namespace="{namespace}",source_principal="{principal}",'
            f'destination_service_name="inventory",destination_service_namespace="shop",'
            f'connection_security_policy="{security}"}} {count}\n')


CERTS = json.dumps({"certificates": [{"ca_cert": [], "cert_chain": [{
    "subject_alt_names": [{"uri": CERT_ID}], "valid_from": "2026-11-30T00:00:00Z",
    "expiration_time": "2099-12-01T00:00:00Z"}]}]})
SYNCZ = json.dumps([{"proxy": f"inventory-{i}.shop", "istio_version": "1.24.2",
                     "cluster_sent": "n1", "cluster_acked": "n1", "listener_sent": "n2", "listener_acked": "n2"}
                    for i in (1, 2)])
ACCEPTED = ('[2026-11-30T09:59:55.100Z] "GET /api/v1/stock/report HTTP/1.1" 200 - via_upstream - "-" 0 812 9 8 '
            '"-" "python-requests/2.31.0" "5c1e" "inventory:3001" "10.1.0.5:3001" inbound|3001|| '
            '127.0.0.6:41234 10.1.0.5:3001 10.2.0.9:51000 - default')
REFUSED = ('[2026-11-30T09:59:56.100Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
           '- - 10.1.0.6:3001 172.18.0.2:51002 - -')


def seed(emu: Emulator) -> None:
    for ns in (SHOP, LEGACY, "istio-system", "kube-system"):
        emu.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    emu.add(pod_json(SHOP, "inventory-1", "10.1.0.5", "inventory", sa="inventory"))
    emu.add(pod_json(SHOP, "inventory-2", "10.1.0.6", "inventory", sa="inventory", labels={"canary": "strict"}))
    emu.add(pod_json(SHOP, "web-1", "10.1.0.7", "web", ports=(8080,)))
    emu.add(pod_json(LEGACY, "batch-1", "10.2.0.9", "batch", sidecar=False, ports=(9090,)))
    emu.add(pod_json("kube-system", "kube-proxy-x", "172.18.0.2", "kube-proxy", sidecar=False, host_network=True,
                     node="node-b"))
    istiod = pod_json("istio-system", "istiod-1", "10.9.0.2", "istiod", sidecar=False, ports=(15014,))
    istiod["spec"]["containers"][0]["name"] = "discovery"
    emu.add(istiod)
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "inventory", "namespace": SHOP},
             "spec": {"selector": {"app": "inventory"}, "ports": [{"port": 3001, "targetPort": 3001}]}})
    emu.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
             "metadata": {"name": "inventory-2", "namespace": SHOP, "creationTimestamp": "2026-11-01T00:00:00Z"},
             "spec": {"selector": {"matchLabels": {"canary": "strict"}},
                      "mtls": {"mode": "STRICT"}}})


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    seed(emulator)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kube(emu: Emulator, tmp_path: Path) -> Iterator[KubeBackend]:
    path = tmp_path / "kubeconfig"
    emu.kubeconfig(str(path), context="emulator")
    backend = KubeBackend(kubeconfig=str(path), request_timeout=5.0)
    yield backend
    backend.close()


def serve_stats(emu: Emulator, pod: str, text: str) -> None:
    emu.set_proxy_response(SHOP, pod, 15020, "stats/prometheus", text)


def certs_exec(namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
    if command == ["pilot-agent", "request", "GET", "/certs"] and container == "istio-proxy":
        return CERTS, "", 0
    return "", f"unexpected {command}", 1


def test_check_of_a_namespace_over_http(emu: Emulator, kube: KubeBackend) -> None:
    serve_stats(emu, "inventory-1", metric("none", 3) + metric("mutual_tls", 10, "web", SHOP))
    serve_stats(emu, "inventory-2", metric("mutual_tls", 10, "web", SHOP))
    serve_stats(emu, "web-1", "")
    emu.set_proxy_response("istio-system", "istiod-1", 15014, "debug/syncz", SYNCZ)
    emu.on_exec(certs_exec)
    phases: list[str] = []

    def progress(p: Progress) -> None:
        phases.append(p.phase)
        if p.phase.startswith("waiting") and phases.count(p.phase) == 1:
            # Traffic during the window: batch-1 keeps calling inventory-1 in plaintext, web in mTLS,
            # and inventory-2 (STRICT) refuses a plaintext connection from outside.
            serve_stats(emu, "inventory-1", metric("none", 5) + metric("mutual_tls", 14, "web", SHOP))
            serve_stats(emu, "inventory-2", metric("mutual_tls", 16, "web", SHOP))
            emu.append_log(SHOP, "inventory-1", "istio-proxy", ACCEPTED)
            emu.append_log(SHOP, "inventory-2", "istio-proxy", REFUSED)

    kube.connect()
    snapshot = kube.snapshot()
    report = run_check(kube, snapshot, Scope("namespace", SHOP), window_s=0.3, progress=progress)
    assert report.complete and report.pods_done == 3
    by_pod = report.verdicts_by_pod()
    assert by_pod[(SHOP, "inventory-1")] == REJECTING  # the workload's worst port verdict
    [inventory, web] = report.workloads
    [port] = inventory.ports
    assert (port.port, port.mode, port.verdict) == (3001, "PERMISSIVE/STRICT", REJECTING)
    names = {(c.name, c.security, c.evidence) for c in port.clients}
    assert ("legacy/batch", "plaintext", "logs") in names
    assert ("external via NodePort on node node-b", "plaintext", "logs") in names
    assert ("shop/web", "mutual_tls", "metrics") in names
    assert [c.status for c in inventory.certs] == ["ok", "ok"]
    assert [s.status for s in inventory.sync] == ["SYNCED", "SYNCED"]
    assert web.ports[0].verdict == "NO TRAFFIC"
    assert [s.status for s in web.sync] == ["NOT CONNECTED"]
    assert phases[0] == "first sample" and phases[-1] == "second sample"
    data = to_data(report)
    assert data["window_s"] == 0.3 and data["errors"] == []
    # Only reads: no write reached the server.
    assert {r.method for r in emu.requests} <= {"GET", "POST"}
    assert all(r.method == "GET" or r.path.endswith("selfsubjectaccessreviews") for r in emu.requests)


def test_plaintext_now_on_one_pod(emu: Emulator, kube: KubeBackend) -> None:
    serve_stats(emu, "inventory-1", metric("none", 3))

    def progress(p: Progress) -> None:
        if p.phase.startswith("waiting"):
            serve_stats(emu, "inventory-1", metric("none", 6))
            emu.append_log(SHOP, "inventory-1", "istio-proxy", ACCEPTED)

    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("pod", SHOP, "inventory-1"), window_s=0.3, progress=progress)
    [workload] = report.workloads
    [port] = workload.ports
    assert port.verdict == PLAINTEXT
    [client] = port.clients
    assert (client.name, client.requests, client.evidence) == ("legacy/batch", 1, "logs")
    # exec is not answered (no handler: the binary is "missing"), syncz not served: both said, neither fatal.
    messages = [e.message for e in report.errors]
    assert any(m.startswith("certs: pilot-agent request /certs failed") for m in messages)
    assert workload.sync[0].status == NO_DATA and "syncz" in workload.sync[0].detail


@pytest.mark.parametrize(
    ("verb", "resource", "verdict", "message"),
    [
        ("get", "pods/proxy", NO_DATA, "forbidden"),
        # The emulator is a 1.30 apiserver: exec over a websocket GET is authorized as "get" (1.31+
        # also checks "create", AuthorizePodWebsocketUpgradeCreatePermission).
        ("get", "pods/exec", SAFE, "forbidden"),
    ],
)
def test_rbac_denials(emu: Emulator, kube: KubeBackend, verb: str, resource: str, verdict: str, message: str) -> None:
    serve_stats(emu, "inventory-1", metric("mutual_tls", 1, "web", SHOP))

    def progress(p: Progress) -> None:
        if p.phase.startswith("waiting"):
            serve_stats(emu, "inventory-1", metric("mutual_tls", 4, "web", SHOP))

    emu.on_exec(certs_exec)
    emu.deny(verb, resource)
    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("pod", SHOP, "inventory-1"), window_s=0.2, progress=progress)
    [port] = report.workloads[0].ports
    assert port.verdict == verdict
    assert any(message in e.message for e in report.errors)
    if verdict == NO_DATA:
        assert "forbidden" in port.why and "pods/proxy" in port.fix


def test_slow_pod_times_out_and_the_rest_finishes(emu: Emulator, kube: KubeBackend) -> None:
    serve_stats(emu, "inventory-1", metric("mutual_tls", 1, "web", SHOP))
    serve_stats(emu, "inventory-2", metric("mutual_tls", 1, "web", SHOP))
    release = threading.Event()

    def exec_handler(namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
        if pod == "inventory-2":
            release.wait(10)  # the proxy hangs
        return CERTS, "", 0

    emu.on_exec(exec_handler)
    kube.connect()
    began = time.monotonic()
    try:
        report = run_check(kube, kube.snapshot(), Scope("workload", SHOP, "inventory"), window_s=0.1,
                           pod_timeout=1.0)
    finally:
        release.set()
    assert time.monotonic() - began < 4
    assert report.complete
    errors = {e.pod: e.message for e in report.errors}
    assert errors == {"shop/inventory-2": "stats: timed out after 1s"}
    assert [c.pod for c in report.workloads[0].certs] == ["inventory-1"]


def test_pod_without_sidecar_is_not_called(emu: Emulator, kube: KubeBackend) -> None:
    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("namespace", LEGACY), window_s=5)
    [port] = report.workloads[0].ports
    assert (port.verdict, port.why) == (NO_DATA, "batch-1: no sidecar")
    assert "inject" in port.fix
    assert not any("/proxy" in r.path or "/exec" in r.path or "/log" in r.path for r in emu.requests)


def test_cancel_returns_partial_results(emu: Emulator, kube: KubeBackend) -> None:
    serve_stats(emu, "inventory-1", "")
    serve_stats(emu, "inventory-2", "")
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.phase.startswith("waiting"):
            cancel.set()

    kube.connect()
    began = time.monotonic()
    report = run_check(kube, kube.snapshot(), Scope("namespace", SHOP), window_s=30, progress=progress,
                       cancel=cancel)
    assert time.monotonic() - began < 5
    assert report.cancelled and not report.complete
    assert report.pods_total == 3


def test_syncz_falls_back_to_exec_when_istiod_wants_authentication(emu: Emulator, kube: KubeBackend) -> None:
    emu.set_proxy_response("istio-system", "istiod-1", 15014, "debug/syncz", "", status=401)
    calls: list[tuple[str, list[str]]] = []

    def exec_handler(namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
        calls.append((container, command))
        return SYNCZ, "", 0

    emu.on_exec(exec_handler)
    kube.connect()
    assert kube.istiod_syncz() == [SYNCZ]
    assert calls == [("discovery", ["pilot-discovery", "request", "GET", "/debug/syncz"])]


def test_syncz_without_istiod(kube: KubeBackend, emu: Emulator) -> None:
    pods = emu.lookup("", "v1", "pods")
    assert pods is not None
    emu.store.delete(pods, "istio-system", "istiod-1", dry_run=False, precondition_rv=None, precondition_uid=None)
    kube.connect()
    with pytest.raises(Exception, match="no running istiod pod"):
        kube.istiod_syncz()

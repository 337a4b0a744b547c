"""The TLS check over real HTTP: KubeBackend against the API emulator (pods/proxy, exec, pods/log,
RBAC denials, a pod that does not answer, a pod without a sidecar, istiod's syncz)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.tls.check import Progress, Scope, run_check
from meshtui.tls.report import NO_DATA, PLAINTEXT, REJECTING, SAFE, to_data
from tests.backend.tls_cluster import (
    ACCEPTED,
    CERTS,
    LEGACY,
    REFUSED,
    SHOP,
    SYNCZ,
    certs_exec,
    metric,
    seed,
    serve_stats,
)
from tests.kube_cluster import backend_on


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    seed(emulator)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kube(emu: Emulator, tmp_path: Path) -> Iterator[KubeBackend]:
    with backend_on(emu, tmp_path) as backend:
        yield backend


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

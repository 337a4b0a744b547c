"""The TLS check of ambient pods over real HTTP: KubeBackend against the API emulator reads the metrics of
the ztunnel on each pod's node through pods/proxy, once per ztunnel and sample, never the pods themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.tls.check import Progress, Scope, run_check
from meshtui.tls.report import NO_DATA, PLAINTEXT
from tests.backend.tls_cluster import pod_json, seed
from tests.kube_cluster import backend_on
from tests.unit.tls.test_ztunnel_metrics import sample

PAYMENTS = "payments"
ZTUNNEL = ("istio-system", "ztunnel-a")
OPEN = "istio_tcp_connections_opened_total"
LEGACY = {"src": "batch-reporter", "src_ns": "legacy", "policy": "unknown"}


def ambient_pod(name: str, ip: str, node: str) -> dict[str, Any]:
    obj = pod_json(PAYMENTS, name, ip, "ledger", sidecar=False, ports=(8080,), node=node)
    obj["metadata"]["annotations"] = {"ambient.istio.io/redirection": "enabled"}  # set by istio-cni
    return obj


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    seed(emulator)
    emulator.add({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": PAYMENTS, "labels": {"istio.io/dataplane-mode": "ambient"}}})
    emulator.add(ambient_pod("ledger-0", "10.5.0.4", "node-a"))
    emulator.add(ambient_pod("ledger-1", "10.5.0.5", "node-a"))
    emulator.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ledger", "namespace": PAYMENTS},
                  "spec": {"selector": {"app": "ledger"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    ztunnel = pod_json(*ZTUNNEL, "10.9.0.7", "ztunnel", sidecar=False, ports=(15020,))
    ztunnel["spec"]["containers"] = [{"name": "istio-proxy", "image": "docker.io/istio/ztunnel:1.24.2"}]
    emulator.add(ztunnel)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kube(emu: Emulator, tmp_path: Path) -> Iterator[KubeBackend]:
    with backend_on(emu, tmp_path) as backend:
        yield backend


def serve(emu: Emulator, *lines: str) -> None:
    emu.set_proxy_response(*ZTUNNEL, 15020, "stats/prometheus", "\n".join(lines) + "\n# EOF\n")


def test_ambient_pods_judged_from_their_ztunnel(emu: Emulator, kube: KubeBackend) -> None:
    serve(emu, sample(OPEN, "3", **LEGACY), sample(OPEN, "40"))

    def progress(p: Progress) -> None:
        if p.phase.startswith("waiting"):  # batch-reporter keeps calling in plaintext during the window
            serve(emu, sample(OPEN, "9", **LEGACY), sample(OPEN, "44"))

    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("namespace", PAYMENTS), window_s=0.3, progress=progress)
    assert report.complete and report.errors == ()
    [workload] = report.workloads
    [port] = workload.ports
    assert (port.port, port.mode, port.verdict) == (8080, "PERMISSIVE", PLAINTEXT)
    assert "ztunnel metrics on istio-system/ztunnel-a" in port.why
    plaintext = [c for c in port.clients if c.security == "plaintext"]
    assert [(c.name, c.connections, c.evidence) for c in plaintext] == [("legacy/batch-reporter", 9, "metrics")]
    assert "inject legacy/batch-reporter" in port.fix
    # One read of the shared ztunnel per sample, nothing of the ambient pods (no sidecar to ask).
    reads = [r.path for r in emu.requests if "/proxy" in r.path or "/exec" in r.path or "/log" in r.path]
    assert reads == ["/api/v1/namespaces/istio-system/pods/ztunnel-a:15020/proxy/stats/prometheus"] * 2


def test_ztunnel_denied_is_no_data_with_its_reason(emu: Emulator, kube: KubeBackend) -> None:
    emu.deny("get", "pods/proxy", "istio-system")
    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("namespace", PAYMENTS), window_s=0.1)
    [port] = report.workloads[0].ports
    assert port.verdict == NO_DATA
    assert "ztunnel istio-system/ztunnel-a" in port.why and "forbidden" in port.why
    assert "no sidecar" not in port.why and "pods/proxy" in port.fix


def test_ambient_pod_on_a_node_without_ztunnel(emu: Emulator, kube: KubeBackend) -> None:
    emu.add(ambient_pod("ledger-2", "10.5.0.6", "node-c"))
    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("pod", PAYMENTS, "ledger-2"), window_s=0.1)
    [port] = report.workloads[0].ports
    assert port.verdict == NO_DATA and "no ztunnel runs on node node-c" in port.why


def test_ztunnel_itself_is_not_checked_as_a_server(emu: Emulator, kube: KubeBackend) -> None:
    serve(emu, sample(OPEN, "3", **LEGACY))
    kube.connect()
    report = run_check(kube, kube.snapshot(), Scope("namespace", "istio-system"), window_s=0.1)
    assert "ztunnel-a" not in {pod for w in report.workloads for pod in w.pods}
    assert report.pods_total == 1  # istiod only

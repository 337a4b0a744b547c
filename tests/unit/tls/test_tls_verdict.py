"""Verdict per workload port: evidence (metrics, logs, certs, syncz) cross-checked with the engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from meshtui.model.objects import Pod
from meshtui.tls.metrics import parse_stats
from meshtui.tls.report import (
    MISMATCH,
    NO_DATA,
    NO_TRAFFIC,
    OK,
    PLAINTEXT,
    REJECTING,
    SAFE,
    to_data,
)
from meshtui.tls.syncz import NOT_CONNECTED, STALE, SYNCED, SyncInfo
from meshtui.tls.verdict import PodEvidence, SyncEvidence, build_report
from tests.unit.policy.policy_factories import pa, pod, snap, svc

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SERVER = pod("shop", "inventory-1", {"app": "inventory"}, ports=(3001,), ip="10.1.0.5", service_account="inventory",
             owner_kind="StatefulSet", owner_name="inventory")
WEB = pod("shop", "web-1", {"app": "web"}, ip="10.1.0.6")
BATCH = pod("legacy", "batch-1", {"app": "batch"}, sidecar=False, ip="10.2.0.9")
SERVICE = svc("shop", "inventory", {"app": "inventory"}, ports=((3001, 3001),))


def metric(security: str, count: int, workload: str = "web", namespace: str = "shop") -> str:
    principal = f"spiffe://cluster.local/ns/{namespace}/sa/{workload}" if security == "mutual_tls" else "unknown"
    return (f'istio_requests_total{{reporter="destination",source_workload="{workload}",'
            f'source_workload_namespace="{namespace}",source_principal="{principal}",'
            f'destination_service_name="inventory",destination_service_namespace="shop",'
            f'connection_security_policy="{security}"}} {count}')


# Istio's default TEXT format, server side: plaintext accepted (no SNI) and refused (NR).
ACCEPTED = ('[2026-11-30T09:59:55.100Z] "GET /api/v1/stock/report HTTP/1.1" 200 - via_upstream - "-" 0 812 9 8 '
            '"-" "python-requests/2.31.0" "5c1e" "ms-inventory:3001" "10.1.0.5:3001" inbound|3001|| '
            '127.0.0.6:41234 10.1.0.5:3001 10.2.0.9:51000 - default')
REFUSED = ('[2026-11-30T09:59:56.100Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
           '- - 10.1.0.5:3001 10.2.0.9:51002 - -')


def evidence(before: list[str], after: list[str], logs: tuple[str, ...] = ()) -> PodEvidence:
    return PodEvidence(SERVER, tuple(parse_stats("\n".join(before))), tuple(parse_stats("\n".join(after))), logs,
                       None)


CASES = {
    # name: (mode, before, after, logs, verdict, plaintext caller named)
    "plaintext now on PERMISSIVE, named from the log": (
        "PERMISSIVE", [metric("none", 3, "unknown", "unknown"), metric("mutual_tls", 5)],
        [metric("none", 6, "unknown", "unknown"), metric("mutual_tls", 9)], (ACCEPTED,), PLAINTEXT, "legacy/batch-1"),
    "only mTLS on PERMISSIVE": ("PERMISSIVE", [metric("mutual_tls", 5)], [metric("mutual_tls", 9)], (), SAFE, None),
    "plaintext earlier but not in the window": (
        "PERMISSIVE", [metric("none", 6, "unknown", "unknown"), metric("mutual_tls", 5)],
        [metric("none", 6, "unknown", "unknown"), metric("mutual_tls", 9)], (), SAFE, "unknown"),
    "idle": ("PERMISSIVE", [metric("mutual_tls", 5)], [metric("mutual_tls", 5)], (), NO_TRAFFIC, None),
    "STRICT refusing a named client": ("STRICT", [metric("mutual_tls", 5)], [metric("mutual_tls", 9)], (REFUSED,),
                                       REJECTING, "legacy/batch-1"),
    "STRICT with mTLS": ("STRICT", [metric("mutual_tls", 5)], [metric("mutual_tls", 9)], (), OK, None),
    "STRICT accepting plaintext": ("STRICT", [metric("none", 1, "unknown", "unknown")],
                                   [metric("none", 4, "unknown", "unknown")], (), MISMATCH, "unknown"),
    "PERMISSIVE refusing": ("PERMISSIVE", [], [], (REFUSED,), MISMATCH, "legacy/batch-1"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_verdicts(name: str) -> None:
    mode, before, after, logs, verdict, plaintext = CASES[name]
    snapshot = snap(SERVER, WEB, BATCH, SERVICE, pa("shop", "default", mode))
    report = build_report(snapshot, [SERVER], {SERVER.key: evidence(before, after, logs)}, SyncEvidence({}),
                          window_s=10, started=NOW, now=NOW)
    [workload] = report.workloads
    [port] = workload.ports
    assert (port.port, port.mode, port.verdict) == (3001, mode, verdict)
    names = [c.name for c in port.clients if c.security == "plaintext"]
    assert names == ([plaintext] if plaintext else [])
    assert port.why and (port.fix or verdict == OK)
    if name == "plaintext earlier but not in the window":
        assert "plaintext earlier" in port.why


def test_plaintext_caller_from_the_log_has_rate_and_evidence() -> None:
    snapshot = snap(SERVER, BATCH, SERVICE, pa("shop", "default", "PERMISSIVE"))
    ev = evidence([metric("none", 3, "unknown", "unknown")], [metric("none", 6, "unknown", "unknown")],
                  (ACCEPTED, ACCEPTED))
    report = build_report(snapshot, [SERVER], {SERVER.key: ev}, SyncEvidence({}), window_s=10, started=NOW, now=NOW)
    [client] = report.workloads[0].ports[0].clients
    assert (client.evidence, client.requests, client.rate_per_s) == ("logs", 2, 0.2)
    assert client.lines == (ACCEPTED, ACCEPTED)
    assert "inject legacy/batch-1" in report.workloads[0].ports[0].fix


@pytest.mark.parametrize(
    ("server", "errors", "why"),
    [
        (BATCH, (), "no sidecar"),
        (SERVER, (("stats", 'pods "inventory-1" is forbidden: get pods/proxy'),), "forbidden"),
        (SERVER, (("stats", "timed out after 2s"),), "timed out"),
    ],
)
def test_no_data_says_why(server: Pod, errors: tuple, why: str) -> None:
    snapshot = snap(server, SERVICE, pa("shop", "default", "STRICT"))
    report = build_report(snapshot, [server], {server.key: PodEvidence(server, errors=errors)}, SyncEvidence({}),
                          window_s=10, started=NOW, now=NOW)
    [port] = report.workloads[0].ports
    assert port.verdict == NO_DATA and why in port.why
    assert port.fix


def test_certs_sync_and_json_shape() -> None:
    other = pod("shop", "inventory-2", {"app": "inventory"}, ports=(3001,), ip="10.1.0.7", service_account="inventory",
                owner_kind="StatefulSet", owner_name="inventory")
    certs = json.dumps({"certificates": [{"ca_cert": [], "cert_chain": [{
        "subject_alt_names": [{"uri": "spiffe://cluster.local/ns/shop/sa/inventory"}],
        "valid_from": "2026-11-30T08:00:00Z", "expiration_time": "2026-12-01T08:00:00Z"}]}]})
    snapshot = snap(SERVER, other, SERVICE, pa("shop", "default", "PERMISSIVE"))
    evidences = {
        SERVER.key: PodEvidence(SERVER, (), tuple(parse_stats(metric("mutual_tls", 2))), (), certs),
        other.key: PodEvidence(other, errors=(("stats", "timed out after 2s"),)),
    }
    sync = SyncEvidence({"inventory-1.shop": SyncInfo("inventory-1.shop", SYNCED, "1.24.2"),
                         "inventory-2.shop": SyncInfo("inventory-2.shop", STALE, "1.24.2")})
    report = build_report(snapshot, [SERVER, other], evidences, sync, window_s=10, started=NOW,
                          now=NOW)
    data = to_data(report)
    assert list(data) == ["window_s", "workloads", "errors"]
    [w] = data["workloads"]
    assert list(w) == ["namespace", "workload", "pods", "ports", "certs", "sync"]
    assert w["pods"] == ["inventory-1", "inventory-2"]
    assert w["ports"] == [{"port": 3001, "mode": "PERMISSIVE", "verdict": SAFE, "clients": [
        {"namespace": "shop", "workload": "web", "principal": "spiffe://cluster.local/ns/shop/sa/web",
         "security": "mutual_tls", "requests": 2, "connections": 0, "rate_per_s": 0.2, "evidence": "metrics"}]}]
    assert w["certs"] == [{"pod": "inventory-1", "spiffe_id": "spiffe://cluster.local/ns/shop/sa/inventory",
                           "not_after": "2026-12-01T08:00:00Z", "seconds_left": 22 * 3600,
                           "root_not_after": None, "status": "ok"}]
    assert w["sync"] == [{"pod": "inventory-1", "status": SYNCED, "proxy_version": "1.24.2"},
                         {"pod": "inventory-2", "status": STALE, "proxy_version": "1.24.2"}]
    assert data["errors"] == [{"pod": "shop/inventory-2", "message": "stats: timed out after 2s"}]
    assert report.verdicts_by_pod() == {("shop", "inventory-1"): SAFE, ("shop", "inventory-2"): SAFE}


def test_proxy_istiod_does_not_list() -> None:
    snapshot = snap(SERVER, SERVICE)
    ev = PodEvidence(SERVER, (), (), (), None)
    report = build_report(snapshot, [SERVER], {SERVER.key: ev}, SyncEvidence({}), window_s=10, started=NOW,
                          now=NOW + timedelta(seconds=10))
    assert [s.status for s in report.workloads[0].sync] == [NOT_CONNECTED]
    failed = build_report(snapshot, [SERVER], {SERVER.key: ev}, SyncEvidence({}, "istiod: 401 Unauthorized"),
                          window_s=10, started=NOW, now=NOW)
    assert failed.workloads[0].sync[0].detail == "istiod: 401 Unauthorized"

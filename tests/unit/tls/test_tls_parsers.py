"""TLS check parsers: Istio metrics (real Envoy /stats sample and Prometheus text), Envoy /certs,
istiod syncz, and access-log callers (real lines from ../shared/fixtures/envoy/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.tls.certs import EXPIRED, EXPIRING, MISSING, OK, WRONG_IDENTITY, parse_certs
from meshtui.tls.logs import AddressBook, log_callers
from meshtui.tls.metrics import CallerKey, Traffic, inbound, parse_stats, rates
from meshtui.tls.syncz import ERROR, NOT_SENT, STALE, SYNCED, parse_syncz
from tests.shared_fixtures import FIXTURES as SHARED

FIXTURES = SHARED / "envoy"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_envoy_stats_sample_gives_the_destination_callers_only() -> None:
    series = parse_stats((FIXTURES / "stats_istio171_productpage_excerpt.txt").read_text())
    assert len(series) == 4  # three destination lines, one source line; ssl.* counters skipped
    callers = inbound(series)
    gateway = CallerKey("istio-system", "istio-ingressgateway",
                        "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
                        "mutual_tls", "productpage", "default", None)
    ratings = CallerKey("default", "ratings-v1", "spiffe://cluster.local/ns/default/sa/bookinfo-ratings",
                        "mutual_tls", "productpage", "default", None)
    assert set(callers) == {gateway, ratings}
    assert callers[gateway].requests == 87  # response codes 0 (DC) and 200 summed
    assert callers[ratings].requests == 1
    assert all("reporter=.=destination" in line for line in callers[gateway].lines)


def test_stats_without_istio_series_give_nothing() -> None:
    text = (FIXTURES / "stats_listener15006_plaintext_vs_mtls_excerpt.txt").read_text()
    assert parse_stats(text) == []


DEST = 'destination_service_name="inventory",destination_service_namespace="shop"'
PROMETHEUS = "\n".join([
    "# TYPE istio_requests_total counter",
    'istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",'
    f'source_principal="unknown",{DEST},response_code="200",connection_security_policy="none"}} 12',
    'istio_requests_total{reporter="destination",source_workload="web",source_workload_namespace="shop",'
    f'source_principal="spiffe://cluster.local/ns/shop/sa/web",{DEST},response_code="200",'
    'connection_security_policy="mutual_tls"} 40 1732950000000',
    'istio_requests_total{reporter="source",source_workload="inventory",source_workload_namespace="shop",'
    'connection_security_policy="unknown"} 7',
    'istio_tcp_connections_opened_total{reporter="destination",source_workload="db-client",'
    f'source_workload_namespace="shop",source_principal="",{DEST},destination_port="5432",'
    'connection_security_policy="none"} 3',
    r'istio_requests_total{reporter="destination",source_workload="we\"ird\\name",'
    'connection_security_policy="mutual_tls"} 1',
    'istio_requests_total{reporter="destination",broken} 5',
    'istio_requests_total{reporter="destination"} NaN',
    "envoy_server_live 1",
])


def test_prometheus_text_with_escapes_tcp_and_junk() -> None:
    callers = inbound(parse_stats(PROMETHEUS))
    by_workload = {k.workload: (k, t) for k, t in callers.items()}
    assert set(by_workload) == {"", "web", "db-client", 'we"ird\\name'}
    unknown, traffic = by_workload[""]
    assert (unknown.security, unknown.namespace, traffic.requests) == ("plaintext", "", 12)
    tcp, traffic = by_workload["db-client"]
    assert (tcp.security, tcp.port, traffic.connections, traffic.requests) == ("plaintext", 5432, 3, 0)


@pytest.mark.parametrize(
    ("before", "after", "window", "rate"),
    [
        (Traffic(10), Traffic(30), 10.0, 2.0),  # grew by 20 in 10 s
        (Traffic(10), Traffic(10), 10.0, 0.0),  # idle: counters only
        (Traffic(50), Traffic(4), 10.0, 0.4),  # proxy restarted: all 4 are new
        (None, Traffic(5, 5), 10.0, 1.0),  # first seen in the window
        (Traffic(1), Traffic(3), 0.0, 0.0),  # no window, no rate
    ],
)
def test_rates(before: Traffic | None, after: Traffic, window: float, rate: float) -> None:
    key = CallerKey("shop", "web", "", "plaintext", "inventory", "shop", None)
    result = rates({key: before} if before else {}, {key: after}, window)
    assert [(r.requests, r.rate_per_s) for r in result] == [(after.requests, rate)]


def _cert(uri: str | None, start: datetime, end: datetime) -> dict:
    return {"path": "<inline>", "serial_number": "6a1f", "subject_alt_names": [{"uri": uri}] if uri else [],
            "days_until_expiration": str(max(0, (end - NOW).days)),
            "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expiration_time": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _certs(workload: dict | None) -> str:
    root = _cert(None, datetime(2025, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC))
    entries = [{"ca_cert": [root], "cert_chain": []}]
    if workload is not None:
        entries.append({"ca_cert": [], "cert_chain": [workload]})
    return json.dumps({"certificates": entries})


ID = "spiffe://cluster.local/ns/shop/sa/web"
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("body", "status", "left"),
    [
        (_certs(_cert(ID, NOW - 2 * H, NOW + 22 * H)), OK, 22 * 3600),
        (_certs(_cert(ID, NOW - 20 * H, NOW + 4 * H)), EXPIRING, 4 * 3600),  # 4 h of 24 h < a quarter
        (_certs(_cert(ID, NOW - 25 * H, NOW - H)), EXPIRED, -3600),
        (_certs(_cert("spiffe://cluster.local/ns/shop/sa/default", NOW - H, NOW + 23 * H)), WRONG_IDENTITY,
         23 * 3600),
        (_certs(None), MISSING, None),
        ("not json", MISSING, None),
    ],
)
def test_certs(body: str, status: str, left: int | None) -> None:
    info = parse_certs(body, "web-1", ID, NOW)
    assert (info.status, info.seconds_left) == (status, left)
    if status != MISSING or body != "not json":
        assert info.root_not_after == datetime(2035, 1, 1, tzinfo=UTC)
    assert info.detail or status == OK


# The shape of pilot/pkg/xds/debug.go SyncStatus (istio/istio@86c9f01f).
SYNCZ = [
    {"cluster_id": "Kubernetes", "proxy": "web-1.shop", "proxy_type": "sidecar", "istio_version": "1.24.2",
     "cluster_sent": "a1", "cluster_acked": "a1", "listener_sent": "b1", "listener_acked": "b1",
     "route_sent": "c1", "route_acked": "c1", "endpoint_sent": "d1", "endpoint_acked": "d1"},
    {"proxy": "web-2.shop", "istio_version": "1.23.0", "cluster_sent": "a2", "cluster_acked": "a1",
     "listener_sent": "b1", "listener_acked": "b1"},
    {"proxy": "new-1.shop", "istio_version": "1.24.2"},
    {"proxy": "bad-1.shop", "cluster_sent": "a", "cluster_acked": "a", "listener_sent": "b", "listener_acked": "b",
     "resources": {"type.googleapis.com/envoy.config.listener.v3.Listener":
                   {"sent": "b", "acked": "a", "lastError": "Error adding/updating listener(s) virtualInbound"}}},
]


def test_syncz_statuses_merged_across_replicas() -> None:
    found = parse_syncz([json.dumps(SYNCZ[:2]), "garbage", json.dumps(SYNCZ[2:]), json.dumps({"not": "a list"})])
    assert {k: (v.status, v.proxy_version) for k, v in found.items()} == {
        "web-1.shop": (SYNCED, "1.24.2"),
        "web-2.shop": (STALE, "1.23.0"),
        "new-1.shop": (NOT_SENT, "1.24.2"),
        "bad-1.shop": (ERROR, ""),
    }
    assert "cluster" in found["web-2.shop"].detail
    assert "virtualInbound" in found["bad-1.shop"].detail


def _fixture_line(marker: str) -> str:
    return next(line for line in (FIXTURES / "access-logs.txt").read_text().splitlines()
                if marker in line and not line.startswith("#"))


def test_log_callers_name_pods_and_nodes() -> None:
    # Real lines: the httpbin docs pair (server side, mTLS from sleep at 10.44.1.23) and the ratelimit
    # line logged right after a STRICT switch (plaintext from 172.17.0.1 refused).
    mtls = _fixture_line('inbound|8000|| 127.0.0.1:41854')
    refused = _fixture_line("172.17.0.8:8081 172.17.0.1:38748")
    client_side = _fixture_line("outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652")
    snapshot = Snapshot.build([
        Pod("foo", "sleep-7d9c4c8b6f-x2lq9", ip="10.44.1.23", owner_kind="ReplicaSet",
            owner_name="sleep-7d9c4c8b6f", labels={"pod-template-hash": "7d9c4c8b6f"}),
        Pod("kube-system", "kube-proxy-abcde", ip="172.17.0.1", node="node-a", host_network=True),
    ])
    callers = log_callers([mtls, refused, client_side, "junk"], AddressBook(snapshot))
    assert [(c.caller.namespace, c.caller.workload, c.port, c.security, c.accepted, c.rejected)
            for c in callers] == [
        ("foo", "sleep", 80, "mutual_tls", 1, 0),
        ("", "external via NodePort on node node-a", 8081, "plaintext", 0, 1),
    ]
    assert callers[1].lines == [refused]


def test_node_address_from_a_pods_host_ip() -> None:
    refused = _fixture_line("172.17.0.8:8081 172.17.0.1:38748")
    snapshot = Snapshot.build([Pod("shop", "web-1", ip="10.1.0.4", node="node-c", host_ip="172.17.0.1")])
    [caller] = log_callers([refused], AddressBook(snapshot))
    assert caller.caller.workload == "external via NodePort on node node-c"


def test_log_callers_unknown_address() -> None:
    refused = _fixture_line("172.17.0.8:8081 172.17.0.1:38748")
    [caller] = log_callers([refused], AddressBook(Snapshot()))
    assert caller.caller.workload == "unknown (172.17.0.1)"

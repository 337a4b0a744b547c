"""The demo traffic model: Istio's default access-log format, determinism, and obedience to policy."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meshtui.backend.base import BackendError, LogOptions
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.demo.traffic import PodLog, authorization
from meshtui.model.convert import authorization_policy, pod
from meshtui.model.snapshot import Snapshot

START = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
STAGING = "kubestock-staging"

# Istio's default TEXT format (pilot/pkg/model/telemetry_logging.go, EnvoyTextLogFormat), one group per
# operator; "-" stands for an empty value, quoted operators keep their quotes.
Q = r'"([^"]*)"'
ADDR = r"(-|\d+\.\d+\.\d+\.\d+:\d+)"
ACCESS_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "  # START_TIME
    r'"(- - -|[A-Z]+ \S+ HTTP/(?:1\.1|2))" '  # METHOD PATH PROTOCOL, or a TCP connection
    r"(\d{1,3}) "  # RESPONSE_CODE
    r"(-|[A-Z]{2,3}(?:,[A-Z]{2,3})*) "  # RESPONSE_FLAGS
    r"(\S+) "  # RESPONSE_CODE_DETAILS
    r"(\S+) "  # CONNECTION_TERMINATION_DETAILS
    rf"{Q} "  # UPSTREAM_TRANSPORT_FAILURE_REASON
    r"(\d+) (\d+) (\d+) "  # BYTES_RECEIVED BYTES_SENT DURATION
    r"(-|\d+) "  # X-ENVOY-UPSTREAM-SERVICE-TIME
    rf"{Q} {Q} {Q} {Q} {Q} "  # X-FORWARDED-FOR USER-AGENT X-REQUEST-ID AUTHORITY UPSTREAM_HOST
    r"(-|(?:inbound|outbound|inbound-vip)\|\d+\|[^|]*\|\S*) "  # UPSTREAM_CLUSTER_RAW (inbound-vip: a waypoint)
    rf"{ADDR} {ADDR} {ADDR} "  # UPSTREAM_LOCAL DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE
    r"(\S+) "  # REQUESTED_SERVER_NAME
    r"(\S+)$"  # ROUTE_NAME
)
FIELDS = [
    "start", "request", "code", "flags", "details", "termination", "transport_failure", "received", "sent",
    "duration", "upstream_time", "xff", "user_agent", "request_id", "authority", "upstream_host", "cluster",
    "upstream_local", "downstream_local", "downstream_remote", "sni", "route",
]  # fmt: skip


def parse(line: str) -> dict[str, str] | None:
    m = ACCESS_LINE.match(line)
    return dict(zip(FIELDS, m.groups(), strict=True)) if m else None


def test_regex_accepts_the_documented_istio_lines() -> None:
    """The regex itself accepts real lines (istio.io access-log task, envoyproxy/ratelimit#296)."""
    real = [
        '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
        '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
        "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 "
        "- default",
        '[2021-09-28T14:55:12.134Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
        "- - 172.17.0.8:8081 172.17.0.1:38748 - -",
    ]
    assert all(parse(line) for line in real)


@pytest.fixture
def backend(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend(ManualClock(START))


def log_lines(b: DemoBackend, namespace: str, pod_name: str) -> list[str]:
    """The pod's whole retained istio-proxy log, read as the app reads it."""
    return list(
        b.proxy_logs(namespace, pod_name, LogOptions(tail_lines=None, follow=False), threading.Event())
    )


def lines_of(b: DemoBackend, namespace: str, app: str) -> dict[str, list[str]]:
    """Every log line so far of the pods of one app, by pod."""
    snap = b.snapshot()
    return {
        p.name: log_lines(b, namespace, p.name) for p in snap.pods_in(namespace) if p.labels.get("app") == app
    }


def all_records(b: DemoBackend, namespace: str, app: str) -> list[dict[str, str]]:
    out = []
    for lines in lines_of(b, namespace, app).values():
        for line in lines:
            record = parse(line)
            assert record is not None, line
            out.append(record)
    return out


def pod_ip(b: DemoBackend, namespace: str, app: str) -> str:
    return next(p.ip for p in b.snapshot().pods_in(namespace) if p.labels.get("app") == app)


def test_every_line_is_in_istio_default_format(backend: DemoBackend) -> None:
    backend.cluster.advance(120)
    snap = backend.snapshot()
    total = 0
    for p in snap.pods.values():
        if p.has_sidecar and not p.is_ztunnel:
            for line in log_lines(backend, p.namespace, p.name):
                assert parse(line), f"{p.name}: {line}"
                total += 1
    assert total > 500


def test_only_pods_with_a_proxy_log(backend: DemoBackend) -> None:
    backend.cluster.advance(120)
    snap = backend.snapshot()
    for p in snap.pods.values():
        if p.has_sidecar:
            assert log_lines(backend, p.namespace, p.name), p.name
        else:
            with pytest.raises(BackendError, match="has no istio-proxy container"):
                log_lines(backend, p.namespace, p.name)


def test_both_sides_of_an_mtls_call(backend: DemoBackend) -> None:
    backend.cluster.advance(60)
    client = [r for r in all_records(backend, STAGING, "ms-order-management") if ":3001" in r["authority"]]
    server = [r for r in all_records(backend, STAGING, "ms-inventory") if r["user_agent"] == "axios/1.7.7"]
    out = next(r for r in client if r["details"] == "via_upstream")
    assert out["cluster"] == "outbound|3001||ms-inventory.kubestock-staging.svc.cluster.local"
    assert out["sni"] == "-" and out["route"] == "default"
    inbound = next(r for r in server if r["request_id"] == out["request_id"])
    assert inbound["cluster"] == "inbound|3001||"
    assert inbound["sni"] == "outbound_.3001_._.ms-inventory.kubestock-staging.svc.cluster.local"
    assert inbound["upstream_local"].startswith("127.0.0.6:")
    assert inbound["downstream_remote"] == out["upstream_local"]
    assert (inbound["code"], inbound["request"]) == (out["code"], out["request"])


def test_response_mix(backend: DemoBackend) -> None:
    backend.cluster.advance(300)
    snap = backend.snapshot()
    seen = set()
    for p in (p for p in snap.pods.values() if p.has_sidecar and not p.is_ztunnel):
        for line in log_lines(backend, p.namespace, p.name):
            r = parse(line)
            assert r is not None
            seen.add((r["code"], r["flags"]))
    codes = {code for code, _ in seen}
    assert {"200", "201", "404", "503"} <= codes
    assert {("503", "UF,URX"), ("503", "UC")} <= seen
    two_xx = sum(1 for code, _ in seen if code.startswith("2"))
    assert two_xx >= 2


def test_same_seed_same_steps_same_lines(demo_backend: Callable[..., DemoBackend]) -> None:
    def run(seed: int) -> list[str]:
        b = demo_backend(ManualClock(START), seed=seed)
        for step in (0.5, 3, 10, 0.1, 20):
            b.cluster.advance(step)
        snap = b.snapshot()
        return [line for p in sorted(snap.pods) if snap.pods[p].has_sidecar for line in log_lines(b, *p)]

    first = run(7)
    assert first and first == run(7)
    assert first != run(8)


def test_history_is_bounded() -> None:
    log = PodLog()
    at = START
    for i in range(2500):
        log.append(at, f"line {i}")
    assert len(log.lines) == 2000 and log.total == 2500
    assert [line for _, line in log.since(2497)] == ["line 2497", "line 2498", "line 2499"]
    assert len(log.since(0)) == 2000


def staging_strict() -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": STAGING},
        "spec": {"mtls": {"mode": "STRICT"}},
    }


def inventory_port_exception() -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "ms-inventory", "namespace": STAGING},
        "spec": {
            "selector": {"matchLabels": {"app": "ms-inventory"}},
            "portLevelMtls": {"3001": {"mode": "PERMISSIVE"}},
        },
    }


def batch_reporter_view(b: DemoBackend, since: datetime) -> list[dict[str, str]]:
    """ms-inventory's inbound lines for connections from the legacy batch-reporter, after ``since``."""
    reporter = pod_ip(b, "legacy", "batch-reporter")
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [
        r
        for r in all_records(b, STAGING, "ms-inventory")
        if r["downstream_remote"].startswith(reporter + ":") and r["start"] >= stamp
    ]


def test_plaintext_caller_fails_once_strict_and_recovers_with_a_port_exception(
    backend: DemoBackend,
) -> None:
    backend.cluster.advance(30)
    before = batch_reporter_view(backend, START)
    # Plaintext (no SNI) and accepted; an occasional UC is the app resetting, not the policy.
    assert before and all(r["sni"] == "-" for r in before)
    assert sum(r["details"] == "via_upstream" for r in before) >= len(before) - 1
    assert ("Deployment legacy/batch-reporter", STAGING, "ms-inventory", 3001) in backend.cluster.observed_plaintext()

    backend.create("PeerAuthentication", staging_strict())
    strict_at = START + timedelta(seconds=30)
    backend.cluster.advance(30)
    refused = batch_reporter_view(backend, strict_at)
    assert len(refused) >= 4
    for r in refused:
        assert (r["request"], r["code"], r["flags"], r["details"]) == (
            "- - -",
            "0",
            "NR",
            "filter_chain_not_found",
        )
        assert r["cluster"] == "-" and r["downstream_local"].endswith(":3001")
    # Meshed callers keep working over mTLS.
    meshed = [r for r in all_records(backend, STAGING, "ms-inventory") if r["user_agent"] == "axios/1.7.7"]
    assert any(r["start"] >= "2026-11-24T12:00:30" and r["code"] == "200" for r in meshed)

    backend.create("PeerAuthentication", inventory_port_exception())
    backend.cluster.advance(30)
    recovered = batch_reporter_view(backend, strict_at + timedelta(seconds=30))
    assert recovered and all(r["details"] != "filter_chain_not_found" for r in recovered)
    assert any(r["code"] == "200" for r in recovered)


def test_sidecar_client_sending_plaintext_to_strict_gets_503_uc(backend: DemoBackend) -> None:
    backend.patch("DestinationRule", STAGING, "ms-inventory", {"spec": {"trafficPolicy": {"tls": {"mode": "DISABLE"}}}})
    backend.create("PeerAuthentication", staging_strict())
    backend.cluster.advance(30)
    client = [
        r
        for r in all_records(backend, STAGING, "ms-order-management")
        if ":3001" in r["authority"] and r["start"] >= "2026-11-24T12:00:00"
    ]
    assert client
    for r in client:
        assert (r["code"], r["flags"]) == ("503", "UC")
        assert r["details"] == "upstream_reset_before_response_started{connection_termination}"
    server_nr = [r for r in all_records(backend, STAGING, "ms-inventory") if r["flags"] == "NR"]
    order_ips = {
        p.ip for p in backend.snapshot().pods_in(STAGING) if p.labels.get("app") == "ms-order-management"
    }
    assert {r["downstream_remote"].split(":")[0] for r in server_nr} >= order_ips


def test_authorization_denies_without_an_allow_rule(backend: DemoBackend) -> None:
    backend.cluster.advance(20)
    assert all(r["code"] != "403" for r in all_records(backend, "tenant-a-orders", "payment-service"))
    backend.delete("AuthorizationPolicy", "tenant-a-orders", "allow-order-service-to-payment-service")
    backend.cluster.advance(30)
    denied = [r for r in all_records(backend, "tenant-a-orders", "payment-service") if r["code"] == "403"]
    assert denied and all(r["details"] == "rbac_access_denied_matched_policy[none]" for r in denied)
    client = [
        r for r in all_records(backend, "tenant-a-orders", "order-service") if "payment" in r["authority"]
    ]
    assert client[-1]["code"] == "403" and client[-1]["details"] == "via_upstream"


def ap(name: str, spec: dict[str, Any], namespace: str = "shop") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


SERVER = pod({"metadata": {"name": "api-1", "namespace": "shop", "labels": {"app": "api"}}})
ORDERS = "cluster.local/ns/shop/sa/orders"


@pytest.mark.parametrize(
    ("policies", "principal", "path", "expected"),
    [
        ([], "", "/", None),
        ([ap("deny-all", {})], ORDERS, "/", "rbac_access_denied_matched_policy[none]"),
        ([ap("allow", {"rules": [{}]})], "", "/", None),
        ([ap("allow", {"rules": [{"from": [{"source": {"principals": [ORDERS]}}]}]})], ORDERS, "/", None),
        (
            [ap("allow", {"rules": [{"from": [{"source": {"principals": [ORDERS]}}]}]})],
            "",
            "/",
            "rbac_access_denied_matched_policy[none]",
        ),
        ([ap("allow", {"rules": [{"from": [{"source": {"namespaces": ["shop"]}}]}]})], ORDERS, "/", None),
        (
            [ap("allow", {"rules": [{"from": [{"source": {"principals": ["*/sa/orders"]}}]}]})],
            ORDERS,
            "/",
            None,
        ),
        (
            [ap("other", {"selector": {"matchLabels": {"app": "web"}}})],
            "",
            "/",
            None,
        ),
        (
            [ap("no-admin", {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]})],
            ORDERS,
            "/admin/users",
            "rbac_access_denied_matched_policy[ns[shop]-policy[no-admin]-rule[0]]",
        ),
        (
            [ap("no-admin", {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]})],
            ORDERS,
            "/orders",
            None,
        ),
        (
            [
                ap(
                    "mesh-deny",
                    {"action": "DENY", "rules": [{"from": [{"source": {"notPrincipals": ["*"]}}]}]},
                    namespace="istio-system",
                )
            ],
            "",
            "/",
            "rbac_access_denied_matched_policy[ns[istio-system]-policy[mesh-deny]-rule[0]]",
        ),
    ],
)
def test_authorization(
    policies: list[dict[str, Any]], principal: str, path: str, expected: str | None
) -> None:
    snap = Snapshot.build([SERVER, *(authorization_policy(p) for p in policies)])
    assert authorization(snap, SERVER, principal, 8080, "GET", path) == expected


def test_debug_logging_adds_envoy_lines_for_that_pod_only(backend: DemoBackend) -> None:
    pods = sorted(lines_of(backend, STAGING, "ms-inventory"))
    backend.proxy_request(STAGING, pods[0], "/logging?level=debug", method="POST")
    backend.cluster.advance(30)
    debug = re.compile(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\tdebug\tenvoy (http|router|connection|conn_handler) "
    )
    logs = lines_of(backend, STAGING, "ms-inventory")
    assert any(debug.match(line) for line in logs[pods[0]])
    assert not any(debug.match(line) for line in logs[pods[1]])
    assert all(parse(line) or debug.match(line) for line in logs[pods[0]])


def test_observed_plaintext_forgets_old_callers(backend: DemoBackend) -> None:
    backend.cluster.advance(20)
    assert backend.cluster.observed_plaintext() == [
        ("Deployment legacy/batch-reporter", STAGING, "ms-inventory", 3001)
    ]
    backend.delete("Deployment", "legacy", "batch-reporter")
    for _ in range(7):
        backend.cluster.advance(60)
    assert backend.cluster.observed_plaintext() == []

"""ztunnel's connection metrics: parsed as ztunnel exports them, counted per source and security policy."""

from __future__ import annotations

import pytest

from meshtui.tls.ztunnel_metrics import Connections, InboundCaller, by_source, inbound, parse


def sample(name: str, value: str, *, reporter: str = "destination", src: str = "payments-api",
           src_ns: str = "payments", policy: str = "mutual_tls", flags: str = "-", dst: str = "ledger") -> str:
    """One line with ztunnel's full CommonTrafficLabels set, in its order (istio/ztunnel metrics.rs)."""
    principal = f"spiffe://cluster.local/ns/{src_ns}/sa/{src}" if policy == "mutual_tls" else "unknown"
    labels = {
        "reporter": reporter, "source_workload": src, "source_canonical_service": src,
        "source_canonical_revision": "v1", "source_workload_namespace": src_ns, "source_principal": principal,
        "source_app": src, "source_version": "v1", "source_cluster": "Kubernetes",
        "destination_service": f"{dst}.payments.svc.cluster.local", "destination_service_namespace": "payments",
        "destination_service_name": dst, "destination_workload": dst, "destination_canonical_service": dst,
        "destination_canonical_revision": "v1", "destination_workload_namespace": "payments",
        "destination_principal": f"spiffe://cluster.local/ns/payments/sa/{dst}", "destination_app": dst,
        "destination_version": "v1", "destination_cluster": "Kubernetes", "request_protocol": "tcp",
        "response_flags": flags, "connection_security_policy": policy,
    }
    return f"{name}{{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + f"}} {value}"


TEXT = "\n".join([
    "# HELP istio_tcp_connections_opened The total number of TCP connections opened.",
    "# TYPE istio_tcp_connections_opened counter",
    sample("istio_tcp_connections_opened_total", "42"),
    # Refused connections are counted as opened ("-") before the policy check, then as failed (DENY).
    sample("istio_tcp_connections_opened_total", "10", src="batch-reporter", src_ns="legacy", policy="unknown"),
    sample("istio_tcp_connections_opened_total", "5", reporter="source"),
    "# TYPE istio_tcp_connections_failed counter",
    sample("istio_tcp_connections_failed_total", "7", src="batch-reporter", src_ns="legacy", policy="unknown",
           flags="DENY"),
    "istio_tcp_sent_bytes_total{reporter=\"destination\"} 99",
    "# EOF",
])


def test_counts_per_reporter_source_and_policy():
    rows = parse(TEXT)
    legacy = next(r for r in rows if r.source_workload == "batch-reporter")
    assert (legacy.opened, legacy.failed, legacy.denied, legacy.mtls, legacy.source_principal) == (
        10, 7, 7, False, "unknown")
    assert legacy.lines and all("batch-reporter" in line for line in legacy.lines)
    api = [r for r in rows if r.source_workload == "payments-api"]
    assert {(r.reporter, r.opened) for r in api} == {("destination", 42), ("source", 5)}
    assert all(r.mtls for r in api)


def test_by_source_is_the_server_side_view():
    assert by_source(parse(TEXT), "payments", "ledger") == {
        ("legacy", "batch-reporter"): {"unknown": 10},
        ("payments", "payments-api"): {"mutual_tls": 42},
    }
    assert by_source(parse(TEXT), "payments", "ledger", reporter="source") == {
        ("payments", "payments-api"): {"mutual_tls": 5}}
    assert by_source(parse(TEXT), "payments", "nobody") == {}


@pytest.mark.parametrize("line", [
    'istio_tcp_connections_opened_total{reporter="destination" 3',  # unclosed braces
    'istio_tcp_connections_opened_total{reporter=destination} 3',  # unquoted value
    'istio_tcp_connections_opened_total{reporter="destination"} NaN',
    'istio_tcp_connections_opened_total{reporter="destination"} +Inf',
    'istio_tcp_connections_opened_total{reporter="destination"} -1',
    'istio_tcp_connections_opened_totalx{reporter="destination"} 1',
    "istio_tcp_connections_opened_total",
])
def test_malformed_samples_are_skipped(line: str):
    assert parse(line) == []


def test_escaped_label_values_and_timestamps():
    line = ('istio_tcp_connections_opened_total{reporter="destination",source_workload="a\\"b\\\\c",'
            'connection_security_policy="mutual_tls"} 2 1700000000000')
    [row] = parse(line)
    assert (row.source_workload, row.opened, row.destination_workload) == ('a"b\\c', 2, "unknown")
    assert isinstance(row, Connections)


def text(*lines: str) -> str:
    return "\n".join(lines)


OPEN = "istio_tcp_connections_opened_total"
FAIL = "istio_tcp_connections_failed_total"
LEGACY = {"src": "batch-reporter", "src_ns": "legacy", "policy": "unknown"}

INBOUND = {
    # name: (before, after, expected (source, security, accepted, in window, denied in window))
    "mTLS growing": (text(sample(OPEN, "40")), text(sample(OPEN, "45")),
                     [("payments/payments-api", "mutual_tls", 45, 5, 0)]),
    "plaintext accepted": (text(sample(OPEN, "2", **LEGACY)), text(sample(OPEN, "9", **LEGACY)),
                           [("legacy/batch-reporter", "plaintext", 9, 7, 0)]),
    "plaintext refused": (
        text(sample(OPEN, "3", **LEGACY), sample(FAIL, "3", flags="DENY", **LEGACY)),
        text(sample(OPEN, "8", **LEGACY), sample(FAIL, "8", flags="DENY", **LEGACY)),
        [("legacy/batch-reporter", "plaintext", 0, 0, 5)]),
    "upstream failures are not refusals": (
        text(sample(OPEN, "3")), text(sample(OPEN, "5"), sample(FAIL, "1", flags="CONNECT")),
        [("payments/payments-api", "mutual_tls", 4, 1, 0)]),
    "new source in the window": ("", text(sample(OPEN, "4", **LEGACY)),
                                 [("legacy/batch-reporter", "plaintext", 4, 4, 0)]),
    "ztunnel restarted: the counter starts again": (text(sample(OPEN, "90")), text(sample(OPEN, "6")),
                                                   [("payments/payments-api", "mutual_tls", 6, 6, 0)]),
    "source ztunnel does not know": (
        text(sample(OPEN, "1", src="unknown", src_ns="unknown", policy="unknown")),
        text(sample(OPEN, "3", src="unknown", src_ns="unknown", policy="unknown")),
        [("", "plaintext", 3, 2, 0)]),
    "another workload's and the client side's counts": (
        "", text(sample(OPEN, "5", dst="other"), sample(OPEN, "5", reporter="source")), []),
}


@pytest.mark.parametrize("name", list(INBOUND))
def test_inbound_callers_between_two_samples(name: str) -> None:
    before, after, expected = INBOUND[name]
    callers = inbound(parse(before), parse(after), "payments", "ledger")
    assert [(f"{c.namespace}/{c.workload}".strip("/"), c.security, c.accepted, c.accepted_in_window,
             c.denied_in_window) for c in callers] == expected
    assert all(isinstance(c, InboundCaller) and c.service == "ledger" and c.lines for c in callers)


def test_principal_only_from_mtls() -> None:
    [mtls] = inbound([], parse(sample(OPEN, "1")), "payments", "ledger")
    [plain] = inbound([], parse(sample(OPEN, "1", **LEGACY)), "payments", "ledger")
    assert mtls.principal == "spiffe://cluster.local/ns/payments/sa/payments-api" and plain.principal == ""

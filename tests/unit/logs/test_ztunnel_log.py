"""ztunnel access lines (ambient mode): parsed from the lines Istio's docs publish, and filtered to a pod."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshtui.logs.columns import row_segments, row_text
from meshtui.logs.parser import parse_line
from meshtui.logs.ztunnel import involves
from meshtui.model.objects import Pod

FIXTURE = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "ztunnel" / "access-logs.txt"


def fixture_lines() -> list[str]:
    if not FIXTURE.exists():
        pytest.skip(f"{FIXTURE} not available")
    return [line.rstrip("\n") for line in FIXTURE.read_text().splitlines() if line and not line.startswith("#")]


def test_documented_lines_parse_with_every_field():
    records = [parse_line(line) for line in fixture_lines()]
    assert [r.kind for r in records] == ["ztunnel"] * 6
    first = records[0]
    assert first.time == "2024-05-04T09:59:05.028709Z"
    assert (first.direction, first.bytes_out, first.bytes_in, first.duration_ms) == ("inbound", 175, 80, 1)
    z = first.ztunnel
    assert z is not None
    assert (z.src_workload, z.src_namespace) == ("sleep-7656cf8794-r7zb9", "default")
    assert z.src_identity == "spiffe://cluster.local/ns/default/sa/sleep"
    assert (z.dst_workload, z.dst_addr, z.dst_hbone_addr) == ("productpage-v1-87d54dd59-fn6vw", "10.244.1.10:9080",
                                                              "10.244.1.10:9080")
    assert z.dst_service == "productpage.default.svc.cluster.local"
    assert z.dst_identity == "spiffe://cluster.local/ns/default/sa/bookinfo-productpage"
    assert not first.problem and z.error is None
    assert records[1].direction == "outbound" and records[1].upstream_host == "10.244.1.10:15008"


def test_real_pod_lines_use_tabs_and_kubectl_timestamps_are_stripped():
    line = fixture_lines()[0].replace(" info    access  ", "\tinfo\taccess\t")
    assert parse_line(line).kind == "ztunnel"
    stamped = "2024-05-04T09:59:05.028800000Z " + line
    record = parse_line(stamped)
    assert record.kind == "ztunnel" and record.ztunnel and record.ztunnel.src_workload == "sleep-7656cf8794-r7zb9"


# Written from ztunnel's access_log! macro: level error, the error field after the others.
REFUSED = (
    '2026-11-24T12:00:01.000000Z\terror\taccess\tconnection complete src.addr=10.244.3.7:41234 '
    'src.workload="batch-reporter-6d9f7c8b9d-x2x4q" src.namespace="legacy" dst.addr=10.244.1.21:8080 '
    'dst.hbone_addr="10.244.1.21:8080" dst.service="ledger.payments.svc.cluster.local" '
    'dst.workload="ledger-7b9c6d5f4c-k8m2n" dst.namespace="payments" direction="inbound" bytes_sent=0 '
    'bytes_recv=0 duration="0ms" error="connection closed due to policy rejection: explicitly denied by: '
    'istio-system/istio_converted_static_strict"'
)


def test_policy_rejection_is_an_mtls_problem_and_plaintext_has_no_identity():
    record = parse_line(REFUSED)
    assert record.problem and record.mtls_problem == "ztunnel_policy"
    assert record.ztunnel and record.ztunnel.src_identity is None
    text = row_text(row_segments(record))
    assert "plain batch-reporter" in text and "policy rejection" in text


def test_early_deny_line():
    line = ('2026-11-24T12:00:02.000000Z\twarn\taccess\tconnection failed src.addr=10.244.3.7:41240 '
            'dst.addr=10.244.1.21:15008 direction="inbound" error="unknown source"')
    record = parse_line(line)
    assert record.kind == "ztunnel" and record.message == "connection failed" and record.problem


def test_involves_by_workload_name_or_ip():
    record = parse_line(REFUSED)
    ledger = Pod("payments", "ledger-7b9c6d5f4c-k8m2n")
    assert involves(record, ledger)
    assert involves(record, Pod("legacy", "other", ip="10.244.3.7"))
    assert not involves(record, Pod("payments", "ledger-other", ip="10.244.1.99"))
    assert not involves(parse_line("[2024-01-01T00:00:00.000Z] plain"), ledger)


def test_control_bytes_in_fields_never_reach_the_terminal():
    record = parse_line(REFUSED.replace("batch-reporter", "batch\x1b[31mreporter"))
    assert "\x1b" not in row_text(row_segments(record))


def test_pod_filter_keeps_the_pods_ztunnel_lines_and_its_waypoint_requests():
    from meshtui.logs.ztunnel import pod_filter

    ledger = Pod("payments", "ledger-7b9c6d5f4c-k8m2n", ip="10.244.1.21")
    keep = pod_filter(ledger, "istio-system/ztunnel-abcde")
    assert keep("istio-system/ztunnel-abcde", parse_line(REFUSED))
    assert not keep("istio-system/ztunnel-abcde", parse_line(fixture_lines()[0]))
    waypoint = parse_line(
        '[2026-11-24T12:00:19.058Z] "POST /v1/entries HTTP/1.1" 201 - via_upstream - "-" 1679 21639 36 35 "-" '
        '"Go-http-client/1.1" "3288bcb3" "ledger:8080" "10.244.1.21:8080" '
        "inbound-vip|8080|http|ledger.payments.svc.cluster.local 10.244.2.175:40995 10.244.2.175:15008 "
        "10.244.1.169:33075 - default")
    assert waypoint.upstream_host == "10.244.1.21:8080"
    assert keep("payments/waypoint-x", waypoint)
    assert not pod_filter(Pod("payments", "other", ip="10.244.9.9"), "istio-system/ztunnel-abcde")(
        "payments/waypoint-x", waypoint)

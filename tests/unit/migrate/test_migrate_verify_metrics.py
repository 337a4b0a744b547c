"""Verify's reading of sidecar metrics: client-reported connection failures toward a port the step
changed, grown inside the verify window (table-driven, on the demo mesh's snapshot)."""

from __future__ import annotations

import pytest

from meshtui.migrate.verify import VerifyFailure, metric_failures
from meshtui.model.snapshot import Snapshot
from meshtui.tls.metrics import Series

KS = "kubestock-staging"
CLIENT = (KS, "ms-order-management-lhx58kd4q8-r82nd")
REASON = "connection failures (UC) reported by the client's sidecar"


def series(value: float, *, reporter: str = "source", flags: str = "UC", service: str = "ms-inventory",
           workload: str = "ms-inventory", name: str = "istio_requests_total") -> Series:
    labels = {"reporter": reporter, "source_workload": "ms-order-management", "source_workload_namespace": KS,
              "destination_workload": workload, "destination_workload_namespace": KS,
              "destination_service_name": service, "destination_service_namespace": KS,
              "response_code": "503", "response_flags": flags}
    return Series(name, labels, value, "")


def inventory_ports(snapshot: Snapshot, port: int) -> set[tuple[str, str, int]]:
    return {(KS, p.name, port) for p in snapshot.pods_in(KS) if p.workload_name == "ms-inventory"}


@pytest.mark.parametrize(("before", "after", "port", "expected"), [
    pytest.param([series(2)], [series(7)], 3001, [VerifyFailure(f"{KS}/ms-order-management",
                                                                f"{KS}/ms-inventory:3001", REASON, 5, "metrics")],
                 id="UC grew toward the changed port"),
    pytest.param([], [series(3)], 3001, [VerifyFailure(f"{KS}/ms-order-management", f"{KS}/ms-inventory:3001",
                                                       REASON, 3, "metrics")], id="first failure in the window"),
    pytest.param([series(4)], [series(4)], 3001, [], id="failures from before the step only"),
    pytest.param([series(9)], [series(2)], 3001, [VerifyFailure(f"{KS}/ms-order-management",
                                                                f"{KS}/ms-inventory:3001", REASON, 2, "metrics")],
                 id="proxy restarted: its count is all new"),
    pytest.param([], [series(3, flags="-")], 3001, [], id="no failure flag (an app 503)"),
    pytest.param([], [series(3, flags="NR")], 3001, [], id="no route: not a connection failure"),
    pytest.param([], [series(3, reporter="destination")], 3001, [], id="server-reported"),
    pytest.param([], [series(3)], 9999, [], id="the step changed another port"),
    pytest.param([], [series(3, service="ms-product", workload="ms-product")], 3001, [],
                 id="toward a workload the step did not change"),
    pytest.param([], [series(3, service="gone")], 3001, [], id="unknown Service: port cannot be told"),
    pytest.param([], [series(3, flags="UF,URX")], 3001, [], id="connect refused: the app, not STRICT"),
    pytest.param([], [series(3, flags="URX,UC", name="istio_tcp_connections_opened_total")], 3001,
                 [VerifyFailure(f"{KS}/ms-order-management", f"{KS}/ms-inventory:3001",
                                "connection failures (URX,UC) reported by the client's sidecar", 3, "metrics")],
                 id="TCP connections"),
])
def test_metric_failures(demo_snapshot: Snapshot, before: list[Series], after: list[Series], port: int,
                         expected: list[VerifyFailure]) -> None:
    got = metric_failures({CLIENT: tuple(before)}, {CLIENT: tuple(after)}, demo_snapshot,
                          inventory_ports(demo_snapshot, port))
    assert got == expected


def test_a_pod_not_sampled_at_the_start_says_nothing(demo_snapshot: Snapshot) -> None:
    assert metric_failures({}, {CLIENT: (series(40),)}, demo_snapshot, inventory_ports(demo_snapshot, 3001)) == []

"""Observe's reading of a TLS check report: plaintext callers now, and pods whose callers are unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshtui.migrate.observe import PlaintextCaller, UnreadPod, plaintext_callers, unread_pods
from meshtui.tls.report import ClientResult, PodError, PortResult, TlsReport, WorkloadResult

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def client(ns: str, workload: str, security: str, rate: float, evidence: str = "metrics",
           rejected: int = 0) -> ClientResult:
    return ClientResult(ns, workload, "", security, 10, 0, rate, evidence, rejected)


def report(*clients: ClientResult, port: int = 3001, errors: tuple[PodError, ...] = ()) -> TlsReport:
    ports = (PortResult(port, "PERMISSIVE", "PLAINTEXT", "", "", clients),)
    return TlsReport(10.0, AT, (WorkloadResult("shop", "inventory", ("inventory-1",), ports, (), ()),), errors, 1, 1)


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param([client("legacy", "batch", "plaintext", 0.5)],
                 [PlaintextCaller("legacy", "batch", "shop", "inventory", 3001, 0.5)], id="plaintext now"),
    pytest.param([client("legacy", "batch", "plaintext", 0.2, "logs")],
                 [PlaintextCaller("legacy", "batch", "shop", "inventory", 3001, 0.2, "logs")], id="named by the log"),
    pytest.param([client("legacy", "batch", "plaintext", 0.0)], [], id="plaintext only before the window"),
    pytest.param([client("shop", "orders", "mutual_tls", 3.0)], [], id="mTLS"),
    pytest.param([client("", "external via NodePort on node n1", "plaintext", 0.0, "logs", rejected=4)], [],
                 id="refused already: not a plaintext caller now"),
])
def test_plaintext_callers(given: list[ClientResult], expected: list[PlaintextCaller]) -> None:
    assert plaintext_callers(report(*given)) == expected


@pytest.mark.parametrize(("errors", "expected"), [
    pytest.param((PodError("shop/inventory-1", "stats: pods \"inventory-1\" is forbidden"),),
                 [UnreadPod("shop/inventory-1", "pods \"inventory-1\" is forbidden")], id="403 on pods/proxy"),
    pytest.param((PodError("shop/inventory-1", "stats: timed out after 8s"),),
                 [UnreadPod("shop/inventory-1", "timed out after 8s")], id="timeout"),
    pytest.param((PodError("shop/inventory-1", "pod: phase Pending"),),
                 [UnreadPod("shop/inventory-1", "phase Pending")], id="not running"),
    pytest.param((PodError("shop/inventory-1", "logs: 403"),), [], id="metrics read, only the log missing"),
    pytest.param((), [], id="all read"),
])
def test_unread_pods(errors: tuple[PodError, ...], expected: list[UnreadPod]) -> None:
    assert unread_pods(report(errors=errors)) == expected

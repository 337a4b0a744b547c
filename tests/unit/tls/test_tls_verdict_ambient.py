"""Verdicts for ambient pods: the same rules as for sidecars, fed by the ztunnel on the pod's node."""

from __future__ import annotations

import pytest

from meshtui.model.objects import Pod
from meshtui.tls.report import MISMATCH, NO_DATA, NO_TRAFFIC, OK, PLAINTEXT, REJECTING, SAFE
from meshtui.tls.verdict import PodEvidence, SyncEvidence, ZtunnelEvidence, build_report
from meshtui.tls.ztunnel_metrics import parse
from tests.unit.policy.policy_factories import ns, pa, pod, snap, svc
from tests.unit.tls.test_tls_verdict import NOW
from tests.unit.tls.test_ztunnel_metrics import sample

REDIRECTED = {"ambient.istio.io/redirection": "enabled"}
ZTUNNEL = "istio-system/ztunnel-abcde"
OPEN = "istio_tcp_connections_opened_total"
FAIL = "istio_tcp_connections_failed_total"
LEGACY = {"src": "batch-reporter", "src_ns": "legacy", "policy": "unknown"}


def ledger(name: str = "ledger-1") -> Pod:
    return pod("payments", name, {"app": "ledger"}, sidecar=False, ports=(8080,), annotations=dict(REDIRECTED),
               owner_kind="StatefulSet", owner_name="ledger")


LEDGER = ledger()
SERVICE = svc("payments", "ledger", {"app": "ledger"}, ports=((80, 8080),))


def zt(before: list[str], after: list[str]) -> ZtunnelEvidence:
    return ZtunnelEvidence(ZTUNNEL, tuple(parse("\n".join(before))), tuple(parse("\n".join(after))))


def report_for(mode: str, evidence: dict[tuple[str, str], PodEvidence], *pods: Pod):
    snapshot = snap(ns("payments", **{"istio.io/dataplane-mode": "ambient"}), *pods, SERVICE,
                    pa("payments", "default", mode))
    return build_report(snapshot, pods, evidence, SyncEvidence({}), window_s=10, started=NOW, now=NOW)


CASES = {
    # name: (mode, before, after, verdict, plaintext callers named, refused in the window)
    "plaintext now on PERMISSIVE": (
        "PERMISSIVE", [sample(OPEN, "3", **LEGACY), sample(OPEN, "40")],
        [sample(OPEN, "7", **LEGACY), sample(OPEN, "52")], PLAINTEXT, ["legacy/batch-reporter"], 0),
    "plaintext from a source ztunnel cannot name": (
        "PERMISSIVE", [], [sample(OPEN, "2", src="unknown", src_ns="unknown", policy="unknown")], PLAINTEXT,
        ["unknown"], 0),
    "only mTLS on PERMISSIVE": ("PERMISSIVE", [sample(OPEN, "40")], [sample(OPEN, "52")], SAFE, [], 0),
    "idle": ("PERMISSIVE", [sample(OPEN, "40")], [sample(OPEN, "40")], NO_TRAFFIC, [], 0),
    "STRICT refusing plaintext": (
        "STRICT", [sample(OPEN, "40"), sample(OPEN, "3", **LEGACY), sample(FAIL, "3", flags="DENY", **LEGACY)],
        [sample(OPEN, "52"), sample(OPEN, "9", **LEGACY), sample(FAIL, "9", flags="DENY", **LEGACY)],
        REJECTING, ["legacy/batch-reporter"], 6),
    "STRICT with mTLS": ("STRICT", [sample(OPEN, "40")], [sample(OPEN, "52")], OK, [], 0),
    "STRICT accepting plaintext": ("STRICT", [sample(OPEN, "1", **LEGACY)], [sample(OPEN, "4", **LEGACY)],
                                   MISMATCH, ["legacy/batch-reporter"], 0),
    # ztunnel has no DISABLE: it enforces PERMISSIVE (meshtui.policy.ambient.ztunnel_mode).
    "DISABLE reads as PERMISSIVE": ("DISABLE", [sample(OPEN, "3", **LEGACY)], [sample(OPEN, "7", **LEGACY)],
                                    PLAINTEXT, ["legacy/batch-reporter"], 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_ambient_verdicts(name: str) -> None:
    mode, before, after, verdict, plaintext, refused = CASES[name]
    report = report_for(mode, {LEDGER.key: PodEvidence(LEDGER, ztunnel=zt(before, after))}, LEDGER)
    [workload] = report.workloads
    [port] = workload.ports
    assert (port.port, port.verdict) == (8080, verdict)
    assert [c.name for c in port.clients if c.security == "plaintext"] == plaintext
    assert sum(c.rejected for c in port.clients) == refused
    assert f"ztunnel metrics on {ZTUNNEL}" in port.why and "10s apart" in port.why
    assert all(c.evidence == "metrics" and c.lines for c in port.clients)
    assert workload.certs == () and workload.sync == ()  # no sidecar: nothing to exec into


def test_plaintext_rate_is_connections_over_the_window() -> None:
    report = report_for("PERMISSIVE", {LEDGER.key: PodEvidence(
        LEDGER, ztunnel=zt([sample(OPEN, "3", **LEGACY)], [sample(OPEN, "8", **LEGACY)]), interval_s=5.0)}, LEDGER)
    [client] = report.workloads[0].ports[0].clients
    assert (client.connections, client.requests, client.rate_per_s) == (8, 0, 1.0)
    assert "inject legacy/batch-reporter" in report.workloads[0].ports[0].fix


def test_replicas_on_one_node_share_its_count_once() -> None:
    second = ledger("ledger-2")
    ev = zt([sample(OPEN, "3", **LEGACY)], [sample(OPEN, "8", **LEGACY)])
    report = report_for("PERMISSIVE", {LEDGER.key: PodEvidence(LEDGER, ztunnel=ev),
                                       second.key: PodEvidence(second, ztunnel=ev)}, LEDGER, second)
    [client] = report.workloads[0].ports[0].clients
    assert client.connections == 8


def test_ambient_pod_without_its_ztunnel_says_why_not_no_sidecar() -> None:
    error = (("stats", f"ztunnel {ZTUNNEL}: timed out after 8s"),)
    report = report_for("STRICT", {LEDGER.key: PodEvidence(LEDGER, errors=error)}, LEDGER)
    [port] = report.workloads[0].ports
    assert port.verdict == NO_DATA and "ztunnel" in port.why and "no sidecar" not in port.why
    assert port.mode == "STRICT"

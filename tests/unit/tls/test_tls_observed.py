"""A TLS check's plaintext callers feed the STRICT preview: who *will* break, and from what evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meshtui.change.impact_view import impact_lines
from meshtui.model.snapshot import ChangeEvent
from meshtui.policy.impact import impact
from meshtui.tls.observed import (
    checked_pods,
    evidence_note,
    is_recent,
    observed_callers,
    quick_check_note,
    unchecked_strict_pods,
)
from meshtui.tls.verdict import PodEvidence, SyncEvidence, build_report
from tests.unit.policy.policy_factories import pa, pod, snap
from tests.unit.tls.test_tls_verdict import ACCEPTED, BATCH, NOW, REFUSED, SERVER, SERVICE, WEB, evidence, metric


def _report(logs: tuple[str, ...], before: list[str], after: list[str]):
    snapshot = snap(SERVER, WEB, BATCH, SERVICE)
    ev = evidence(before, after, logs)
    return snapshot, build_report(snapshot, [SERVER], {SERVER.key: ev}, SyncEvidence({}), window_s=10,
                                  started=NOW, now=NOW)


def test_plaintext_caller_now_becomes_an_observed_call_that_strict_breaks() -> None:
    snapshot, report = _report((ACCEPTED,), [metric("none", 1, "unknown", "unknown")],
                               [metric("none", 2, "unknown", "unknown")])
    observed = observed_callers(report, snapshot)
    assert observed == [("legacy/batch-1", "shop", "inventory", 3001)]
    strict = snapshot.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    lines = impact_lines(impact(snapshot, strict, observed))
    assert any(line.startswith("FAILS Pod legacy/batch-1 → Service shop/inventory:3001 (observed plaintext)")
               for line in lines)


def test_refused_callers_inside_and_outside_the_mesh() -> None:
    outside = REFUSED.replace("10.2.0.9:51002", "192.0.2.7:40000")
    snapshot, report = _report((REFUSED, outside), [], [])
    observed = observed_callers(report, snapshot)
    assert observed == [("legacy/batch-1", "shop", "inventory", 3001),
                        ("unknown (192.0.2.7)", "shop", "inventory", 3001)]
    strict = snapshot.apply([ChangeEvent("ADDED", pa("shop", "default", "STRICT"))])
    lines = plan_lines(snapshot, strict, observed)
    assert any("unknown (192.0.2.7) → Service shop/inventory:3001 (observed plaintext)" in line for line in lines)


def plan_lines(before, after, observed) -> list[str]:
    from meshtui.change.impact_view import _observed_client

    return impact_lines(impact(before, after, [(_observed_client(c), *rest) for c, *rest in observed]))


def test_idle_or_mtls_callers_are_not_observed() -> None:
    snapshot, report = _report((), [metric("none", 4, "unknown", "unknown"), metric("mutual_tls", 1)],
                               [metric("none", 4, "unknown", "unknown"), metric("mutual_tls", 3)])
    assert observed_callers(report, snapshot) == []


def test_note_states_window_and_age() -> None:
    _, report = _report((), [], [])
    assert "TLS check just now (metrics 10s apart" in evidence_note(report, NOW, NOW + timedelta(seconds=30))
    assert "3 min ago" in evidence_note(report, NOW, NOW + timedelta(minutes=3))
    assert is_recent(NOW, NOW + timedelta(minutes=10)) and not is_recent(NOW, NOW + timedelta(minutes=11))
    assert not is_recent(None, NOW)


def test_pod_evidence_without_sidecar_gives_no_callers() -> None:
    snapshot = snap(BATCH)
    report = build_report(snapshot, [BATCH], {BATCH.key: PodEvidence(BATCH)}, SyncEvidence({}), window_s=10,
                          started=NOW, now=NOW)
    assert observed_callers(report, snapshot) == []


# Only PERMISSIVE → STRICT moves lose plaintext callers; pods a recent check read are known already.
OTHER = pod("shop", "inventory-2", {"app": "inventory"}, ports=(3001,), ip="10.1.0.8")
UNCHECKED = {
    "namespace to STRICT, nothing checked": ("PERMISSIVE", "STRICT", frozenset(),
                                             {SERVER.key, OTHER.key, WEB.key}),
    "namespace to STRICT, one pod checked": ("PERMISSIVE", "STRICT", frozenset({SERVER.key}), {OTHER.key, WEB.key}),
    "STRICT to PERMISSIVE locks nobody out": ("STRICT", "PERMISSIVE", frozenset(), set()),
    "no change": ("STRICT", "STRICT", frozenset(), set()),
}


@pytest.mark.parametrize("name", list(UNCHECKED))
def test_pods_a_change_makes_strict_that_no_check_covered(name: str) -> None:
    old, new, checked, expected = UNCHECKED[name]
    before = snap(SERVER, OTHER, WEB, SERVICE, pa("shop", "default", old))
    after = before.apply([ChangeEvent("MODIFIED", pa("shop", "default", new))])
    assert unchecked_strict_pods(impact(before, after), checked) == expected


def test_checked_pods_and_the_quick_check_note() -> None:
    _, report = _report((ACCEPTED,), [metric("none", 1, "unknown", "unknown")],
                        [metric("none", 2, "unknown", "unknown")])
    assert checked_pods(report) == {SERVER.key} and checked_pods(None) == frozenset()
    note = quick_check_note(report)
    assert "quick TLS check of 1/1 affected pods" in note and "10s apart" in note
    assert "not a guarantee" in note and "did not call in those 10s" in note
    assert "no traffic evidence" not in note
    snapshot = snap(SERVER, SERVICE)
    failed = build_report(snapshot, [SERVER], {SERVER.key: PodEvidence(SERVER, errors=(("stats", "forbidden"),))},
                          SyncEvidence({}), window_s=5, started=NOW, now=NOW)
    assert "no traffic evidence from 1 of them" in quick_check_note(failed)

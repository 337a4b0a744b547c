"""The change layer against the demo mesh: the same calls a real cluster gets, and traffic reacts."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meshtui.backend.base import LogOptions
from meshtui.change.apply import apply_changes, apply_plan
from meshtui.change.journal import Journal, undo_last
from meshtui.change.plan import MtlsScope, ObjectChange, injection_plan, mtls_plan
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from tests.objects import peer_auth

NS, TARGET, PORT = "kubestock-staging", "ms-inventory", 3001


@pytest.fixture
def demo(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend(ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)))


def refused(b: DemoBackend) -> int:
    """Plaintext connections the target's sidecars refused so far (Envoy: NR filter_chain_not_found)."""
    snap = b.snapshot()
    pods = [p for p in snap.pods_in(NS) if p.labels.get("app") == TARGET and p.has_sidecar]
    options = LogOptions(tail_lines=None, follow=False)
    return sum(
        "filter_chain_not_found" in line
        for p in pods
        for line in b.proxy_logs(NS, p.name, options, threading.Event())
    )


def target_scope(b: DemoBackend, port: int | None = None) -> MtlsScope:
    wl = b.snapshot().workloads[(NS, f"Deployment/{TARGET}")]
    return MtlsScope.of_workload(wl) if port is None else MtlsScope.of_port(wl, port)


def test_dry_run_changes_nothing_on_the_demo(demo: DemoBackend) -> None:
    before = demo.snapshot()
    for plan in (
        mtls_plan(before, MtlsScope.mesh(), "STRICT"),
        injection_plan(before, "legacy", enabled=True),
        mtls_plan(before, MtlsScope.of_namespace("tenant-a-orders"), "UNSET"),
    ):
        assert apply_plan(demo, plan, dry_run=True).ok
    assert demo.snapshot() == before


def test_strict_breaks_the_plaintext_caller_and_a_port_exception_or_undo_heals_it(
    demo: DemoBackend, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")

    def apply(plan) -> None:
        result = apply_plan(demo, plan, dry_run=False)
        assert result.ok, result.error
        journal.record(demo.context, plan.title, result)

    def refused_during(seconds: float) -> int:
        start = refused(demo)
        demo.cluster.advance(seconds)
        return refused(demo) - start

    assert refused_during(120) == 0
    apply(mtls_plan(demo.snapshot(), target_scope(demo), "STRICT"))
    assert refused_during(120) > 0
    apply(mtls_plan(demo.snapshot(), target_scope(demo, PORT), "PERMISSIVE"))
    assert refused_during(120) == 0
    assert undo_last(demo, journal, demo.context).status == "undone"
    assert refused_during(120) > 0
    assert undo_last(demo, journal, demo.context).status == "undone"
    assert refused_during(120) == 0
    assert (NS, f"{TARGET}-mtls") not in demo.snapshot().peer_authentications


def test_invalid_second_object_rolls_back_the_first_on_the_demo(demo: DemoBackend) -> None:
    before = demo.snapshot()
    first = mtls_plan(before, MtlsScope.of_namespace(NS), "STRICT").changes
    invalid = ObjectChange(
        "PeerAuthentication",
        NS,
        "ports-only",
        None,
        peer_auth(NS, "ports-only", ports={str(PORT): "STRICT"}),
        "create",
    )
    result = apply_changes(demo, [*first, invalid], dry_run=False)
    assert not result.ok and result.rolled_back == (f"PeerAuthentication {NS}/default",)
    assert result.outcomes[-1].error
    assert (NS, "default") not in demo.snapshot().peer_authentications


def test_conflict_on_the_demo(demo: DemoBackend) -> None:
    plan = mtls_plan(demo.snapshot(), MtlsScope.of_namespace("tenant-a-orders"), "PERMISSIVE")
    demo.patch("PeerAuthentication", "tenant-a-orders", "default", {"spec": {"mtls": {"mode": "DISABLE"}}})
    result = apply_plan(demo, plan, dry_run=False)
    assert result.conflict and not result.ok

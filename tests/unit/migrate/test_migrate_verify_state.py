"""Verify's reading of proxy logs, and the wizard's saved state."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from meshtui.backend.base import LogOptions
from meshtui.change.apply import apply_plan
from meshtui.change.plan import MtlsScope, mtls_plan
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import start_demo
from meshtui.migrate.scope import PortException, Scope
from meshtui.migrate.state import AppliedStep, MigrationState, Window, fingerprint, load, save, state_path
from meshtui.migrate.verify import VerifyFailure, changed_ports, failures
from meshtui.model.snapshot import Snapshot

KS = "kubestock-staging"


def logs_after_strict(seconds: float) -> tuple[list, Snapshot, set]:
    backend = start_demo(7, clock=ManualClock())
    try:
        snap = backend.snapshot()
        plan = mtls_plan(snap, MtlsScope.of_namespace(KS), "STRICT")
        assert apply_plan(backend, plan, dry_run=False).ok
        backend.cluster.advance(seconds)
        after = backend.snapshot()
        lines = []
        for pod in after.pods_in(KS):
            if pod.has_sidecar:
                options = LogOptions(follow=False, tail_lines=None, since_seconds=int(seconds))
                lines += [(pod, line) for line in backend.proxy_logs(KS, pod.name, options, threading.Event())]
        return lines, after, changed_ports(plan)
    finally:
        backend.discard()


def test_strict_without_exception_shows_batch_reporter_refused() -> None:
    lines, snap, changed = logs_after_strict(30)
    found = failures(lines, snap, changed)
    clients = {(f.client, f.target, f.reason) for f in found}
    assert ("legacy/batch-reporter", f"{KS}/ms-inventory:3001",
            "plaintext refused by STRICT (NR filter_chain_not_found)") in clients
    # Only the plaintext caller: the app's own resets and refused connections are not the step's doing.
    assert {f.client for f in found} == {"legacy/batch-reporter"}


def test_failures_on_ports_the_step_did_not_change_do_not_count() -> None:
    lines, snap, changed = logs_after_strict(30)
    assert failures(lines, snap, {k for k in changed if k[2] != 3001}) == []


def test_nr_line_from_an_unknown_address_names_the_address() -> None:
    _, snap, changed = logs_after_strict(1)
    pod = next(p for p in snap.pods_in(KS) if p.workload_name == "ms-inventory")
    line = (f'[2026-11-24T12:00:01.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
            f'- - {pod.ip}:3001 10.0.9.9:51234 - -')
    assert failures([(pod, line)], snap, changed) == [
        VerifyFailure("10.0.9.9", f"{KS}/ms-inventory:3001", "plaintext refused by STRICT (NR filter_chain_not_found)")
    ]


def test_state_round_trips_and_a_damaged_file_reads_as_none(tmp_path: Path) -> None:
    path = state_path(tmp_path / "journal.jsonl", "kind-dev/admin@x")
    assert path.parent == tmp_path / "migrate" and "/" not in path.name[:-5]
    state = MigrationState("kind-dev", Scope.of([KS]), "verify",
                           (AppliedStep("Set mTLS PERMISSIVE", "abc", "2026-11-24T12:00:00Z", "kind: X\n"),),
                           (PortException(KS, "ms-inventory", 3001, "legacy/batch-reporter"),),
                           (Window("a", "b", ({"namespace": "legacy", "source": "logs"},),
                                   ({"pod": f"{KS}/ms-product-1", "reason": "forbidden"},)),),
                           "f00", ("Set mTLS STRICT",))
    save(state, path)
    assert load(path) == state
    # A file written before windows kept their unread pods still loads.
    older = state.to_data()
    del older["windows"][0]["unknown"]
    path.write_text(json.dumps(older))
    assert load(path).windows[0].unknown == ()
    path.write_text("{not json")
    assert load(path) is None
    assert load(tmp_path / "absent.json") is None


def test_fingerprint_ignores_other_namespaces_and_sees_mode_changes() -> None:
    backend = start_demo(7, clock=ManualClock())
    try:
        snap = backend.snapshot()
    finally:
        backend.discard()
    base = fingerprint(snap, [KS])
    other = mtls_plan(snap, MtlsScope.of_namespace("researchflow"), "STRICT").predicted
    mine = mtls_plan(snap, MtlsScope.of_namespace(KS), "STRICT").predicted
    assert fingerprint(other, [KS]) == base
    assert fingerprint(mine, [KS]) != base

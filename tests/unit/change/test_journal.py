from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meshtui.change.apply import ReadOnlyError, apply_plan
from meshtui.change.journal import Journal, JournalEntry, JournalObject, default_journal_path, undo_last
from meshtui.change.plan import MtlsScope, injection_plan, mtls_plan, restart_plan
from meshtui.model.objects import EPOCH, Workload
from meshtui.model.snapshot import Snapshot
from tests.kube_cluster import Cluster
from tests.objects import deployment, namespace, peer_auth

CTX = "kind-test"


@pytest.fixture
def b(cluster: Callable[..., Cluster]) -> Cluster:
    return cluster(
        [
            namespace("istio-system"),
            namespace("shop", **{"istio-injection": "enabled", "team": "a"}),
            deployment("shop", "web", {"app": "web"}),
            peer_auth("shop", "default", mode="PERMISSIVE"),
        ],
        context=CTX,
    )


def apply_and_record(b: Cluster, journal: Journal, plan) -> JournalEntry:
    result = apply_plan(b, plan, dry_run=False)
    assert result.ok
    entry = journal.record(b.context, plan.title, result)
    assert entry is not None
    return entry


def test_default_path_follows_xdg_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_journal_path() == tmp_path / "meshtui" / "journal.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_journal_path() == tmp_path / "home" / ".local" / "state" / "meshtui" / "journal.jsonl"


def test_round_trip_and_damaged_lines_are_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / "journal.jsonl")
    entry = JournalEntry(
        "1",
        "2026-11-24T12:00:00Z",
        CTX,
        "Set mTLS STRICT on namespace shop",
        (
            JournalObject(
                "PeerAuthentication", "shop", "default", "patch", {"spec": {}}, {"spec": {"x": 1}}, "9"
            ),
        ),
    )
    journal.append(entry)
    with journal.path.open("a") as fh:
        fh.write('{"id": "truncated\n\n')
    journal.append(JournalEntry("2", "2026-11-24T12:01:00Z", CTX, "t", (), undoes="1"))
    assert journal.entries() == [entry, JournalEntry("2", "2026-11-24T12:01:00Z", CTX, "t", (), undoes="1")]


def test_record_writes_objects_with_their_resource_versions_after_apply(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    plan = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    entry = journal.record(CTX, plan.title, apply_plan(b, plan, dry_run=False), now=now)
    (obj,) = entry.objects
    assert (entry.time, entry.context, obj.op, obj.before["spec"], obj.after["spec"]) == (
        "2026-11-24T12:00:00Z",
        CTX,
        "patch",
        {"mtls": {"mode": "PERMISSIVE"}},
        {"mtls": {"mode": "STRICT"}},
    )
    assert (
        obj.resource_version == b.get("PeerAuthentication", "shop", "default")["metadata"]["resourceVersion"]
    )
    assert journal.entries() == [entry]


def test_nothing_recorded_for_a_dry_run(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    plan = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    assert journal.record(CTX, plan.title, apply_plan(b, plan, dry_run=True)) is None
    assert journal.entries() == []


def comparable(snap: Snapshot) -> dict:
    """Policies and namespaces as the model sees them, minus what the server assigns anew on a
    re-create (resourceVersion, creationTimestamp)."""
    return {
        key: replace(obj, resource_version="", created=EPOCH)
        for name in ("namespaces", "peer_authentications")
        for key, obj in getattr(snap, name).items()
    }


PLANS = {
    "patch": lambda s: mtls_plan(s, MtlsScope.of_namespace("shop"), "STRICT"),
    "delete": lambda s: mtls_plan(s, MtlsScope.of_namespace("shop"), "UNSET"),
    "create": lambda s: mtls_plan(
        s, MtlsScope.of_port(s.workloads[("shop", "Deployment/web")], 8080), "STRICT"
    ),
    "label": lambda s: injection_plan(s, "shop", enabled=True, revision="canary"),
}


@pytest.mark.parametrize("kind", sorted(PLANS))
def test_undo_restores_the_before_state_exactly(b: Cluster, kind: str, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    original = b.snapshot()
    entry = apply_and_record(b, journal, PLANS[kind](original))
    assert b.snapshot() != original
    result = undo_last(b, journal, CTX)
    assert result.status == "undone", result.message
    restored = b.snapshot()
    assert comparable(restored) == comparable(original)
    assert result.undo_entry.undoes == entry.id
    assert [e.id for e in journal.entries()] == [entry.id, result.undo_entry.id]


def test_undo_takes_the_newest_change_not_yet_undone_in_this_context(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    first = apply_and_record(b, journal, PLANS["patch"](b.snapshot()))
    second = apply_and_record(b, journal, PLANS["label"](b.snapshot()))
    journal.append(JournalEntry("other", "t", "other-context", "elsewhere", ()))
    assert undo_last(b, journal, CTX).entry == second
    assert undo_last(b, journal, CTX).entry == first
    assert undo_last(b, journal, CTX).status == "nothing"


def test_undo_twice_on_the_same_object_walks_back_through_both_changes(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")

    def web() -> Workload:
        return b.snapshot().workloads[("shop", "Deployment/web")]

    apply_and_record(b, journal, mtls_plan(b.snapshot(), MtlsScope.of_workload(web()), "STRICT"))
    apply_and_record(b, journal, mtls_plan(b.snapshot(), MtlsScope.of_port(web(), 8080), "PERMISSIVE"))
    assert undo_last(b, journal, CTX).status == "undone"
    assert b.get("PeerAuthentication", "shop", "web-mtls")["spec"] == {
        "selector": {"matchLabels": {"app": "web"}}, "mtls": {"mode": "STRICT"}}
    assert undo_last(b, journal, CTX).status == "undone"
    assert b.get("PeerAuthentication", "shop", "web-mtls") is None


def test_undo_refuses_and_shows_the_difference_when_an_object_changed_since(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    apply_and_record(b, journal, PLANS["patch"](b.snapshot()))
    b.patch("PeerAuthentication", "shop", "default", {"spec": {"mtls": {"mode": "DISABLE"}}})
    result = undo_last(b, journal, CTX)
    assert result.status == "refused" and "PeerAuthentication shop/default" in result.message
    assert "-    mode: STRICT\n+    mode: DISABLE" in result.diff
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "DISABLE"}}
    assert len(journal.entries()) == 1


def test_undo_refuses_when_a_deleted_object_was_recreated(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    apply_and_record(b, journal, PLANS["delete"](b.snapshot()))
    b.create("PeerAuthentication", peer_auth("shop", "default", mode="DISABLE"))
    assert undo_last(b, journal, CTX).status == "refused"


def test_undo_dry_run_and_read_only_change_nothing(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    apply_and_record(b, journal, PLANS["patch"](b.snapshot()))
    with pytest.raises(ReadOnlyError):
        undo_last(b, journal, CTX, read_only=True)
    assert undo_last(b, journal, CTX, dry_run=True).status == "undone"
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "STRICT"}}
    assert len(journal.entries()) == 1


def test_a_restart_is_journaled_but_has_nothing_to_revert(b: Cluster, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    s = b.snapshot()
    apply_and_record(b, journal, restart_plan(s, list(s.workloads.values())))
    assert undo_last(b, journal, CTX).status == "nothing"

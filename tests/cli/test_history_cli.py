import argparse
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from meshtui.backend.base import ConnectionFailed
from meshtui.change.apply import apply_plan
from meshtui.change.journal import Journal
from meshtui.change.plan import MtlsScope, mtls_plan
from meshtui.cli.history import add_parsers, run_history, run_undo
from tests.kube_cluster import Cluster
from tests.objects import namespace, peer_auth

CTX = "kind-prod"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="meshtui")
    parser.add_argument("--read-only", action="store_true", default=None)
    add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture
def changed(cluster: Callable[..., Cluster], tmp_path: Path) -> tuple[Cluster, Journal]:
    b = cluster([namespace("shop"), peer_auth("shop", "default", mode="PERMISSIVE")], context=CTX)
    journal = Journal(tmp_path / "journal.jsonl")
    plan = mtls_plan(b.snapshot(), MtlsScope.of_namespace("shop"), "STRICT")
    journal.record(CTX, plan.title, apply_plan(b, plan, dry_run=False))
    return b, journal


def run(runner, argv: list[str], backend: Cluster) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = runner(parse(*argv), backend_factory=lambda args: backend, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_history_lists_changes_of_the_current_context(changed, cluster: Callable[..., Cluster]) -> None:
    b, journal = changed
    code, out, _ = run(run_history, ["history", "--journal", str(journal.path)], b)
    assert code == 0
    assert out.splitlines()[1:] == ["    patch    PeerAuthentication shop/default"]
    assert f"  {CTX}  Set mTLS STRICT on namespace shop" in out.splitlines()[0]
    other = cluster([], context="other")
    assert run(run_history, ["history", "--journal", str(journal.path)], other)[1] == (
        "no changes recorded in context other\n"
    )
    assert (
        "Set mTLS STRICT" in run(run_history, ["history", "--all", "--journal", str(journal.path)], other)[1]
    )


def test_history_diff_shows_the_objects_change(changed) -> None:
    b, journal = changed
    _, out, _ = run(run_history, ["history", "--diff", "--journal", str(journal.path)], b)
    assert "      -    mode: PERMISSIVE\n      +    mode: STRICT\n" in out


def test_undo_reverts_and_history_marks_it(changed) -> None:
    b, journal = changed
    code, out, _ = run(run_undo, ["undo", "--yes", "--journal", str(journal.path)], b)
    assert code == 0
    assert out.startswith("Undo: Set mTLS STRICT on namespace shop\n"
                          "  reverts 'Set mTLS STRICT on namespace shop', applied ")
    assert f"in context {CTX}\n  namespace(s): shop\n" in out and "-    mode: STRICT\n  +    mode: PERMISSIVE" in out
    assert out.endswith("undone: Set mTLS STRICT on namespace shop\n    patch    PeerAuthentication shop/default\n")
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert b.closed
    lines = run(run_history, ["history", "--journal", str(journal.path)], b)[1].splitlines()
    assert lines[0].endswith("[undone]") and lines[2].endswith(
        "Undo: Set mTLS STRICT on namespace shop  [undo]"
    )
    assert run(run_undo, ["undo", "--yes", "--journal", str(journal.path)], b)[:2] == (
        1,
        f"meshtui undo: nothing to undo in context {CTX}\n",
    )


def test_undo_dry_run_changes_nothing(changed) -> None:
    b, journal = changed
    assert run(run_undo, ["undo", "--dry-run", "--journal", str(journal.path)], b)[0] == 0
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "STRICT"}}
    assert len(journal.entries()) == 1


def test_undo_refuses_with_the_difference_when_changed_since(changed) -> None:
    b, journal = changed
    b.patch("PeerAuthentication", "shop", "default", {"spec": {"mtls": {"mode": "DISABLE"}}})
    code, out, err = run(run_undo, ["undo", "--journal", str(journal.path)], b)
    assert code == 1 and "changed since" in err
    assert "-    mode: STRICT\n+    mode: DISABLE\n" in out


@pytest.mark.parametrize("argv", [["--read-only", "undo"], ["undo"]])
def test_undo_errors_are_one_line_and_exit_2(changed, argv: list[str]) -> None:
    b, journal = changed

    def failing(args: argparse.Namespace) -> Cluster:
        if not args.read_only:
            raise ConnectionFailed("cannot reach https://127.0.0.1:6443: connection refused")
        return b

    out, err = io.StringIO(), io.StringIO()
    code = run_undo(parse(*argv, "--journal", str(journal.path)), backend_factory=failing, out=out, err=err)
    assert code == 2 and out.getvalue() == "" and len(err.getvalue().splitlines()) == 1
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "STRICT"}}


def test_options_given_before_the_sub_command_are_kept() -> None:
    parser = argparse.ArgumentParser(prog="meshtui")
    parser.add_argument("--context")
    add_parsers(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["--context", "a", "history"]).context == "a"
    assert parser.parse_args(["history", "--context", "b"]).context == "b"


class Answer(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "undone"), [("y\n", True), ("\n", False), ("no\n", False)])
def test_undo_asks_before_applying(changed, answer: str, undone: bool) -> None:
    b, journal = changed
    out, err = io.StringIO(), io.StringIO()
    code = run_undo(parse("undo", "--journal", str(journal.path)), backend_factory=lambda args: b, out=out,
                    err=err, inp=Answer(answer))
    mode = b.get("PeerAuthentication", "shop", "default")["spec"]["mtls"]["mode"]
    assert "Apply this undo? [y/N] " in out.getvalue()
    assert (code, mode) == ((0, "PERMISSIVE") if undone else (1, "STRICT"))


def test_undo_without_a_terminal_needs_yes(changed) -> None:
    b, journal = changed
    code, out, err = run(run_undo, ["undo", "--journal", str(journal.path)], b)
    assert code == 1 and err == "meshtui undo: not confirmed; answer in a terminal, or pass --yes\n"
    assert out.startswith("Undo: ") and out.endswith("cancelled: nothing changed\n")
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "STRICT"}}


def test_a_restart_never_blocks_undoing_the_change_before_it(changed) -> None:
    b, journal = changed
    from meshtui.change.journal import JournalEntry, JournalObject

    restart = JournalObject("Deployment", "shop", "cart", "restart", None, None, "9")
    journal.append(JournalEntry("r1", "2026-11-24T12:05:00Z", CTX, "Restart shop/cart", (restart,)))
    code, out, _ = run(run_undo, ["undo", "--yes", "--journal", str(journal.path)], b)
    assert code == 0 and out.startswith("Undo: Set mTLS STRICT on namespace shop\n")
    assert "not reverted (restarts cannot be): Restart shop/cart" in out
    assert b.get("PeerAuthentication", "shop", "default")["spec"] == {"mtls": {"mode": "PERMISSIVE"}}

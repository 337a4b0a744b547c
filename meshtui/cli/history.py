"""`meshtui history` and `meshtui undo`: the change journal from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

from meshtui.backend.base import Backend, BackendError
from meshtui.change.apply import ReadOnlyError
from meshtui.change.diff import plan_diff, yaml_diff
from meshtui.change.journal import Journal, JournalEntry, UndoResult, apply_undo, plan_undo
from meshtui.config import ConfigError
from meshtui.model.snapshot import Snapshot
from meshtui.text import safe_line, safe_text

EXIT_OK = 0
EXIT_NOT_DONE = 1
EXIT_ERROR = 2

BackendFactory = Callable[[argparse.Namespace], Backend]

JOURNAL_HELP = "journal file (default: $XDG_STATE_HOME/meshtui/journal.jsonl)"
UNDO_DESCRIPTION = """\
Revert the last change meshtui applied in the current kube context, exactly: deleted objects and
namespace labels come back, created ones are removed, patched ones get their previous content.
The undo is previewed first (what it reverts, the context and namespaces, the diff) and applied
only when confirmed (or with --yes). A restart cannot be reverted: the change before it is offered.
If any of those objects changed since (its resourceVersion moved), nothing is touched and the
difference is printed instead.

Exit status: 0 undone, 1 nothing to undo, refused or not confirmed, 2 error.
With --demo the simulated cluster starts fresh in every process, so undo from the command line is
mainly meaningful on real clusters; inside the app, u undoes within the running demo.
"""


def _add_common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: values given before the sub-command (meshtui --context x history) are kept.
    parser.add_argument("--kubeconfig", metavar="PATH", default=argparse.SUPPRESS, help="kubeconfig file")
    parser.add_argument("--context", metavar="NAME", default=argparse.SUPPRESS,
                        help="kube context (default: the current context)")
    parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="the simulated mesh (context 'demo')")
    parser.add_argument("--journal", metavar="PATH", type=Path, help=JOURNAL_HELP)


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    history = subparsers.add_parser("history", help="list changes meshtui applied",
                                    description="List the changes meshtui applied, newest last.")
    _add_common(history)
    history.add_argument("--all", action="store_true", dest="all_contexts",
                         help="changes in every context, not only the current one")
    history.add_argument("--diff", action="store_true", help="show each object's YAML diff")
    undo = subparsers.add_parser("undo", help="revert the last change meshtui applied",
                                 description=UNDO_DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(undo)
    undo.add_argument("--dry-run", action="store_true",
                      help="check with the server that the undo would go through; change nothing")
    undo.add_argument("--yes", "-y", action="store_true",
                      help="apply without asking (the preview is still printed)")


def _journal(args: argparse.Namespace) -> Journal:
    return Journal(getattr(args, "journal", None))


def _status(entry: JournalEntry, undone: set[str]) -> str:
    if entry.undoes:
        return "undo"
    return "undone" if entry.id in undone else ""


def _print_entry(entry: JournalEntry, status: str, show_diff: bool, out: TextIO) -> None:
    mark = f"  [{status}]" if status else ""
    out.write(safe_line(f"{entry.time}  {entry.context}  {entry.title}{mark}") + "\n")
    for obj in entry.objects:
        out.write(safe_line(f"    {obj.op:<8} {obj.label}") + "\n")
        if show_diff and obj.op != "restart":
            for line in yaml_diff(obj.before, obj.after, label=obj.label).splitlines():
                out.write(f"      {safe_line(line)}\n")


def _context(args: argparse.Namespace, backend_factory: BackendFactory) -> str:
    backend = backend_factory(args)
    try:
        return backend.context
    finally:
        backend.close()


def run_history(args: argparse.Namespace, *, backend_factory: BackendFactory,
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        context = None if args.all_contexts else _context(args, backend_factory)
    except (BackendError, ConfigError) as exc:
        err.write(f"meshtui history: {exc}\n")
        return EXIT_ERROR
    journal = _journal(args)
    entries = journal.entries()
    for warning in journal.warnings:
        err.write(f"meshtui history: {safe_line(warning)}\n")
    undone = {e.undoes for e in entries if e.undoes}
    shown = [e for e in entries if context is None or e.context == context]
    if not shown:
        where = "" if context is None else f" in context {context}"
        out.write(f"no changes recorded{where}\n")
        return EXIT_OK
    for entry in shown:
        _print_entry(entry, _status(entry, undone), args.diff, out)
    return EXIT_OK


def _print_preview(result: UndoResult, out: TextIO) -> None:
    plan = result.plan
    assert plan is not None
    out.write(safe_line(plan.title) + "\n")
    for note in plan.notes:
        out.write(f"  {safe_line(note)}\n")
    for line in plan_diff(plan).splitlines():
        out.write(f"  {safe_line(line)}\n")


def _confirmed(args: argparse.Namespace, inp: TextIO, out: TextIO, err: TextIO) -> bool:
    if getattr(args, "yes", False):
        return True
    if not inp.isatty():
        err.write("meshtui undo: not confirmed; answer in a terminal, or pass --yes\n")
        return False
    out.write("Apply this undo? [y/N] ")
    out.flush()
    return inp.readline().strip().lower() in ("y", "yes")


def run_undo(args: argparse.Namespace, *, backend_factory: BackendFactory,
             out: TextIO = sys.stdout, err: TextIO = sys.stderr, inp: TextIO = sys.stdin) -> int:
    """Preview the undo (what, where, the diff), ask for confirmation, then apply it."""
    backend: Backend | None = None
    try:
        backend = backend_factory(args)
        backend.connect()
        journal = _journal(args)
        result = plan_undo(backend, journal, backend.context, Snapshot(),
                           read_only=bool(getattr(args, "read_only", False)))
        for warning in journal.warnings:
            err.write(f"meshtui undo: {safe_line(warning)}\n")
        if result.status == "planned":
            _print_preview(result, out)
            if not args.dry_run and not _confirmed(args, inp, out, err):
                out.write("cancelled: nothing changed\n")
                return EXIT_NOT_DONE
            result = apply_undo(backend, journal, backend.context, result, dry_run=args.dry_run)
    except (BackendError, ConfigError, ReadOnlyError) as exc:
        err.write(f"meshtui undo: {safe_line(exc)}\n")
        return EXIT_ERROR
    finally:
        if backend is not None:
            backend.close()
    if result.status == "undone":
        out.write(f"{safe_line(result.message)}\n")
        for outcome in result.apply.outcomes if result.apply else ():
            out.write(safe_line(f"    {outcome.change.op:<8} {outcome.change.label}") + "\n")
        return EXIT_OK
    (out if result.status == "nothing" else err).write(f"meshtui undo: {safe_line(result.message)}\n")
    if result.diff:
        out.write(safe_text(result.diff))
    if result.apply is not None and result.apply.rolled_back:
        err.write(f"rolled back: {safe_line(', '.join(result.apply.rolled_back))}\n")
    return EXIT_NOT_DONE

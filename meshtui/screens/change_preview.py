"""The preview: what a change does, checked by the server, before one key applies it.

On mount a thread worker sends every object with dryRun so the server's validation (422 messages,
RBAC, webhooks) shows up here; confirm is only enabled once that passed. Escape dismisses with None
and nothing is sent. The real apply also runs in a worker; the screen dismisses with its result.

When the change moves pods from PERMISSIVE to STRICT that no recent TLS check covered, a quick TLS
check of just those pods runs beside the dry run, and the impact is predicted again with the plaintext
callers it saw — labelled as what was observed in its window, not as certainty. It does not hold up
confirm (it only reads), and it stops when the preview closes.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable, ClassVar, Sequence

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from meshtui.backend.base import Backend
from meshtui.change.apply import ApplyResult, ReadOnlyError, apply_plan
from meshtui.change.diff import plan_diff
from meshtui.change.impact_view import impact_lines, plan_impact
from meshtui.change.journal import Journal
from meshtui.change.plan import ChangePlan
from meshtui.policy.impact import Impact, Observed
from meshtui.text import safe_line, safe_text
from meshtui.tls.check import Progress, Scope, run_check
from meshtui.tls.observed import observed_callers, quick_check_note, unchecked_strict_pods

CONFIRM_WORD = "STRICT"
# Shorter than a TLS check's default: the preview is waiting; the note states the window.
QUICK_WINDOW_S = 5.0


class PreviewScreen(ModalScreen[ApplyResult | None]):
    DEFAULT_CSS = """
    PreviewScreen { align: center middle; }
    PreviewScreen > Vertical { width: 95%; height: 95%; border: round $accent; padding: 0 1;
                                background: $surface; }
    PreviewScreen #impact-box { height: auto; max-height: 40%; }
    PreviewScreen #diff { height: 1fr; border: solid $panel; }
    PreviewScreen #impact, PreviewScreen #dry-run, PreviewScreen #notes { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # enter only: y means YAML everywhere else, so a stray y must never apply a change.
        Binding("enter", "confirm", "Apply", id="change.confirm"),
        Binding("escape", "cancel", "Cancel", id="change.cancel"),
    ]

    class DryRunFinished(Message):
        def __init__(self, result: ApplyResult) -> None:
            super().__init__()
            self.result = result

    class ApplyFinished(Message):
        def __init__(self, result: ApplyResult) -> None:
            super().__init__()
            self.result = result

    class ImpactReady(Message):
        def __init__(self, lines: list[str], *, evidence: str | None = None,
                     unchecked: frozenset[tuple[str, str]] = frozenset()) -> None:
            """``evidence``: the new note on where observed callers come from (None: unchanged);
            ``unchecked``: pods going STRICT that still need a quick TLS check."""
            super().__init__()
            self.lines = lines
            self.evidence = evidence
            self.unchecked = unchecked

    class QuickCheckProgress(Message):
        def __init__(self, progress: Progress) -> None:
            super().__init__()
            self.progress = progress

    def __init__(self, plan: ChangePlan, backend: Backend, *, observed: Sequence[Observed] = (),
                 journal: Journal | None = None, read_only: bool = False, evidence: str = "",
                 checked: frozenset[tuple[str, str]] = frozenset(),
                 now: Callable[[], datetime] | None = None) -> None:
        """``observed``: plaintext calls seen in the traffic, for the impact prediction; ``evidence``
        says where they come from (source, window, age); ``checked``: the pods the recent TLS check
        behind them covered (the others get a quick check); ``now``: the app's clock, for its window."""
        super().__init__()
        self._evidence = evidence
        self._checked = checked
        self._now = now
        self._quick_cancel = threading.Event()
        self.quick_check_started = False
        self.quick_check_done = False
        self._before_quick_check = ""  # the evidence note before the quick check's
        self.plan = plan
        self._backend = backend
        self._observed = tuple(observed)
        self.impact: list[str] | None = None
        self._journal = journal
        self._read_only = read_only
        self.dry_run: ApplyResult | None = None
        self._applying = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(safe_line(self.plan.title)), id="title")
            if self.plan.notes:
                yield Static(Text(safe_text("\n".join(f"note: {n}" for n in self.plan.notes))), id="notes")
            yield Static(Text(safe_text(self._dry_run_text())), id="dry-run")
            with VerticalScroll(id="impact-box"):
                yield Static(Text(safe_text(self._impact_text())), id="impact")
            with VerticalScroll(id="diff"):
                diff = plan_diff(self.plan) or "nothing to change: the cluster is already in this state"
                yield Static(Syntax(safe_text(diff), "diff", word_wrap=True), id="diff-body")
            if self.plan.needs_typed_confirmation:
                yield Label(f"Mesh-wide {CONFIRM_WORD}: every plaintext caller in the mesh will be refused. "
                            f"Type {CONFIRM_WORD} to enable confirm.")
                yield Input(placeholder=CONFIRM_WORD, id="confirm-word")
            yield Footer()

    def on_mount(self) -> None:
        if self.plan.needs_typed_confirmation:
            self.query_one("#confirm-word", Input).focus()
        self._check()

    def _impact_text(self) -> str:
        if self.impact is None:
            return "Predicted impact: computing…"
        lines = "\n".join(f"• {line}" for line in self.impact) or "• no change in effective mTLS"
        source = f"\n  ({self._evidence})" if self._evidence else ""
        return f"Predicted impact{source}\n{lines}"

    def _dry_run_text(self) -> str:
        if self.plan.empty:
            return "Server dry run: nothing to send"
        if self.dry_run is None:
            return "Server dry run: running…"
        if self.dry_run.ok:
            return f"Server dry run: accepted ({len(self.dry_run.outcomes)} object(s))"
        lines = [f"  {o.change.label}: {o.error}" for o in self.dry_run.outcomes if not o.ok]
        hint = "\n  re-read the cluster and try again" if self.dry_run.conflict else ""
        return "Server dry run: REJECTED\n" + "\n".join(lines or [f"  {self.dry_run.error}"]) + hint

    def _predict(self, observed: Sequence[Observed]) -> tuple[Impact | None, list[str]]:
        try:
            result = plan_impact(self.plan, observed)
            return result, impact_lines(result)
        except Exception as exc:
            # A bug in the prediction must not cost the user the dry run (a worker error ends the app).
            return None, [f"prediction unavailable: {type(exc).__name__}: {exc}"]

    @work(thread=True, exclusive=True, group="change-preview")
    def _check(self) -> None:
        """Impact first (pure, from the snapshots), then the server's dry run."""
        impact, lines = self._predict(self._observed)
        unchecked = unchecked_strict_pods(impact, self._checked) if impact is not None else frozenset()
        self.post_message(self.ImpactReady(lines, unchecked=unchecked))
        if self.plan.empty:
            return
        try:
            result = apply_plan(self._backend, self.plan, dry_run=True, read_only=self._read_only)
        except ReadOnlyError as exc:
            result = ApplyResult(dry_run=True, error=str(exc))
        self.post_message(self.DryRunFinished(result))

    @work(thread=True, exclusive=True, group="change-preview")
    def _run_apply(self) -> None:
        try:
            result = apply_plan(self._backend, self.plan, dry_run=False, read_only=self._read_only)
        except ReadOnlyError as exc:
            result = ApplyResult(dry_run=False, error=str(exc))
        if self._journal is not None:
            self._journal.record(self._backend.context, self.plan.title, result, undoes=self.plan.undoes)
        self.post_message(self.ApplyFinished(result))

    @work(thread=True, group="change-preview-tls", exit_on_error=False)
    def _quick_check(self, pods: frozenset[tuple[str, str]]) -> None:
        """A TLS check of ``pods`` only, then the impact again with the plaintext callers it saw."""
        phases: set[str] = set()

        def progress(p: Progress) -> None:
            # Per phase, not per pod: a mesh-wide change would otherwise re-render the preview per pod.
            if p.phase not in phases:
                phases.add(p.phase)
                self.post_message(self.QuickCheckProgress(p))

        report = run_check(self._backend, self.plan.before, Scope("pods", keys=pods), window_s=QUICK_WINDOW_S,
                           cancel=self._quick_cancel, now=self._now, progress=progress)
        if report.cancelled:
            return
        _, lines = self._predict([*self._observed, *observed_callers(report, self.plan.before)])
        note, before = quick_check_note(report), self._before_quick_check
        self.post_message(self.ImpactReady(lines, evidence=f"{before}; {note}" if before else note))

    def on_preview_screen_impact_ready(self, message: ImpactReady) -> None:
        self.impact = message.lines
        if message.evidence is not None:
            self._evidence = message.evidence
            self.quick_check_done = True
        if message.unchecked and not self.quick_check_started:
            self.quick_check_started = True
            self._before_quick_check = self._evidence
            self._quick_check(message.unchecked)
            self._show_quick_progress(Progress(0, len(message.unchecked), "starting", {}))
        self.query_one("#impact", Static).update(Text(safe_text(self._impact_text())))

    def _show_quick_progress(self, p: Progress) -> None:
        running = (f"quick TLS check of the {p.total} pod{'s' if p.total != 1 else ''} this change makes STRICT: "
                   f"running, {p.phase}…")
        before = self._before_quick_check
        self._evidence = f"{before}; {running}" if before else running
        self.query_one("#impact", Static).update(Text(safe_text(self._impact_text())))

    def on_preview_screen_quick_check_progress(self, message: QuickCheckProgress) -> None:
        if not self.quick_check_done:  # a progress message may trail the result
            self._show_quick_progress(message.progress)

    def on_unmount(self) -> None:
        self._quick_cancel.set()

    def on_preview_screen_dry_run_finished(self, message: DryRunFinished) -> None:
        self.dry_run = message.result
        self.query_one("#dry-run", Static).update(Text(safe_text(self._dry_run_text())))
        self.refresh_bindings()

    def on_preview_screen_apply_finished(self, message: ApplyFinished) -> None:
        self.dismiss(message.result)

    @on(Input.Changed, "#confirm-word")
    def _word_changed(self) -> None:
        self.refresh_bindings()

    @on(Input.Submitted, "#confirm-word")
    def _word_submitted(self) -> None:
        self.action_confirm()

    def _word_ok(self) -> bool:
        if not self.plan.needs_typed_confirmation:
            return True
        return self.query_one("#confirm-word", Input).value.strip() == CONFIRM_WORD

    @property
    def can_confirm(self) -> bool:
        return (not self._read_only and not self._applying and self.dry_run is not None and self.dry_run.ok
                and not self.plan.empty and self._word_ok())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            # None shows the key dimmed: confirm exists but is not possible yet.
            return True if self.can_confirm else (False if self._read_only else None)
        return True

    def action_confirm(self) -> None:
        if not self.can_confirm:
            return
        self._applying = True
        self.query_one("#dry-run", Static).update("Applying…")
        self.refresh_bindings()
        self._run_apply()

    def action_cancel(self) -> None:
        if not self._applying:
            self.dismiss(None)

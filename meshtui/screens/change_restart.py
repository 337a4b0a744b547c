"""After an injection change: the workloads whose pods lack (or would lose) a sidecar, a restart
offer, and live progress until their pods are ready with the expected containers, or a timeout
that names what blocks them.

The app forwards every fresh snapshot through :meth:`RestartScreen.update_cluster`; the
restart itself runs in a thread worker.
"""

from __future__ import annotations

import time
from typing import Callable, ClassVar, Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from meshtui.backend.base import Backend
from meshtui.change.apply import ApplyResult, ReadOnlyError, apply_plan
from meshtui.change.journal import Journal
from meshtui.change.plan import restart_plan
from meshtui.change.rollout import RolloutState, rollout_state
from meshtui.model.objects import Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import MeshReport
from meshtui.screens.change import result_notice
from meshtui.text import safe_text

DEFAULT_TIMEOUT = 300.0


class RestartScreen(ModalScreen[bool | None]):
    """Dismisses with True when every workload finished, False on timeout or failure, None if the
    user left without restarting."""

    DEFAULT_CSS = """
    RestartScreen { align: center middle; }
    RestartScreen > Vertical { width: 100; height: auto; max-height: 90%; border: round $accent;
                                padding: 0 1; background: $surface; }
    RestartScreen #rows { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter", "restart", "Restart all", id="change.restart"),
        Binding("escape", "close", "Close", id="change.close"),
    ]

    class RestartIssued(Message):
        def __init__(self, result: ApplyResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, backend: Backend, snapshot: Snapshot, workloads: Sequence[Workload], *,
                 want_sidecar: bool, timeout: float = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic, journal: Journal | None = None,
                 read_only: bool = False) -> None:
        super().__init__()
        self._backend = backend
        self._snapshot = snapshot
        self._workloads = tuple(workloads)
        self._want = want_sidecar
        self._timeout = timeout
        self._clock = clock
        self._journal = journal
        self._read_only = read_only
        self._started: float | None = None
        self._shown = False  # widgets exist: update_cluster() may come before the mount
        self.phase = "offer"  # offer → restarting → done / timed-out / failed
        self.status_text = ""

    @property
    def states(self) -> list[RolloutState]:
        return [rollout_state(self._snapshot, w, want_sidecar=self._want) for w in self._workloads]

    def compose(self) -> ComposeResult:
        what = "lack a sidecar" if self._want else "still run a sidecar"
        with Vertical():
            yield Label(f"{len(self._workloads)} workload(s) whose pods {what}", id="title")
            yield Static(id="rows")
            yield Static(id="status")
            yield Footer()

    def on_mount(self) -> None:
        self._shown = True
        self._show()
        self.set_interval(1.0, self._tick)

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        self._snapshot = snapshot
        if self.phase == "restarting" and all(s.done for s in self.states):
            self.phase = "done"
            self.status_text = "All restarted workloads are ready with the expected containers"
        self._show()

    def _tick(self) -> None:
        if self.phase != "restarting" or self._started is None:
            return
        if self._clock() - self._started > self._timeout:
            self.phase = "timed-out"
            blocked = [f"{s.workload.name}: {s.reason or 'not ready yet'}" for s in self.states if not s.done]
            self.status_text = f"Timed out after {self._timeout:.0f}s: " + "; ".join(blocked)
            self._show()

    def _row(self, state: RolloutState) -> str:
        w = state.workload
        if self.phase == "offer":
            return f"  {w.kind:<11} {w.name:<32} {state.desired} replica(s)"
        mark = "✓" if state.done else ("✗" if state.stuck or self.phase == "timed-out" else "…")
        reason = f"  {state.reason}" if state.reason and not state.done else ""
        return f"{mark} {w.kind:<11} {w.name:<32} {state.good}/{state.desired} ready{reason}"

    def _show(self) -> None:
        if not self._shown:
            return
        self.query_one("#rows", Static).update(Text(safe_text("\n".join(self._row(s) for s in self.states))))
        status = {
            "offer": "Press r to restart them (rollout restart), Escape to leave them as they are",
            "restarting": "Restarting… waiting for pods to be ready",
        }.get(self.phase, self.status_text)
        self.query_one("#status", Static).update(status)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restart":
            return self.phase == "offer" and not self._read_only and bool(self._workloads)
        return True

    def action_restart(self) -> None:
        if not self.check_action("restart", ()):
            return
        self.phase = "restarting"
        self._started = self._clock()
        self._show()
        self._issue_restart()

    @work(thread=True, exclusive=True, group="change-restart")
    def _issue_restart(self) -> None:
        plan = restart_plan(self._snapshot, self._workloads)
        try:
            result = apply_plan(self._backend, plan, dry_run=False, read_only=self._read_only)
        except ReadOnlyError as exc:
            result = ApplyResult(dry_run=False, error=str(exc))
        if self._journal is not None:
            self._journal.record(self._backend.context, plan.title, result)
        self.post_message(self.RestartIssued(result))

    def on_restart_screen_restart_issued(self, message: RestartIssued) -> None:
        if not message.result.ok:
            self.phase = "failed"
            self.status_text = result_notice(message.result).message
        self.update_cluster(self._snapshot, None)

    def action_close(self) -> None:
        outcome = {"offer": None, "done": True}.get(self.phase, False)
        self.dismiss(outcome)

"""The migration wizard (`M`): Preflight → Observe → Plan → Apply → Verify → Done.

The screen only orchestrates: findings and steps come from the pure :mod:`meshtui.migrate`
modules, changes go through the existing preview / apply / journal / undo, restarts through the
restart screen with its rollout progress. Backend reads (the TLS check of each observe window,
verify's metrics and proxy logs, undo) run in thread workers whose results come back with
``call_from_thread``. Time is the app's clock, so the windows follow the simulated clock in tests
and the demo.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from meshtui.backend.base import Backend, BackendError, LogOptions
from meshtui.change.apply import ReadOnlyError
from meshtui.change.journal import UndoResult, undo_last
from meshtui.change.plan import ChangePlan, PlanError, injection_plan
from meshtui.migrate.export import objects_yaml
from meshtui.migrate.observe import Observation, PlaintextCaller, UnreadPod, observe
from meshtui.migrate.plan import Step, build_steps, find_workload
from meshtui.migrate.preflight import Action, Issue, Preflight, preflight, sidecar_action
from meshtui.migrate.scope import PortException, Scope
from meshtui.migrate.state import (
    STAGES,
    AppliedStep,
    MigrationState,
    Verifying,
    Window,
    fingerprint,
    load,
    save,
    state_path,
)
from meshtui.migrate.verify import PodKey, VerifyFailure, changed_ports, failures, metric_failures
from meshtui.model.convert import format_time, parse_time
from meshtui.model.objects import Pod, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import MeshReport
from meshtui.screens.base import MeshScreen
from meshtui.screens.change_flow import preview
from meshtui.tls.check import Progress, TlsSource
from meshtui.tls.metrics import Series, parse_stats
from meshtui.widgets.resource_table import ResourceTable, Row

TICK = 0.1  # real seconds between checks of the app clock for window ends
SYNC_TIMEOUT = 5.0  # real seconds to wait for the watch to show an applied step
Stats = dict[PodKey, tuple[Series, ...]]


def read_stats(backend: TlsSource, pods: list[Pod]) -> tuple[Stats, list[str]]:
    """Each pod's sidecar metrics, parsed as the TLS check parses them, and what could not be read."""
    stats: Stats = {}
    errors = []
    for pod in pods:
        try:
            stats[pod.key] = tuple(parse_stats(backend.proxy_stats(pod.namespace, pod.name)))
        except BackendError as exc:
            errors.append(f"metrics of {pod.name}: {exc}")
    return stats, errors


def _callers_from(state: MigrationState) -> list[PlaintextCaller]:
    """Every caller any saved window saw (a caller seen once is real), latest rate kept."""
    seen: dict[tuple[str, str, str], PlaintextCaller] = {}
    for window in state.windows:
        for c in window.callers:
            ns, _, rest = str(c["target"]).partition("/")
            workload, _, port = rest.rpartition(":")
            caller = PlaintextCaller(str(c["namespace"]), str(c["workload"]), ns, workload,
                                     int(port) if port.isdigit() else 0, float(c.get("rate_per_s") or 0),
                                     str(c.get("source") or "metrics"))
            seen[(caller.client, caller.target, "")] = caller
    return sorted(seen.values())


def reproduce(state: MigrationState) -> str:
    """The command and the YAML that make the same migration elsewhere (another cluster, Git)."""
    scope = "--mesh" if state.scope.mesh else " ".join(f"-n {ns}" for ns in state.scope.namespaces)
    keep = "".join(f" --exception {e.label}" for e in state.exceptions)
    docs = [f"# {a.title}\n{a.yaml}" for a in state.applied if a.yaml]
    return (f"# reproduce: meshtui migrate {scope}{keep} --export DIR   (then kubectl apply -f each file, in order)\n"
            + ("---\n".join(docs) or "# nothing was applied"))


class MigrateScreen(MeshScreen[None]):
    DEFAULT_CSS = """
    MigrateScreen #stepper { height: 1; padding: 0 1; }
    MigrateScreen #summary { height: auto; padding: 0 1; }
    MigrateScreen #rows { height: 1fr; }
    MigrateScreen #detail-box { height: auto; max-height: 50%; border-top: solid $panel; }
    MigrateScreen #detail { height: auto; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next stage", id="migrate.next"),
        Binding("f", "fix", "Fix", id="migrate.fix"),
        Binding("x", "exception", "Keep port PERMISSIVE", id="migrate.exception"),
        Binding("b", "rollback", "Roll back step", id="migrate.rollback"),
        Binding("exclamation_mark", "force", "Go on despite blockers", show=False, id="migrate.force"),
        Binding("D", "discard", "Discard migration", show=False, id="migrate.discard"),
        Binding("escape", "close", "Close (resumable)", id="migrate.close"),
    ]

    def __init__(self, backend: Backend, scope: Scope | None) -> None:
        super().__init__()
        self._backend = backend
        self._requested = scope
        self.state: MigrationState | None = None
        self.report: Preflight | None = None
        # What each table row stands for (Issue, PlaintextCaller, Step, VerifyFailure, ...), by row key.
        self.rows: dict[str, Any] = {}
        self._pending: list[Row] = []
        self.message = ""
        self.verify_failures: list[VerifyFailure] = []
        self._forced = False
        # When the running observe window began (its first sample read), None while it is not waiting.
        self._window: datetime | None = None
        self._observing = False
        # When the running check began; the next one starts a window later at the earliest, even when
        # this one could read no pod and returned at once.
        self._check_started: datetime | None = None
        self._cancel = threading.Event()
        # End of the last window that saw an unexcused plaintext caller or could not read a pod:
        # quiet is counted from there, as an unread pod may hide a caller.
        self._last_seen: datetime | None = None
        self._verify_polled: datetime | None = None
        # The metrics sample taken as the verify window began: when, and the counters of the pods read.
        self._verify_before: tuple[datetime, Stats] | None = None
        self._busy = False
        # Set after a step is applied until the watch shows it: planning the next step against a
        # snapshot without it would propose the same step again.
        self._awaiting: str | None = None
        self._shown_second = -1

    # -- set-up --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="stepper")
        yield Static(id="summary")
        yield ResourceTable(["", "WHAT", "DETAIL"], id="rows")
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail")
        yield Footer()

    @property
    def settings(self) -> Any:
        return self.app.settings

    @property
    def _path(self) -> Path:
        return state_path(self.app.journal.path, self._backend.context)

    def on_mount(self) -> None:
        saved = load(self._path)
        snap = self.app.snapshot
        if saved is not None and saved.stage != "done":
            self.state = saved
            self.notify(f"Resuming the migration of {saved.scope.describe()} ({saved.stage})", timeout=6)
            if snap is not None and saved.fingerprint and fingerprint(snap, saved.scope.members(snap)) \
                    != saved.fingerprint:
                self.notify("PeerAuthentications in scope were changed by someone else since: the plan is "
                            "made again from the cluster's current state", severity="warning", timeout=10)
                self.state = replace(saved, fingerprint=fingerprint(snap, saved.scope.members(snap)),
                                     verifying=None,
                                     stage="plan" if saved.stage in ("apply", "verify") else saved.stage)
        elif self._requested is not None:
            members = self._requested.members(snap) if snap else []
            self.state = MigrationState(self._backend.context, self._requested,
                                        fingerprint=fingerprint(snap, members) if snap else "")
        else:
            self.notify("select a namespace (or the root namespace for the mesh) first", severity="warning")
            self.app.pop_screen()
            return
        self._save()
        self.set_interval(TICK, self._tick)
        self._enter(self.state.stage)

    # -- state ---------------------------------------------------------------------------------
    @property
    def stage(self) -> str:
        return self.state.stage if self.state else "preflight"

    def _save(self) -> None:
        if self.state is None:
            return
        try:
            save(self.state, self._path)
        except OSError as exc:
            # The migration goes on; only resuming it after a restart is lost.
            self.message = f"cannot save the migration state ({exc.strerror or exc}): it will not resume"

    def _set_stage(self, stage: str) -> None:
        assert self.state is not None
        self.state = replace(self.state, stage=stage)
        self._save()
        self._enter(stage)

    def _enter(self, stage: str) -> None:
        self.message = ""
        if stage == "observe":
            self._window = self._check_started = None
            self._last_seen = self.app.now()
        else:
            self._cancel.set()  # an observe window still running ends at its next step
        self._recompute()

    def _members(self, snap: Snapshot) -> list[str]:
        assert self.state is not None
        return self.state.scope.members(snap)

    def _recompute(self) -> None:
        snap = self.app.snapshot
        if self.state is None or snap is None:
            return
        state, app = self.state, self.app
        self._show()

        def work() -> None:
            # On a large mesh planning takes a while: off the UI thread, the newest request wins.
            callers = _callers_from(state)
            try:
                report: Preflight | None = preflight(snap, state.scope, state.exceptions, callers)
                problem = ""
            except PlanError as exc:
                report, problem = None, f"cannot plan: {exc}"
            if not get_current_worker().is_cancelled:
                app.call_from_thread(self._planned, report, problem)

        self.run_worker(work, thread=True, exclusive=True, group="migrate-plan", exit_on_error=False)

    def _planned(self, report: Preflight | None, problem: str) -> None:
        self.report = report
        if problem:
            self.message = problem
        self._show()

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        if self.state is None:
            return
        if self._awaiting is not None and fingerprint(snapshot, self._members(snapshot)) == self._awaiting:
            self._awaiting = None
        self._recompute()

    def _synced(self) -> bool:
        return self._awaiting is None

    # -- rendering -----------------------------------------------------------------------------
    def _stepper(self) -> Text:
        text = Text()
        current = STAGES.index(self.stage)
        for i, name in enumerate(STAGES):
            label = f" {name.capitalize()} "
            if i == current:
                text.append(label, style="reverse bold")
            elif i < current:
                text.append(f"✓{label}", style="green")
            else:
                text.append(label, style="dim")
            if i < len(STAGES) - 1:
                text.append(" › ", style="dim")
        return text

    def _show(self) -> None:
        if self.state is None:
            return
        self.query_one("#stepper", Static).update(self._stepper())
        self.rows, self._pending = {}, []
        summary: str = getattr(self, f"_render_{self.stage}")()
        # sync keeps the cursor on the same finding or step while the list changes under it.
        self.query_one("#rows", ResourceTable).sync(self._pending)
        self.query_one("#summary", Static).update(Text(f"{self.state.scope.describe()} — {summary}"))
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        # The last message (what could not be read, a refusal) and the highlighted row's detail: both matter.
        self.query_one("#detail", Static).update(Text("\n".join(t for t in (self.message, self._detail()) if t)))

    def _add(self, key: str, item: Any, mark: str, what: str, detail: str) -> None:
        # Names come from the cluster: Text keeps them from being read as markup.
        self._pending.append((key, [Text(mark), Text(what), Text(detail)]))
        self.rows[key] = item

    def _add_issue(self, issue: Issue) -> None:
        f = issue.finding
        mark = "BLOCK" if issue.blocker else "warn"
        # The row says what f does; the detail pane below holds the whole message and fix.
        detail = f"f: {issue.action.describe()}" if issue.action else f.message
        what = f"{f.code} {f.kind} {f.namespace}/{f.name}".replace(" /", " ")
        self._add(f"issue/{what}", issue, mark, what, detail)

    def _render_preflight(self) -> str:
        report = self.report
        if report is None:
            return "reading the cluster…"
        for issue in report.issues:
            self._add_issue(issue)
        verdict = "no blocker" if report.ready else f"{len(report.blockers)} blocker(s)"
        return f"Preflight: {verdict}, {len(report.warnings)} warning(s). f fixes the highlighted one; n observes."

    def _unexcused(self, callers: list[PlaintextCaller]) -> list[PlaintextCaller]:
        assert self.state is not None
        kept = {e.key for e in self.state.exceptions}
        return [c for c in callers if (c.target_namespace, c.target_workload, c.port) not in kept]

    def _quiet_for(self) -> float:
        if self._last_seen is None:
            return 0.0
        return (self.app.now() - self._last_seen).total_seconds()

    def _render_observe(self) -> str:
        assert self.state is not None
        last = self.state.windows[-1] if self.state.windows else None
        callers = _callers_from(replace(self.state, windows=(last,))) if last else []
        for c in callers:
            excused = c not in self._unexcused([c])
            inject = self._caller_action(c)
            note = "exception accepted" if excused else "x: keep the port PERMISSIVE for it" + (
                f"; f: {inject.describe()}" if inject else " (meshtui cannot give it a sidecar)")
            self._add(f"caller/{c.client}>{c.target}", c, "ok" if excused else "PLAIN", f"{c.client} → {c.target}",
                      f"{c.rate_per_s:.2f}/s ({c.source})  {note}")
        unread = [UnreadPod(str(u["pod"]), str(u["reason"])) for u in last.unknown] if last else []
        for u in unread:
            self._add(f"unread/{u.pod}", u, "?", u.pod, f"callers unknown: metrics not read ({u.reason})")
        window = self.settings.migrate_window_s
        elapsed = (self.app.now() - self._window).total_seconds() if self._window else 0.0
        seen = f"last window {last.start} – {last.end}: {len(callers)} plaintext caller(s)" if last \
            else "first window running"
        if unread:
            seen += f", callers of {len(unread)} pod(s) unknown"
        return (f"Observe (TLS check: metrics and access log): {seen}; window {window}s ({elapsed:.0f}s in), "
                f"quiet for {self._quiet_for():.0f}s of {self.settings.migrate_quiet_s}s. "
                "n goes on once quiet or every caller has an exception.")

    def _render_plan(self) -> str:
        report = self.report
        if report is None:
            return "reading the cluster…"
        for issue in report.blockers:
            self._add_issue(issue)
        self._add_steps(report.steps)
        blocked = "" if report.ready else f" {len(report.blockers)} blocker(s) remain (f/x fix; ! goes on anyway)."
        return f"Plan: {len(report.steps)} step(s).{blocked} n applies the first."

    def _add_steps(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            self._add(f"step/{step.title}", step, f"{step.n:>2}.", step.title, ", ".join(step.affects[:6]))

    def _render_apply(self) -> str:
        steps = self.report.steps if self.report else ()
        self._add_steps(steps)
        done = len(self.state.applied) if self.state else 0
        if not steps:
            return "Apply: nothing left to apply."
        return f"Apply: {done} step(s) applied, {len(steps)} to go. n previews the next one: {steps[0].title}"

    def _render_verify(self) -> str:
        for f in self.verify_failures:
            self._add(f"fail/{f.client}>{f.target}/{f.reason}", f, "FAIL", f"{f.client} → {f.target}",
                      f"({f.source}) {f.reason} ×{f.count}")
        window = self.settings.migrate_verify_s
        verifying = self.state.verifying if self.state else None
        elapsed = (self.app.now() - parse_time(verifying.started)).total_seconds() if verifying else 0.0
        title = verifying.title if verifying else "the last step"
        if self.verify_failures:
            return f"Verify FAILED: '{title}' breaks {len(self.verify_failures)} client(s). b rolls it back."
        if self._verify_before is None:
            return f"Verify: reading the clients' metrics as the window after '{title}' begins…"
        at, read = self._verify_before
        return (f"Verify: watching '{title}' ({elapsed:.0f}s of {window}s): the scope's istio-proxy logs since the "
                f"step, and client-reported connection failures in the metrics of {len(read)} pod(s) since "
                f"{format_time(at)}.")

    def _render_done(self) -> str:
        assert self.state is not None
        for i, step in enumerate(self.state.applied):
            self._add(f"done/{i}", step, "done", step.title, f"applied {step.at}")
        for exc in self.state.exceptions:
            self._add(f"keep/{exc.label}", exc, "keep", f"port exception {exc.label}", f"needed by {exc.client}")
        return (f"Done: {len(self.state.applied)} step(s) applied, {len(self.state.exceptions)} exception(s) left. "
                "The YAML below reproduces it elsewhere (kubectl apply -f, in order).")

    def _detail(self) -> str:
        if self.state is None:
            return ""
        if self.stage == "done":
            return reproduce(self.state)
        item = self._highlighted()
        if isinstance(item, Issue):
            key = f"\nf: {item.action.describe()}" if item.action else ""
            return f"{item.finding.message}{key}\nfix:\n{item.finding.fix}"
        if isinstance(item, Step):
            return objects_yaml(item.plan.changes)
        if isinstance(item, PlaintextCaller):
            inject = self._caller_action(item)
            fix = f"f: {inject.describe()}" if inject else "meshtui cannot give it a sidecar (not a pod it can restart)"
            return (f"{item.client} → {item.target}: plaintext, {item.rate_per_s:.2f}/s (seen in the {item.source})\n"
                    f"x: keep port {item.port or '?'} of {item.target_namespace}/{item.target_workload} PERMISSIVE "
                    f"for it\n{fix}")
        if isinstance(item, VerifyFailure):
            return f"{item.client} → {item.target}: {item.reason}, ×{item.count}\nevidence: {self._evidence(item)}"
        if isinstance(item, UnreadPod):
            return (f"{item.pod}: metrics not read: {item.reason}\nIts callers are unknown, not absent: grant get on "
                    "pods/proxy in its namespace, or check that its sidecar answers on :15020.")
        return ""

    def _evidence(self, failure: VerifyFailure) -> str:
        verifying = self.state.verifying if self.state else None
        if failure.source == "metrics" and self._verify_before is not None:
            return (f"the client sidecar's istio_requests_total / istio_tcp_connections_opened_total "
                    f"(reporter=source, response_flags with UC), grown since {format_time(self._verify_before[0])}")
        since = f" since {verifying.started}" if verifying else ""
        return f"istio-proxy access log lines{since}"

    def _highlighted(self) -> Any:
        key = self.query_one("#rows", ResourceTable).selected_key
        return self.rows.get(key) if key else None

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()
        self.refresh_bindings()  # f and x depend on the highlighted row

    def _stop_awaiting(self) -> None:
        self._awaiting = None

    # -- time ----------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.stage == "observe":
            self._tick_observe()
        elif self.stage == "verify":
            self._tick_verify()

    def _tick_observe(self) -> None:
        if self._observing:
            if self._window is not None:
                self._show_each_second((self.app.now() - self._window).total_seconds())
            return
        snap, now, window = self.app.snapshot, self.app.now(), self.settings.migrate_window_s
        if snap is None or self.state is None:
            return
        if self._check_started is not None and (now - self._check_started).total_seconds() < window:
            return
        self._observing = True
        self._window = None
        self._check_started = now
        self._cancel = cancel = threading.Event()
        app, backend, scope = self.app, self._backend, self.state.scope

        def waiting(progress: Progress) -> None:
            # Set from the check's thread; the UI thread only reads it to show the time in the window.
            if progress.phase.startswith("waiting") and self._window is None:
                self._window = app.now()

        def work() -> None:
            seen = observe(backend, snap, scope, window, now=app.now, cancel=cancel, progress=waiting)
            if not seen.cancelled:
                app.call_from_thread(self._observed, seen)

        self.run_worker(work, thread=True, group="migrate-observe", exit_on_error=False)

    def _observed(self, seen: Observation) -> None:
        self._observing = False
        if self.stage != "observe" or self.state is None:
            return
        end = self.app.now()
        start = self._window or self._check_started or end
        self.state = self.state.with_window(Window(
            format_time(start), format_time(end), tuple({**c.to_data(), "source": c.source} for c in seen.callers),
            tuple(u.to_data() for u in seen.unread)))
        if self._unexcused(list(seen.callers)) or seen.unread:
            self._last_seen = end
        self._save()
        self._recompute()

    def on_unmount(self) -> None:
        self._cancel.set()

    def _pods(self) -> list[Any]:
        snap = self.app.snapshot
        return [p for ns in self._members(snap) for p in snap.pods_in(ns)] if snap else []

    def _tick_verify(self) -> None:
        verifying = self.state.verifying if self.state else None
        if verifying is None or self._busy or self.verify_failures:
            return
        snap = self.app.snapshot
        if snap is None:
            return  # the evidence is judged against the cluster's pods: wait for the first read of them
        if self._verify_before is None:
            self._busy = True
            self._sample_before()
            return
        now, started = self.app.now(), parse_time(verifying.started)
        elapsed = (now - started).total_seconds()
        window = self.settings.migrate_verify_s
        # Poll a few times in the window so a breaking step is caught (and rolled back) early.
        step = max(window / 4, 1.0)
        last = (self._verify_polled - started).total_seconds() if self._verify_polled else 0.0
        if elapsed - last >= step or elapsed >= window:
            self._verify_polled = now
            self._busy = True
            self._read_evidence(verifying, snap, max(1, math.ceil(elapsed)), elapsed >= window)
        else:
            self._show_each_second(elapsed)

    def _show_each_second(self, elapsed: float) -> None:
        # The counters on screen move by the second; re-rendering every tick would only burn CPU.
        if int(elapsed) != self._shown_second:
            self._shown_second = int(elapsed)
            self._show()

    def _metric_pods(self) -> list[Pod]:
        """Where a failing client reports: the scope's sidecars and those of the callers observe saw."""
        snap = self.app.snapshot
        if snap is None or self.state is None:
            return []
        members = set(self._members(snap))
        callers = {(c.namespace, c.workload) for c in _callers_from(self.state)}
        return sorted((p for p in snap.pods.values() if p.has_sidecar and not p.deleting
                       and (p.namespace in members or (p.namespace, p.workload_name) in callers)),
                      key=lambda p: p.key)

    def _sample_before(self) -> None:
        app, backend, pods = self.app, self._backend, self._metric_pods()

        def work() -> None:
            at = app.now()
            stats, errors = read_stats(backend, pods)
            app.call_from_thread(self._sampled_before, at, stats, errors)

        self.run_worker(work, thread=True, group="migrate-verify", exit_on_error=False)

    def _sampled_before(self, at: datetime, stats: Stats, errors: list[str]) -> None:
        self._busy = False
        self._verify_before = (at, stats)
        if errors:
            self.message = f"not read: {len(errors)} ({errors[0]})"
        self._show()

    def _read_evidence(self, verifying: Verifying, snap: Snapshot, since: int, final: bool) -> None:
        """The scope's istio-proxy logs of the last ``since`` seconds, and the clients' metrics now
        against the sample taken as the window began."""
        app, backend = self.app, self._backend
        pods = [p for p in self._pods() if p.has_sidecar]
        metric_pods = self._metric_pods()
        changed = set(verifying.ports)
        assert self._verify_before is not None
        before = self._verify_before[1]

        def work() -> None:
            lines = []
            errors = []
            options = LogOptions(follow=False, tail_lines=None, since_seconds=since)
            for pod in pods:
                try:
                    lines += [(pod, line) for line in backend.proxy_logs(pod.namespace, pod.name, options,
                                                                         threading.Event())]
                except BackendError as exc:
                    errors.append(f"logs of {pod.name}: {exc}")
            stats, stat_errors = read_stats(backend, metric_pods)
            found = sorted(failures(lines, snap, changed) + metric_failures(before, stats, snap, changed))
            app.call_from_thread(self._verified, found, final, errors + stat_errors)

        self.run_worker(work, thread=True, group="migrate-verify", exit_on_error=False)

    def _verified(self, found: list[VerifyFailure], final: bool, errors: list[str]) -> None:
        self._busy = False
        if self.stage != "verify":
            return
        self.verify_failures = found
        if errors:
            self.message = f"not read: {len(errors)} ({errors[0]})"
        if found:
            names = ", ".join(sorted({f.client for f in found}))
            self.notify(f"Verify failed: {names} now fail", severity="error", timeout=10)
            if self.settings.auto_rollback:
                self.action_rollback()
                return
        elif final and self.state is not None and self.state.verifying is not None:
            self.notify(f"Verified: no client broken by '{self.state.verifying.title}'", timeout=5)
            self.state = replace(self.state, verifying=None)
            self._set_stage("apply")
            self._apply_next()  # the next step's preview, or Done when none is left
            return
        self._show()

    # -- actions -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rollback":
            return self.stage == "verify" and bool(self.verify_failures)
        if action in ("fix", "exception"):
            item = self._highlighted() if self.is_mounted else None
            if action == "exception":
                return isinstance(item, PlaintextCaller) or (
                    isinstance(item, Issue) and item.action is not None and item.action.type == "exception")
            if isinstance(item, PlaintextCaller):
                return self._caller_action(item) is not None
            return isinstance(item, Issue) and item.action is not None
        if action == "force":
            return self.stage in ("observe", "plan")
        return True

    def _refuse(self, message: str) -> None:
        self.message = message
        self.notify(message, severity="warning", timeout=6)
        self._show()

    def action_next(self) -> None:
        stage = self.stage
        if stage == "preflight":
            self._set_stage("observe")
        elif stage == "observe":
            assert self.state is not None
            last = self.state.windows[-1:]
            callers = self._unexcused(_callers_from(replace(self.state, windows=last)))
            unread = len(last[0].unknown) if last else 0
            quiet = self._quiet_for() >= self.settings.migrate_quiet_s
            if not self._forced and not quiet and (not last or callers or unread):
                if callers:
                    why = f"{len(callers)} plaintext caller(s) without exception"
                elif unread:
                    why = f"metrics of {unread} pod(s) could not be read, so their callers are unknown"
                else:
                    why = "no window finished"
                self._refuse(f"not yet: {why}; quiet for {self._quiet_for():.0f}s of "
                             f"{self.settings.migrate_quiet_s}s (x accepts an exception; ! goes on anyway)")
                return
            self._set_stage("plan")
        elif stage == "plan":
            if self.report is not None and not self.report.ready and not self._forced:
                self._refuse(f"{len(self.report.blockers)} blocker(s) remain: fix them, or press ! to go on anyway")
                return
            self._set_stage("apply")
            self._apply_next()
        elif stage == "apply":
            self._apply_next()
        elif stage == "done":
            self.action_close()

    def action_force(self) -> None:
        self._forced = True
        self.notify("going on despite the findings: verify will catch what breaks", severity="warning")
        self.action_next()

    def _next_step(self, snap: Snapshot) -> ChangePlan:
        assert self.state is not None
        callers = _callers_from(self.state)
        steps = build_steps(snap, self.state.scope, self.state.exceptions,
                            {(c.namespace, c.target_namespace) for c in callers})
        if not steps:
            raise PlanError("nothing left to apply")
        return steps[0].plan

    def _apply_next(self) -> None:
        snap = self.app.snapshot
        if snap is None or self.state is None:
            return
        if not self._synced():
            self.message = "waiting for the cluster to show the last step…"
            self._show()
            self.set_timer(0.2, self._apply_next)
            return
        try:
            first = self._next_step(snap)
        except PlanError:
            self._set_stage("done")
            return
        title = first.title

        def applied() -> None:
            entry = self.app.journal.last_undoable(self._backend.context)
            assert self.state is not None
            step = AppliedStep(title, entry.id if entry else "", format_time(self.app.now()),
                               objects_yaml(first.changes))
            members = self.state.scope.members(first.predicted)
            self.state = replace(self.state, applied=(*self.state.applied, step),
                                 fingerprint=fingerprint(first.predicted, members))
            self._awaiting = self.state.fingerprint
            # Should the watch never show exactly the predicted state (a concurrent change), go on.
            self.set_timer(SYNC_TIMEOUT, self._stop_awaiting)
            ports = tuple(sorted(changed_ports(first)))
            if ports:
                verifying = Verifying(title, format_time(self.app.now()), ports, fingerprint(first.before, members))
                self.state = replace(self.state, verifying=verifying)
                self._verify_polled = self._verify_before = None
                self.verify_failures = []
                self._set_stage("verify")
            else:
                self._save()
                self.notify(f"{title}: changes no mode now; nothing to verify", timeout=4)
                self._enter("apply")

        preview(self, self._next_step, then=applied)

    def _caller_action(self, caller: PlaintextCaller) -> Action | None:
        snap = self.app.snapshot
        if snap is None or not caller.namespace:
            return None  # named by an address: no pod meshtui could inject
        return sidecar_action(snap, caller.namespace, caller.workload)

    def action_fix(self) -> None:
        item = self._highlighted()
        action = self._caller_action(item) if isinstance(item, PlaintextCaller) else \
            item.action if isinstance(item, Issue) else None
        if action is None:
            return
        if action.type == "exception":
            self._accept(action.exception)
        elif action.type == "restart":
            self._restart(action)
        else:
            self._inject(action)

    def action_exception(self) -> None:
        item = self._highlighted()
        if isinstance(item, PlaintextCaller):
            snap = self.app.snapshot
            workload = find_workload(snap, item.target_namespace, item.target_workload) if snap else None
            if workload is None or not item.port:
                self._refuse(f"cannot keep {item.target} PERMISSIVE: workload or port unknown")
                return
            self._accept(PortException(item.target_namespace, item.target_workload, item.port, item.client,
                                       workload.kind))
        elif isinstance(item, Issue) and item.action is not None and item.action.exception is not None:
            self._accept(item.action.exception)

    def _accept(self, exception: PortException | None) -> None:
        if exception is None or self.state is None:
            return
        if exception.key not in {e.key for e in self.state.exceptions}:
            self.state = replace(self.state, exceptions=(*self.state.exceptions, exception))
            self._save()
        self.notify(f"exception accepted: {exception.label} stays PERMISSIVE for {exception.client}", timeout=5)
        self._recompute()

    def _workloads(self, action: Action) -> list[Workload]:
        snap = self.app.snapshot
        out = []
        for ref in action.workloads:
            kind, _, name = ref.partition("/")
            workload = find_workload(snap, action.namespace, name, kind) if snap else None
            if workload is not None:
                out.append(workload)
        return out

    def _restart(self, action: Action) -> None:
        from meshtui.screens.change_restart import RestartScreen

        snap = self.app.snapshot
        if snap is None:
            return
        self.app.push_screen(RestartScreen(self._backend, snap, self._workloads(action), want_sidecar=True,
                                           journal=self.app.journal, read_only=self.settings.read_only))

    def _inject(self, action: Action) -> None:
        workloads = self._workloads(action)
        preview(self, lambda s: injection_plan(s, action.namespace, enabled=True),
                then=lambda: self._restart(replace(action, workloads=tuple(f"{w.kind}/{w.name}" for w in workloads))))

    def action_rollback(self) -> None:
        if self._busy or self.state is None:
            return
        self._busy = True
        app = self.app

        def work() -> None:
            try:
                result = undo_last(self._backend, app.journal, self._backend.context, read_only=self.settings.read_only)
            except (BackendError, ReadOnlyError) as exc:
                result = UndoResult("failed", str(exc))
            app.call_from_thread(self._rolled_back, result)

        self.run_worker(work, thread=True, group="migrate-rollback", exit_on_error=False)

    def _rolled_back(self, result: UndoResult) -> None:
        self._busy = False
        if self.state is None:
            return
        if result.status != "undone":
            self._refuse(f"rollback {result.status}: {result.message}")
            return
        verifying = self.state.verifying
        applied = self.state.applied[:-1] if self.state.applied else ()
        title = verifying.title if verifying else result.message
        self.state = replace(self.state, applied=applied, rolled_back=(*self.state.rolled_back, title),
                             fingerprint=verifying.before if verifying else self.state.fingerprint, verifying=None)
        if verifying is not None:
            self._awaiting = verifying.before
            self.set_timer(SYNC_TIMEOUT, self._stop_awaiting)
        self.notify(f"rolled back: {title}", severity="warning", timeout=8)
        self.verify_failures = []
        self._forced = False
        self._set_stage("plan")

    def action_close(self) -> None:
        self._save()
        self.app.pop_screen()

    def action_discard(self) -> None:
        """Forget this migration (the cluster keeps every applied step; undo reverts them one by one)."""
        self.state = None
        try:
            self._path.unlink(missing_ok=True)
        except OSError as exc:
            self.notify(f"cannot remove {self._path}: {exc.strerror or exc}", severity="error")
            return
        self.notify("migration discarded: M starts a new one for the selected namespace", timeout=6)
        self.app.pop_screen()

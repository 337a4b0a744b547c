"""The main screen: namespaces, pods, policies and Envoy logs, all visible at once.

Selection flows namespace → pods → policies and logs. The screen never calls the backend: it
renders the snapshot and report the app hands it. The Envoy pane's tail, which the pane asks for,
runs on the tail's own threads and hands its lines back to the pane as messages.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Callable, Mapping

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static

from meshtui.backend.base import Backend, BackendError
from meshtui.backend.log_tail import LogTail
from meshtui.change.apply import ReadOnlyError
from meshtui.change.journal import plan_undo
from meshtui.change.plan import (
    MtlsScope,
    ambient_plan,
    ambient_workload_plan,
    injection_plan,
    mtls_plan,
    redundant_port_entries,
    revisions_in_use,
)
from meshtui.change.ports import port_choices
from meshtui.command_line import USAGE, Command, CommandError, pick
from meshtui.command_line import parse as parse_command
from meshtui.idle_gc import IdleCollector
from meshtui.logs.batch import Batch
from meshtui.model.objects import (
    AuthorizationPolicy,
    DestinationRule,
    PeerAuthentication,
    Pod,
    VirtualService,
    Waypoint,
)
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import waypoints_for_pod, waypoints_serving_namespace
from meshtui.policy.findings import findings_for
from meshtui.policy.report import MeshReport
from meshtui.policy.scope import policies_for_namespace, policies_for_pod
from meshtui.render import (
    age,
    authorization_policy_row,
    destination_rule_row,
    elide,
    finding_cell,
    namespace_row,
    peer_authentication_rows,
    pod_row,
    virtual_service_row,
    waypoint_row,
)
from meshtui.screens.base import MeshScreen
from meshtui.screens.delivery import deliver
from meshtui.text import safe_line, safe_text
from meshtui.widgets.header import StatusHeader, header_text
from meshtui.widgets.pod_logs import PodLogPane
from meshtui.widgets.resource_table import ResourceTable, Row

if TYPE_CHECKING:
    from meshtui.change.apply import ApplyResult
    from meshtui.change.journal import UndoResult
    from meshtui.screens.ambient import AmbientChoice
    from meshtui.screens.change import InjectionChoice, ModeChoice
    from meshtui.tls.report import TlsReport

# The screens behind a key (changes, previews, checks, explain) are imported when the key is pressed:
# with the TLS check and diff machinery they pull in, they would add ~60 ms to the first screen.

# Permissions each mutating action needs ("verb resource"), for RBAC-aware check_action.
ACTION_NEEDS: dict[str, tuple[str, ...]] = {
    "injection": ("patch namespaces",),
    "ambient": ("patch namespaces", "patch deployments"),
    "mtls": ("create peerauthentications", "patch peerauthentications", "delete peerauthentications"),
    "port_mtls": ("create peerauthentications", "patch peerauthentications", "delete peerauthentications"),
    "restart": ("patch deployments",),
    "undo": ("patch namespaces", "patch peerauthentications"),
}


# What the policies pane lists.
PolicyObject = PeerAuthentication | DestinationRule | VirtualService | AuthorizationPolicy | Waypoint

NAMESPACE_COLUMNS = ["NAME", "mTLS", "DATAPLANE", "PODS"]
POD_COLUMNS = ["NAME", "READY", "mTLS", "PROXY", "STATUS", "RST", "AGE"]
TLS_COLUMN = "TLS"

# Seconds between chances for a full garbage collection (taken only when no key came for a second), and
# how many middle-generation collections make one due (CPython's own default threshold).
GC_EVERY = 2.0
FULL_COLLECTION_DUE = 10

NARROW_WIDTH = 100
NARROW_POD_NAME = 24
MIN_POD_NAME = 16


def cell_len(cell: Text | str) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(cell)


class Pane(Vertical):
    """A bordered pane holding a table and its (hidden until `/`) filter input."""

    def __init__(self, title: str, table: ResourceTable, *, id: str, below: Widget | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = title
        self.table = table
        self.below = below
        self.filter_input = Input(placeholder="filter…", classes="pane-filter")

    def compose(self) -> ComposeResult:
        yield self.table
        if self.below is not None:
            yield self.below
        yield self.filter_input


class MainScreen(MeshScreen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="main.filter"),
        Binding("enter", "open", "Open", id="main.open"),
        Binding("l", "logs", "Logs", id="main.logs"),
        Binding("L", "workload_logs", "Workload logs", show=False, id="main.workload_logs"),
        Binding("e", "explain", "Explain", id="main.explain"),
        Binding("i", "injection", "Injection", id="main.injection"),
        Binding("a", "ambient", "Ambient", show=False, id="main.ambient"),
        Binding("m", "mtls", "mTLS mode", id="main.mtls"),
        Binding("p", "port_mtls", "Port mTLS", show=False, id="main.port_mtls"),
        Binding("R", "restart", "Restart", show=False, id="main.restart"),
        Binding("u", "undo", "Undo", show=False, id="main.undo"),
        Binding("M", "migrate", "Migrate to STRICT", show=False, id="main.migrate"),
        Binding("y", "yaml", "YAML", show=False, id="main.yaml"),
        Binding("t", "tls_check", "TLS check", show=False, id="main.tls_check"),
        Binding("F", "findings", "Findings", id="main.findings"),
        Binding("1", "focus_pane('namespaces')", "Namespaces", show=False, id="main.pane_namespaces"),
        Binding("2", "focus_pane('pods')", "Pods", show=False, id="main.pane_pods"),
        Binding("3", "focus_pane('policies')", "Policies", show=False, id="main.pane_policies"),
        Binding("4", "focus_pane('logs')", "Logs pane", show=False, id="main.pane_logs"),
        Binding("colon", "command_line", "Command", show=False, id="main.command"),
        Binding("escape", "clear_filter", "Back", show=False, id="main.clear_filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.namespaces = ResourceTable(NAMESPACE_COLUMNS, id="namespaces-table")
        self.pods = ResourceTable(POD_COLUMNS, id="pods-table")
        self.policies = ResourceTable(["KIND", "NAME", "MODE", "SCOPE"], id="policies-table")
        self.header = StatusHeader(id="header")
        self.findings = ResourceTable(["FINDINGS (enter: details and fix, F: all)"], id="findings-table",
                                      row_height=2)
        self.cluster_error = Static(id="cluster-error")
        self.log_pane = PodLogPane(id="logs-pane")
        self.command_line = Input(placeholder=USAGE, id="command-line")
        self._before_command: Widget | None = None
        self.snapshot: Snapshot | None = None
        self.report: MeshReport | None = None
        self.selected_namespace: str | None = None
        # Namespace rows as last made, with what they were made from (see _render_namespaces).
        self._namespace_rows: dict[str, tuple[tuple[object, ...], list[Text | str]]] = {}
        self.selected_pod: tuple[str, str] | None = None
        # Pod cells and rows as last made, with what they were made from (see _render_pods).
        self._pod_cells: dict[tuple[str, str], tuple[tuple[object, ...], list[Text | str]]] = {}
        self._pod_rows: dict[tuple[str, str], tuple[tuple[object, ...], list[Text | str]]] = {}
        self._pods_timer: Timer | None = None
        self._pane_tail: LogTail | None = None
        self._titles: dict[str, str] = {}
        self._collector = IdleCollector()

    def compose(self) -> ComposeResult:
        yield self.header
        with Grid(id="panes"):
            yield Pane("Namespaces", self.namespaces, id="namespaces-pane", below=self.cluster_error)
            yield Pane("Pods", self.pods, id="pods-pane")
            yield Pane("Policies", self.policies, id="policies-pane", below=self.findings)
            yield self.log_pane
        yield self.command_line
        yield Footer()

    def on_mount(self) -> None:
        self.namespaces.focus()
        # Cells carry resolved theme colours, so a theme switch re-renders them.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.on_screen_resume())
        self.refresh_header()
        if self.app.snapshot is not None:
            self.update_cluster(self.app.snapshot, self.app.report)
        else:
            self.namespaces.loading = True
        # Watch batches and redraws leave Textual's render caches as cyclic garbage: a full collection
        # frees tens of thousands of objects (~0.1 s at 20,000 pods). It runs when no key came for a
        # second, never under a key press (meshtui.idle_gc).
        self._collector.start()
        self.set_interval(GC_EVERY, self._collect_when_idle)

    def _collect_when_idle(self) -> None:
        # A screen on top collects by its own keys; an idle cluster allocates too little to need one.
        if self.app.screen is self and gc.get_count()[2] >= FULL_COLLECTION_DUE:
            self._collector.tick()

    def on_key(self) -> None:
        self._collector.key()

    # -- data in --------------------------------------------------------------------------------------
    @property
    def palette(self) -> dict[str, str]:
        return self.app.theme_variables

    def refresh_header(self) -> None:
        state = self.app.connection_state
        text = header_text(self.app.info, state, self.report, self.app.settings.read_only, self.palette)
        self.header.show(text)
        failed = state.startswith(("error", "watch stopped", "context"))
        if failed and self.snapshot is None:
            # Nothing to show: say why where the data would be, instead of an endless spinner.
            self.namespaces.loading = False
            hint = "" if self.app.settings.demo else "\n\nmeshtui --demo runs on a simulated mesh instead."
            self.cluster_error.update(Text(safe_text(state.split(": ", 1)[-1] + hint)))
        self.cluster_error.set_class(failed, "visible")

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        """``report`` is None for a moment on a first list: objects show at once, modes follow."""
        self.snapshot = snapshot
        self.report = report
        self.namespaces.loading = False
        self.refresh_header()
        self._render_namespaces()
        self._render_pods()
        self._render_policies()

    def on_resize(self) -> None:
        self.on_screen_resume()

    def on_screen_resume(self) -> None:
        if self.app.snapshot is not None:
            self.update_cluster(self.app.snapshot, self.app.report)

    def _render_namespaces(self) -> None:
        assert self.snapshot is not None
        summaries = self.report.namespaces if self.report else {}
        rows: list[Row] = []
        report = self.app.tls_report
        verdicts = report.verdicts_by_namespace() if report else None
        theme = self.app.theme
        made: dict[str, tuple[tuple[object, ...], list[Text | str]]] = {}
        for ns in sorted(self.snapshot.namespaces.values(), key=lambda n: n.name):
            summary = summaries.get(ns.name)
            basis = (ns, summary, theme, verdicts is not None and verdicts.get(ns.name))
            before = self._namespace_rows.get(ns.name)
            if before is not None and before[0][0] is ns and before[0][1] is summary and before[0][2:] == basis[2:]:
                # The same objects (an incremental report keeps untouched namespaces' summaries): the
                # same cells object, which the table then neither re-sanitizes nor re-measures.
                made[ns.name] = before
            else:
                cells = namespace_row(ns, summary, self.palette)
                if verdicts is not None:
                    cells.append(self._tls_mark(verdicts.get(ns.name)))
                made[ns.name] = (basis, cells)
            rows.append((ns.name, made[ns.name][1]))
        self._namespace_rows = made
        self.namespaces.set_columns(NAMESPACE_COLUMNS + ([TLS_COLUMN] if verdicts is not None else []))
        self.namespaces.sync(rows)
        self._set_title("#namespaces-pane", f"Namespaces  {len(rows)}")
        if self.selected_namespace is None or ("", self.selected_namespace) not in self.snapshot.namespaces:
            self.selected_namespace = self.namespaces.selected_key

    def _render_pods(self) -> None:
        if self.snapshot is None or self.selected_namespace is None:
            return
        now = self.app.now()
        results = self.report.pods if self.report else {}
        pods = self.snapshot.pods_in(self.selected_namespace)
        report = self.app.tls_report
        verdicts = report.verdicts_by_pod() if report else None
        self.pods.set_columns(POD_COLUMNS + ([TLS_COLUMN] if verdicts is not None else []))
        theme = self.app.theme
        cells: dict[tuple[str, str], tuple[tuple[object, ...], list[Text | str]]] = {}
        for p in pods:
            result = results.get(p.key)
            basis = (p, result, age(p.created, now), theme)
            before = self._pod_cells.get(p.key)
            if before is not None and before[0][0] is p and before[0][1] is result and before[0][2:] == basis[2:]:
                cells[p.key] = before  # nothing the row shows changed: the same cells, not re-made
            else:
                cells[p.key] = (basis, pod_row(p, result, self.palette, now))
        self._pod_cells = cells
        width = self._pod_name_width([c for _, c in cells.values()])
        rows: list[Row] = []
        made: dict[tuple[str, str], tuple[tuple[object, ...], list[Text | str]]] = {}
        for p in pods:
            c = cells[p.key][1]
            basis_row = (c, width, verdicts is not None and verdicts.get(p.key))
            shown = self._pod_rows.get(p.key)
            if shown is not None and shown[0][0] is c and shown[0][1:] == basis_row[1:]:
                # The same cells object again: the table neither re-sanitizes, re-measures nor repaints it.
                made[p.key] = shown
            else:
                row = [elide(p.name, width), *c[1:]]
                if verdicts is not None:
                    row.append(self._tls_mark(verdicts.get(p.key)))
                made[p.key] = (basis_row, row)
            rows.append((f"{p.namespace}/{p.name}", made[p.key][1]))
        self._pod_rows = made
        self.pods.sync(rows)
        self._set_title("#pods-pane", f"Pods  {self.selected_namespace}  {len(rows)}")
        key = self.pods.selected_key
        self._select_pod(tuple(key.split("/", 1)) if key else None)  # type: ignore[arg-type]

    def _set_title(self, pane: str, title: str) -> None:
        """Titles name cluster objects: plain text. Set only when changed: setting one repaints the pane."""
        title = safe_line(title)
        if self._titles.get(pane) != title:
            self._titles[pane] = title
            self.query_one(pane).border_title = Text(title)

    def _pod_name_width(self, rows: list[list[Text | str]]) -> int | None:
        """Pod names give way so STATUS, RST and AGE stay in the pane; a wide pane shows them whole."""
        pane = self.query_one("#pods-pane").size.width
        if not pane:
            return NARROW_POD_NAME if self.app.size.width < NARROW_WIDTH else None
        columns = len(self.pods.columns) or 7
        others = sum(max([len(label)] + [cell_len(r[i]) for r in rows])
                     for i, label in enumerate(POD_COLUMNS) if i)
        # The pane's size is inside its border; a cell padding either side of every column, a scrollbar.
        return max(MIN_POD_NAME, pane - 2 * columns - 2 - others)

    def _render_policies(self) -> None:
        if self.snapshot is None or self.selected_namespace is None:
            return
        snap, root = self.snapshot, self.snapshot.mesh.root_namespace
        # On the namespaces list the pane is about the namespace (its ✗N explained); on a pod, the pod.
        pod = None if self._namespace_scope else self.current_pod()
        scoped = policies_for_pod(snap, pod) if pod else policies_for_namespace(snap, self.selected_namespace)
        rows: list[Row] = []
        unprotected = {f.ref: len(f.about) for f in (self.report.findings if self.report else ())
                       if f.code == "MT0013"}
        for pa in scoped.peer_authentications:
            for i, cells in enumerate(peer_authentication_rows(pa, root, self.palette,
                                                               unprotected.get(pa.ref, 0))):
                rows.append((f"pa/{pa.namespace}/{pa.name}/{i}", cells))
        for dr in scoped.destination_rules:
            rows.append((f"dr/{dr.namespace}/{dr.name}", destination_rule_row(dr, self.palette)))
        for vs in scoped.virtual_services:
            rows.append((f"vs/{vs.namespace}/{vs.name}", virtual_service_row(vs)))
        for ap in scoped.authorization_policies:
            rows.append((f"ap/{ap.namespace}/{ap.name}", authorization_policy_row(ap)))
        uses = waypoints_for_pod(snap, pod) if pod else waypoints_serving_namespace(snap, self.selected_namespace)
        for i, use in enumerate(uses):
            ref = f"{use.waypoint.namespace}/{use.waypoint.name}" if use.waypoint else use.missing
            rows.append((f"wp/{ref}/{i}", waypoint_row(use)))
        self.policies.sync(rows)
        scope = f"{pod.name}" if pod else self.selected_namespace
        self._set_title("#policies-pane", f"Policies  {scope}")
        listed: list[PolicyObject] = [*scoped.peer_authentications, *scoped.destination_rules,
                                      *scoped.virtual_services, *scoped.authorization_policies]
        findings = findings_for(self.report.findings if self.report else (), self.selected_namespace, pod,
                                [obj.ref for obj in listed])
        # The pane is narrow: each finding takes two lines, its message cut to the pane's width.
        width = self.query_one("#policies-pane").size.width - 4
        self.findings.sync([(f.key, [finding_cell(f, self.palette, width if width > 20 else 60)])
                            for f in findings])
        self.findings.display = bool(findings)

    @property
    def _namespace_scope(self) -> bool:
        return self.focused is self.namespaces or self.current_pod() is None

    def on_descendant_focus(self) -> None:
        scope = self._namespace_scope
        if scope != getattr(self, "_shown_scope", None):
            self._shown_scope = scope
            self._render_policies()

    def _tls_mark(self, verdict: str | None) -> Text:
        from meshtui.screens.tls_check import verdict_text

        return verdict_text(verdict, self.palette, mark=True) if verdict else Text("")

    # -- selection ----------------------------------------------------------------------------------
    def current_pod(self) -> Pod | None:
        if self.snapshot is None or self.selected_pod is None:
            return None
        return self.snapshot.pods.get(self.selected_pod)

    @on(DataTable.RowHighlighted, "#namespaces-table")
    def _namespace_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value
        if name == self.selected_namespace:
            return
        self.selected_namespace = name
        # Debounced: holding a key through the list must not re-render pods for every row.
        if self._pods_timer is not None:
            self._pods_timer.stop()
        self._pods_timer = self.set_timer(0.08, self._namespace_changed)

    def _namespace_changed(self) -> None:
        if self.selected_namespace is not None:
            self.app.ensure_namespace(self.selected_namespace)  # a big cluster may not have reached it yet
        self.selected_pod = None
        self.pods.move_cursor(row=0, animate=False)
        self._render_pods()
        self._render_policies()

    @on(DataTable.RowHighlighted, "#pods-table")
    def _pod_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        self._select_pod(tuple(key.split("/", 1)) if key else None)  # type: ignore[arg-type]

    # -- the Envoy pane's tail ---------------------------------------------------------------------
    def on_pod_log_pane_follow(self, message: PodLogPane.Follow) -> None:
        message.stop()
        self._stop_pane_tail()
        backend = self.app.backend
        if backend is None or not message.targets:
            return
        pane, generation = self.log_pane, message.generation

        def lines(batch: Batch) -> None:
            # The tail's dispatcher thread: waiting until the UI loop has taken the batch paces the
            # tail to the loop (while it waits, the tail drops its oldest lines, not the UI).
            deliver(self.app, pane.post_message, PodLogPane.Lines(generation, batch))

        def failed(pod: str, error: str) -> None:
            deliver(self.app, pane.post_message, PodLogPane.TailFailed(generation, pod, error))

        tail = self._pane_tail = LogTail(backend, message.targets, message.options, lines, on_error=failed)
        # Reading starts once the frame that selected the pod is painted: at start-up, the first read
        # (which the demo answers by simulating the traffic so far) would share the GIL with the
        # first paint. A pod selected again before then replaces this tail unstarted.
        self.call_after_refresh(lambda: tail.start() if self._pane_tail is tail else None)

    def _stop_pane_tail(self) -> None:
        if self._pane_tail is not None:
            # No waiting: the dispatcher may be blocked handing a batch to this very thread.
            self._pane_tail.stop(timeout=0)
            self._pane_tail = None

    def on_unmount(self) -> None:
        self._collector.stop()
        self._stop_pane_tail()

    def _select_pod(self, key: tuple[str, str] | None) -> None:
        if key == self.selected_pod:
            return
        self.selected_pod = key
        self._render_policies()
        self.log_pane.show_pod(self.current_pod())

    # -- actions -------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = ACTION_NEEDS.get(action)
        if needs is None:
            return True
        if self.app.settings.read_only:
            return False  # read-only: mutating bindings do not exist
        return None if self.app.denied_reason(*needs) else True

    def _focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None and not isinstance(node, Pane):
            node = node.parent  # type: ignore[assignment]
        return node

    def action_focus_pane(self, name: str) -> None:
        target = {"namespaces": self.namespaces, "pods": self.pods, "policies": self.policies,
                  "findings": self.findings}.get(name)
        if target is not None:
            target.focus()
        else:
            self.log_pane.focus_view()

    def action_filter(self) -> None:
        pane = self._focused_pane()
        if pane is None:
            return
        pane.filter_input.add_class("visible")
        pane.filter_input.value = pane.table.filter_text
        pane.filter_input.focus()

    @on(Input.Changed, ".pane-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        pane = event.input.parent
        if isinstance(pane, Pane):
            pane.table.set_filter(event.value)

    @on(Input.Submitted, ".pane-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        pane = event.input.parent
        if isinstance(pane, Pane):
            if not event.value:
                event.input.remove_class("visible")
            pane.table.focus()

    def action_command_line(self) -> None:
        self._before_command = self.focused
        self.command_line.value = ""
        self.command_line.add_class("visible")
        self.command_line.focus()

    def _close_command_line(self) -> None:
        self.command_line.remove_class("visible")
        back = self._before_command if self._before_command is not None else self.namespaces
        if back.is_attached:
            back.focus()

    @on(Input.Submitted, "#command-line")
    def _command_submitted(self, event: Input.Submitted) -> None:
        self._close_command_line()
        try:
            command = parse_command(event.value)
        except CommandError as exc:
            self.notify(str(exc), severity="warning", timeout=6)
            return
        self.run_command(command)

    def run_command(self, command: Command) -> None:
        if command.name == "ns" and not command.argument:
            self.namespaces.focus()
        elif command.name in ("ns", "pods") and command.argument:
            if self.select_namespace(command.argument) and command.name == "pods":
                self.pods.focus()
        elif command.name == "pods":
            self.pods.focus()
        elif command.name == "policies":
            self.policies.focus()
        elif command.name == "ctx":
            if command.argument:
                self.app.do_switch_context(command.argument)
            else:
                self.app.action_switch_context()
        elif command.name == "findings":
            from meshtui.screens.findings import FindingsScreen

            self.app.push_screen(FindingsScreen(command.argument))
        elif command.name == "logs":
            self.action_logs()
        elif command.name == "help":
            self.app.action_help()
        elif command.name == "quit":
            # A coroutine: call_later awaits it on the loop (called bare it would never run).
            self.app.call_later(self.app.action_quit)

    def select_namespace(self, name: str) -> bool:
        if self.snapshot is None:
            return False
        found = pick(name, sorted(ns.name for ns in self.snapshot.namespaces.values()))
        if found is None:
            self.notify(f"no single namespace matches {name[:60]!r}", severity="warning", timeout=4)
            return False
        if found not in self.namespaces.shown_keys:
            self.namespaces.set_filter("")
        self.namespaces.move_cursor(row=self.namespaces.shown_keys.index(found))
        self.namespaces.focus()
        return True

    def action_clear_filter(self) -> None:
        """Escape: one level back — the command line, then the focused pane's filter."""
        if self.command_line.has_class("visible"):
            self._close_command_line()
            return
        pane = self._focused_pane()
        if pane is None:
            return
        pane.table.set_filter("")
        pane.filter_input.value = ""
        pane.filter_input.remove_class("visible")
        pane.table.focus()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        # The focused table consumes enter itself (select_cursor); route it to the same action.
        self.action_open()

    def action_open(self) -> None:
        if self.focused is self.namespaces:
            self.pods.focus()
        elif self.focused is self.pods:
            self.action_logs()
        elif self.focused is self.policies:
            self.action_yaml()
        elif self.focused is self.findings:
            self.open_finding(self.findings.selected_key)

    def action_logs(self) -> None:
        if self.focused is self.namespaces and self.selected_namespace is not None:
            self._open_group_logs(f"namespace {self.selected_namespace}", self.selected_namespace, None)
            return
        pod = self.current_pod()
        if pod is None:
            self.notify("select a pod first", timeout=2)
            return
        if not pod.has_sidecar and self.log_pane.pod is pod and self.log_pane.ztunnel is not None:
            from meshtui.screens.logs import LogsScreen

            # Ambient: the pod's connections from the ztunnel on its node (and its waypoints' requests).
            targets = self.log_pane.targets
            self.app.push_screen(LogsScreen(self.app.backend, lambda: targets,
                                            f"{pod.name} via ztunnel {self.log_pane.ztunnel.name}",
                                            self.app.settings, keep=self.log_pane.keep()))
            return
        if not pod.has_sidecar:
            self.notify(f"{pod.name} has no istio-proxy container (no sidecar)", severity="warning")
            return
        self._open_logs(pod.name, lambda: [(pod.namespace, pod.name)])

    def action_workload_logs(self) -> None:
        pod = self.current_pod()
        if pod is not None:
            self._open_group_logs(f"{pod.workload_name} (all pods)", pod.namespace, pod.workload_name)

    def _open_group_logs(self, title: str, namespace: str, workload: str | None) -> None:
        """Every sidecar pod of a namespace (or of one workload there), re-read as pods come and go."""

        def targets() -> list[tuple[str, str]]:
            snap = self.app.snapshot
            if snap is None:
                return []
            return [(p.namespace, p.name) for p in snap.pods_in(namespace)
                    if p.has_sidecar and not p.deleting and workload in (None, p.workload_name)]

        self._open_logs(title, targets)

    def _open_logs(self, title: str, targets: Callable[[], list[tuple[str, str]]]) -> None:
        from meshtui.screens.logs import LogsScreen

        self.app.push_screen(LogsScreen(self.app.backend, targets, title, self.app.settings))

    def action_explain(self) -> None:
        pod = self.current_pod()
        if pod is None or self.snapshot is None:
            self.notify("select a pod to explain its mTLS mode", timeout=2)
            return
        from meshtui.screens.change_flow import observed_note, observed_plaintext
        from meshtui.screens.explain import ExplainScreen
        from meshtui.tls.observed import is_recent

        # Clients seen calling come from a recent TLS check; without one explain says they are unknown.
        app = self.app
        seen = app.tls_report is not None and is_recent(app.tls_checked_at, app.now())
        observed = observed_plaintext(app) if seen else None
        self.app.push_screen(ExplainScreen(self.snapshot, pod, observed, observed_note(app) if seen else ""))

    def action_yaml(self) -> None:
        key = self.policies.selected_key
        if key is None or self.snapshot is None:
            return
        from meshtui.screens.yaml_view import YamlScreen

        kind, namespace, name = key.split("/")[:3]
        collections: dict[str, Mapping[tuple[str, str], PolicyObject]] = {
            "pa": self.snapshot.peer_authentications, "dr": self.snapshot.destination_rules,
            "vs": self.snapshot.virtual_services, "ap": self.snapshot.authorization_policies,
            "wp": self.snapshot.waypoints}
        collection = collections[kind]
        obj = collection.get((namespace, name))
        if obj is not None:
            self.app.push_screen(YamlScreen(f"{obj.ref}", dict(obj.raw)))

    def action_tls_check(self) -> None:
        """Check the focused namespace (the root namespace: the whole mesh) or the focused pod's workload."""
        from meshtui.screens.tls_check import TlsCheckScreen
        from meshtui.tls.check import Scope

        snap = self.snapshot
        if snap is None or self.selected_namespace is None:
            return
        pod = self.current_pod()
        if self.focused is self.pods and pod is not None:
            scope = Scope("workload", pod.namespace, pod.workload_name) if pod.owner_kind \
                else Scope("pod", pod.namespace, pod.name)
        elif self.selected_namespace == snap.mesh.root_namespace:
            scope = Scope("mesh")
        else:
            scope = Scope("namespace", self.selected_namespace)
        backend = self.app.connected_backend()
        if backend is not None:
            self.app.push_screen(TlsCheckScreen(backend, snap, scope, on_done=self._tls_done))

    def _tls_done(self, report: TlsReport) -> None:
        self.app.tls_report = report
        self.app.tls_checked_at = self.app.now()
        if self.snapshot is not None:
            self._render_namespaces()
            self._render_pods()

    def open_finding(self, key: str | None) -> None:
        finding = next((f for f in (self.report.findings if self.report else ()) if f.key == key), None)
        if finding is not None and self.snapshot is not None:
            from meshtui.screens.findings import FindingScreen

            self.app.push_screen(FindingScreen(finding, self.snapshot))

    def action_findings(self) -> None:
        from meshtui.screens.findings import FindingsScreen

        self.app.push_screen(FindingsScreen())

    # -- changes: pick → plan → preview → apply (change_flow) ----------------------------------------
    def action_injection(self) -> None:
        from meshtui.screens.change import InjectionScreen
        from meshtui.screens.change_flow import offer_restart, preview

        snap, name = self.snapshot, self.selected_namespace
        if snap is None or name is None:
            return
        ns = snap.namespaces[("", name)]

        def chosen(choice: InjectionChoice | None) -> None:
            if choice is None:
                return
            preview(self, lambda s: injection_plan(s, name, enabled=choice.enabled, revision=choice.revision),
                    then=lambda: offer_restart(self, name, want_sidecar=choice.enabled))

        self.app.push_screen(InjectionScreen(name, ns.injection, revisions_in_use(snap)), chosen)

    def action_ambient(self) -> None:
        from meshtui.screens.ambient import AmbientScreen, namespace_choices, workload_choice
        from meshtui.screens.change_flow import controller_of, offer_restart, preview

        snap = self.snapshot
        if snap is None or self.selected_namespace is None:
            return
        pod = self.current_pod() if self.focused is self.pods else None
        if pod is not None:
            workload = controller_of(snap, pod)
            if workload is None:
                self.notify("select a pod of a Deployment, StatefulSet or DaemonSet", timeout=3)
                return
            result = self.report.pods.get(pod.key) if self.report else None
            current = result.dataplane if result else "?"

            def chosen_workload(c: AmbientChoice | None) -> None:
                if c is not None:
                    preview(self, lambda s: ambient_workload_plan(
                        s, s.workloads.get((workload.namespace, f"{workload.kind}/{workload.name}"), workload),
                        opt_out=not c.enabled))

            self.app.push_screen(AmbientScreen(f"Ambient for {workload.kind} {workload.name}",
                                               f"{pod.name}: {current}", [workload_choice(workload)]),
                                 chosen_workload)
            return
        name = self.selected_namespace
        ns = snap.namespaces[("", name)]

        def chosen(c: AmbientChoice | None) -> None:
            if c is None:
                return
            then = (lambda: offer_restart(self, name, want_sidecar=False)) if c.enabled else None
            preview(self, lambda s: ambient_plan(s, name, enabled=c.enabled), then=then)

        self.app.push_screen(AmbientScreen(f"Ambient for {name}", ns.dataplane,
                                           namespace_choices(ns.dataplane, name)), chosen)

    def action_mtls(self) -> None:
        self._open_mtls(port_level=False)

    def action_port_mtls(self) -> None:
        self._open_mtls(port_level=True)

    def _mtls_scope(self) -> MtlsScope | None:
        """Namespace pane → namespace (the root namespace → mesh); pods pane → the pod's workload."""
        from meshtui.screens.change_flow import controller_of

        snap, pod = self.snapshot, self.current_pod()
        if snap is None:
            return None
        if self.focused is self.pods and pod is not None:
            workload = controller_of(snap, pod)
            return MtlsScope.of_workload(workload) if workload else None
        if self.selected_namespace is None:
            return None
        if self.selected_namespace == snap.mesh.root_namespace:
            return MtlsScope.mesh()
        return MtlsScope.of_namespace(self.selected_namespace)

    def _current_mode(self, scope: MtlsScope) -> tuple[str, str]:
        report = self.report
        if report is None:
            return "?", "?"
        if scope.level == "mesh":
            return report.mesh.mtls, str(report.mesh.source)
        if scope.level == "namespace":
            summary = report.namespaces.get(scope.namespace)
            return (summary.mtls, str(summary.source)) if summary else ("?", "?")
        pod = self.current_pod()
        result = report.pods.get(pod.key) if pod else None
        return (result.mode, str(result.source)) if result else ("?", "?")

    def _open_mtls(self, *, port_level: bool) -> None:
        from meshtui.screens.change import ModePickerScreen
        from meshtui.screens.change_flow import controller_of, preview

        snap = self.snapshot
        if snap is None:
            return
        pod = self.current_pod()
        if port_level:
            workload = controller_of(snap, pod) if pod else None
            if pod is None or workload is None:
                self.notify("select a pod of a workload to set a port-level mode", timeout=3)
                return
            scope = MtlsScope.of_workload(workload)
            ports = port_choices(snap, pod)
            if not ports:
                self.notify(f"{pod.name} declares no ports", timeout=3)
                return
        else:
            found = self._mtls_scope()
            if found is None:
                self.notify("select a namespace, or a pod of a workload", timeout=3)
                return
            scope, ports = found, []
        current, source = self._current_mode(scope)

        def chosen(choice: ModeChoice | None) -> None:
            if choice is None:
                return
            target = MtlsScope.of_port(scope.workload, choice.port) if choice.port is not None and scope.workload \
                else scope
            preview(self, lambda s: mtls_plan(s, target, choice.mode))

        label = f"{scope.describe()} ports" if port_level else scope.describe()
        hint = ""
        if port_level and scope.workload is not None:
            same = redundant_port_entries(snap, scope.workload)
            if same:
                ports_text = ", ".join(f"{p} ({m})" for p, m in same.items())
                hint = f"port {ports_text}: same as the workload's mode, changes nothing — choose it, then inherit, " \
                    "to remove the entry"
        self.app.push_screen(ModePickerScreen(label, current, source, ports, hint), chosen)

    def action_restart(self) -> None:
        from meshtui.screens.change_flow import controller_of
        from meshtui.screens.change_restart import RestartScreen

        pod, snap = self.current_pod(), self.snapshot
        workload = controller_of(snap, pod) if pod and snap else None
        if snap is None or pod is None or workload is None:
            self.notify("select a pod of a Deployment, StatefulSet or DaemonSet to restart", timeout=3)
            return
        backend = self.app.connected_backend()
        if backend is None:
            return
        want = snap.namespaces[("", pod.namespace)].injection not in ("none", "disabled")
        self.app.push_screen(RestartScreen(backend, snap, [workload], want_sidecar=want,
                                           journal=self.app.journal, read_only=self.app.settings.read_only))

    def action_migrate(self) -> None:
        from meshtui.migrate.scope import Scope
        from meshtui.screens.migrate import MigrateScreen

        ns, snap = self.selected_namespace, self.snapshot
        scope = None
        if ns is not None and snap is not None:
            scope = Scope.of(mesh=True) if ns == snap.mesh.root_namespace else Scope.of([ns])
        backend = self.app.connected_backend()
        if backend is not None:
            self.app.push_screen(MigrateScreen(backend, scope))

    def action_undo(self) -> None:
        """Plan the undo in a worker (it reads the objects back), then preview it like any change."""
        backend = self.app.connected_backend()
        if backend is not None:
            self._plan_undo(backend, self.app.snapshot or Snapshot())

    @work(thread=True, group="undo", exclusive=True, exit_on_error=False)
    def _plan_undo(self, backend: Backend, snapshot: Snapshot) -> None:
        app = self.app
        try:
            result = plan_undo(backend, app.journal, backend.context, snapshot, read_only=app.settings.read_only)
        except (BackendError, ReadOnlyError) as exc:
            app.call_from_thread(app.notify, f"undo failed: {exc}", severity="error")
            return
        for warning in app.journal.warnings:
            app.call_from_thread(app.notify, warning, title="journal", severity="warning", timeout=10)
        app.call_from_thread(self._show_undo, backend, result)

    def _show_undo(self, backend: Backend, result: UndoResult) -> None:
        from meshtui.screens.change import result_notice
        from meshtui.screens.change_preview import PreviewScreen
        from meshtui.screens.yaml_view import TextScreen

        if result.status == "refused":
            self.app.push_screen(TextScreen(f"Undo refused: {result.message}", result.diff))
            return
        if result.status == "planned" and result.plan is not None:

            def done(applied: ApplyResult | None) -> None:
                if applied is None:
                    self.notify("cancelled: nothing changed", timeout=3)
                    return
                notice = result_notice(applied)
                self.notify(notice.message, severity=notice.severity, timeout=8)
                if applied.ok and not applied.dry_run and result.entry is not None:
                    self.app.change_applied.publish(f"{result.entry.title} undone")

            self.app.push_screen(PreviewScreen(result.plan, backend, journal=self.app.journal,
                                               read_only=self.app.settings.read_only, now=self.app.now), done)
            return
        self.notify(result.message, severity="error" if result.status == "failed" else "information", timeout=8)
        if result.status == "undone" and result.entry is not None and result.undo_entry is not None:
            self.app.change_applied.publish(f"{result.entry.title} undone")

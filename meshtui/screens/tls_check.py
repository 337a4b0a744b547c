"""`t`: the TLS check screen. A worker runs meshtui.tls.check; the screen shows progress, then a
verdict per workload port; enter shows the evidence and the fix. Reads only (fine in --read-only)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, ProgressBar, Static

from meshtui.model.snapshot import Snapshot
from meshtui.screens.base import MeshScreen
from meshtui.screens.dialog import DialogScreen
from meshtui.text import safe_line as printable
from meshtui.tls.certs import CertInfo, span
from meshtui.tls.check import DEFAULT_WINDOW_S, Progress, Scope, TlsSource, run_check
from meshtui.tls.report import (
    MISMATCH,
    NO_DATA,
    NO_TRAFFIC,
    OK,
    PLAINTEXT,
    REJECTING,
    SAFE,
    PortResult,
    TlsReport,
    WorkloadResult,
)
from meshtui.tls.summary import SECURITY_LABEL, cert_cell, clients_cell, sync_cell
from meshtui.tls.verdict import SyncEvidence, build_report

# Theme variable per verdict, and the mark the namespaces and pods panes show (Kiali-like locks).
VERDICT_STYLE = {OK: "mtls-strict", SAFE: "mtls-strict", NO_TRAFFIC: "", NO_DATA: "",
                 PLAINTEXT: "mtls-disabled", REJECTING: "mtls-disabled", MISMATCH: "mtls-disabled"}
VERDICT_MARK = {OK: "🔒", SAFE: "🔒", NO_TRAFFIC: "·", NO_DATA: "?", PLAINTEXT: "🔓", REJECTING: "⛔",
                MISMATCH: "≠"}
PARTIAL_EVERY_S = 0.25


def verdict_text(verdict: str, palette: Mapping[str, str], *, mark: bool = False) -> Text:
    style = palette.get(VERDICT_STYLE.get(verdict, ""), "") if VERDICT_STYLE.get(verdict) else "dim"
    return Text(VERDICT_MARK.get(verdict, "?") if mark else verdict, style=style)


def _row_key(w: WorkloadResult, p: PortResult) -> str:
    return f"{w.namespace}/{w.workload}/{p.port}"


def _cert_line(cert: CertInfo) -> str:
    line = f"  {cert.pod}: {cert.status}  {cert.spiffe_id or '-'}"
    if cert.not_before:
        line += f"  not before {cert.not_before:%Y-%m-%d %H:%M}"
    if cert.not_after:
        line += f"  expires {cert.not_after:%Y-%m-%d %H:%M} ({span(cert.seconds_left)} left)"
    if cert.root_not_after:
        line += f"  root expires {cert.root_not_after:%Y-%m-%d}"
    return line


def evidence_view(report: TlsReport, w: WorkloadResult, p: PortResult, palette: Mapping[str, str]) -> RenderableType:
    """Everything the verdict rests on, each with its source; pod-supplied text made printable."""
    parts: list[RenderableType] = []
    head = Text(f"{w.namespace}/{w.workload} port {p.port or '?'}  ", style="bold")
    head.append_text(verdict_text(p.verdict, palette))
    head.append(f"  mode {p.mode} (policy engine)")
    parts += [head, Text(printable(p.why))]
    if p.fix:
        parts.append(Text(printable(f"fix: {p.fix}"), style="bold"))
    parts += [Text(""), Text(f"Callers — metrics sampled {report.window_s:g}s apart (counters since each proxy "
                             "started, rate over the window); access log of the window", style="bold")]
    if not p.clients:
        parts.append(Text("  none seen", style="dim"))
    for c in p.clients:
        rate = f"{c.rate_per_s:.2f}/s" if c.rate_per_s else "no new requests"
        refused = f", {c.rejected} refused" if c.rejected else ""
        line = f"  {c.name}  {SECURITY_LABEL[c.security]}  {c.requests + c.connections} ({rate}{refused}) " \
               f"from {c.evidence}"
        if c.principal:
            line += f"  {c.principal}"
        parts.append(Text(printable(line)))
        parts += [Text(printable(f"      {raw}"), style="dim") for raw in c.lines]
    if w.ztunnels:
        parts += [Text(""), Text(printable(f"Ambient: connections counted by ztunnel ({', '.join(w.ztunnels)}) per "
                                           "workload on its node; no sidecar, so no certificate or sync to read"),
                                 style="bold")]
    parts += [Text(""), Text("Certificates — Envoy /certs (pilot-agent request GET certs)", style="bold")]
    if not w.certs:
        parts.append(Text("  not read (see errors)", style="dim"))
    for cert in w.certs:
        parts.append(Text(printable(_cert_line(cert))))
        if cert.detail:
            parts.append(Text(printable(f"      {cert.detail}"), style="dim"))
    parts += [Text(""), Text("Config sync — istiod /debug/syncz", style="bold")]
    for s in w.sync:
        detail = f"  {s.detail}" if s.detail else ""
        parts.append(Text(printable(f"  {s.proxy}: {s.status}  {s.proxy_version}{detail}")))
    errors = [e for e in report.errors if e.pod.split("/", 1)[-1] in w.pods and e.pod.startswith(w.namespace + "/")]
    if errors:
        parts += [Text(""), Text("Could not read", style="bold")]
        parts += [Text(printable(f"  {e.pod}: {e.message}")) for e in errors]
    return Group(*parts)


# The long clients cell goes last, so certificate and sync stay in view on a 120-column terminal.
COLUMNS = ("WORKLOAD", "PORT", "VERDICT", "MODE", "CERT", "SYNC", "CLIENTS")


class EvidenceScreen(DialogScreen):
    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(self.body, id="tls-evidence")


class TlsCheckScreen(MeshScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Cancel / close", id="tls.close"),
        Binding("enter", "evidence", "Evidence", id="tls.evidence"),
    ]

    DEFAULT_CSS = """
    TlsCheckScreen #tls-title { height: 1; padding: 0 1; text-style: bold; }
    TlsCheckScreen #tls-progress-row { height: 1; padding: 0 1; }
    TlsCheckScreen #tls-progress-row ProgressBar { width: 40; }
    TlsCheckScreen #tls-status { width: 1fr; padding: 0 1; }
    TlsCheckScreen #tls-table { height: 1fr; }
    """

    def __init__(self, backend: TlsSource, snapshot: Snapshot, scope: Scope, *, window_s: float = DEFAULT_WINDOW_S,
                 on_done: Callable[[TlsReport], None] | None = None) -> None:
        super().__init__()
        self._backend = backend
        self.snapshot = snapshot
        self.scope = scope
        self.window_s = window_s
        self.on_done = on_done
        self.cancel = threading.Event()
        self.report: TlsReport | None = None
        self.partial_report: TlsReport | None = None
        self.running = True
        self._rows: dict[str, tuple[WorkloadResult, PortResult]] = {}
        self._last_partial = 0.0
        self.table: DataTable[Text | str] = DataTable(cursor_type="row", id="tls-table")

    def compose(self) -> ComposeResult:
        yield Static(f"TLS check · {self.scope.describe()} · metrics {self.window_s:g}s apart, access log, "
                     "/certs, istiod syncz", id="tls-title")
        with Horizontal(id="tls-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="tls-progress")
            yield Static("starting…", id="tls-status")
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        self.run_check_worker()

    @work(thread=True, exclusive=True, group="tls-check", exit_on_error=False)
    def run_check_worker(self) -> None:
        report = run_check(self._backend, self.snapshot, self.scope, window_s=self.window_s, cancel=self.cancel,
                           now=self.app.now, progress=lambda p: self.app.call_from_thread(self._progress, p))
        self.app.call_from_thread(self._finished, report)

    # -- worker results ---------------------------------------------------------------------------
    def _progress(self, p: Progress) -> None:
        if not self.is_attached:
            return
        bar = self.query_one("#tls-progress", ProgressBar)
        bar.update(total=max(p.total, 1), progress=p.done)
        self.query_one("#tls-status", Static).update(f"{p.done}/{p.total} pods · {p.phase}")
        now = time.monotonic()
        if p.evidence and now - self._last_partial >= PARTIAL_EVERY_S:
            self._last_partial = now
            partial = build_report(self.snapshot, self.scope.pods(self.snapshot), p.evidence, SyncEvidence({}),
                                   window_s=self.window_s, started=self.app.now(), now=self.app.now())
            self._show(partial)

    def _finished(self, report: TlsReport) -> None:
        self.running = False
        self.report = report
        if self.on_done is not None:
            self.on_done(report)
        if not self.is_attached:
            return
        bar = self.query_one("#tls-progress", ProgressBar)
        bar.update(total=max(report.pods_total, 1), progress=report.pods_done)
        state = "cancelled" if report.cancelled else "done"
        errors = f" · {len(report.errors)} read errors" if report.errors else ""
        self.query_one("#tls-status", Static).update(
            f"{report.pods_done}/{report.pods_total} pods · {state}{errors} · enter: evidence and fix")
        self._show(report)

    def _show(self, report: TlsReport) -> None:
        palette = self.app.theme_variables
        self._rows = {}
        keep = self.table.cursor_row
        rows: list[tuple[str, list[Text | str]]] = []
        for w in report.workloads:
            for p in w.ports:
                key = _row_key(w, p)
                self._rows[key] = (w, p)
                rows.append((key, [printable(f"{w.namespace}/{w.workload}"), str(p.port or "?"),
                                   verdict_text(p.verdict, palette), p.mode, cert_cell(w), sync_cell(w),
                                   printable(clients_cell(p))]))
        # Widths set here from the cells: DataTable measures new rows only when its own message
        # queue goes idle, and a table filled from another widget's handler could keep the widths of
        # the bare column labels, its cells cut to a few letters.
        self.table.clear(columns=True)
        for i, label in enumerate(COLUMNS):
            width = max([len(label)] + [c.cell_len if isinstance(c, Text) else len(c) for _, cells in rows
                                        for c in cells[i:i + 1]])
            self.table.add_column(label, width=width)
        for key, cells in rows:
            self.table.add_row(*cells, key=key)
        if self.table.row_count:
            self.table.move_cursor(row=min(keep, self.table.row_count - 1), animate=False)
        self.partial_report = report

    # -- actions ----------------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.running:
            self.cancel.set()
            self.query_one("#tls-status", Static).update("cancelling…")
            return
        self.app.pop_screen()

    def action_evidence(self) -> None:
        report = self.report or self.partial_report
        if report is None or not self.table.row_count:
            return
        key = self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
        found = self._rows.get(key or "")
        if found is None:
            return
        w, p = found
        self.app.push_screen(EvidenceScreen(f"Evidence  {w.namespace}/{w.workload}:{p.port or '?'}",
                                            evidence_view(report, w, p, self.app.theme_variables)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_evidence()

    def on_unmount(self) -> None:
        self.cancel.set()

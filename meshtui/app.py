"""The Textual App: backend and settings injected; themes and keymap applied; the sync worker.

The only place that calls the backend for cluster state is the ``sync`` thread worker below: it
lists, then watches, and posts each new snapshot with its engine report as a message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.timer import Timer

from meshtui.backend.base import (
    SKIPPED_STATUS,
    Access,
    Backend,
    BackendError,
    ClusterInfo,
    mutating_permissions,
)
from meshtui.change.journal import Journal, JournalUnusable, default_journal_path
from meshtui.config import Settings
from meshtui.keymap import Keymap
from meshtui.messages import ClusterLoaded, ConnectionState, PermissionsChecked
from meshtui.model.snapshot import ChangeEvent, Snapshot
from meshtui.policy.report import MeshReport
from meshtui.screens.base import RaisesProxyLogLevels, ShowsCluster, ShowsConnection
from meshtui.sync_state import SyncState
from meshtui.text import safe_line, safe_text
from meshtui.theming import (
    DEFAULT_THEME,
    MESHTUI_VARIABLES_DARK,
    MESHTUI_VARIABLES_LIGHT,
    bundled_themes,
    resolve_theme,
)

if TYPE_CHECKING:
    from meshtui.tls.report import TlsReport

# Binding ids the palette leaves out: moving a cursor is not an action to look up by name.
PALETTE_HIDDEN = ("nav.", "logs.cursor_", "logs.page_", "logs.first", "dialog.close")


# Redrawing the screens for a cluster update takes at most this share of the UI thread, and an update
# waits no longer than RENDER_INTERVAL_MAX to be shown.
RENDER_SHARE = 0.1
RENDER_INTERVAL_MAX = 1.0
# How long a staged load waits for the first screen to paint before streaming the rest.
FIRST_PAINT_WAIT = 2.0


def _skipped_notice(skipped: tuple[str, ...]) -> str:
    first = skipped[0] if len(skipped) == 1 else f"{len(skipped)} malformed objects, first {skipped[0]}"
    return f"{SKIPPED_STATUS}{first}"



class MeshApp(App[int]):
    CSS_PATH = "meshtui.tcss"
    TITLE = "meshtui"

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # On call ctrl+c must end meshtui at once, even from a text field (Textual's only explains ctrl+q).
        Binding("ctrl+c", "quit", "Quit", show=False, id="app.interrupt", priority=True),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Palette", show=False, id="app.palette"),
        Binding("T", "cycle_theme", "Theme", show=False, id="app.theme"),
        Binding("c", "switch_context", "Context", show=False, id="app.context"),
    ]

    def __init__(
        self,
        backend: Backend | None,
        settings: Settings,
        *,
        keymap: Keymap | None = None,
        initial_screen: Screen[Any] | None = None,
        notices: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
        journal_path: Path | None = None,
    ) -> None:
        super().__init__()
        # None only when viewing a saved log file: no cluster is involved then.
        self.backend = backend
        self.settings = settings
        self.keymap_config = keymap
        self.initial_screen = initial_screen
        self.startup_notices = list(notices)
        # Ages on screen are computed against this; tests pin it for stable snapshots.
        self.now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.info: ClusterInfo = ClusterInfo(context=backend.context if backend else "file")
        self.snapshot: Snapshot | None = None
        self.report: MeshReport | None = None
        self.access: dict[str, Access] = {}
        # The last TLS check: its verdicts mark the panes, and change previews use its evidence.
        self.tls_report: TlsReport | None = None
        self.tls_checked_at: datetime | None = None
        self.connection_state = "connecting"
        self._stop_sync = threading.Event()
        # The sync worker and namespace fetches advance one snapshot and report (a new one per sync).
        self.cluster = SyncState()
        # Set once the first snapshot is on screen: the cluster-wide lists wait for it.
        self._painted = threading.Event()
        self._rendered_at = 0.0
        self._render_cost = 0.0
        self._render_timer: Timer | None = None
        self.journal = Journal(journal_path or default_journal_path())
        # "TITLE applied" / "TITLE undone" after meshtui changed the cluster: open log streams mark it.
        self.change_applied: Signal[str] = Signal(self, "change-applied")
        if backend is not None:
            try:
                self.journal.check_writable()
            except JournalUnusable as exc:
                # Changes that cannot be journaled could not be undone: offer none.
                self.settings = replace(settings, read_only=True)
                self.startup_notices.append(f"{exc}; meshtui runs read-only")
        for bundled in bundled_themes():
            self.register_theme(bundled)
        theme, problem = resolve_theme(settings.theme, dict(self.available_themes))
        if theme is not None and theme.name not in self.available_themes:
            self.register_theme(theme)
        if problem:
            self.startup_notices.append(problem)
        self.theme = theme.name if theme else DEFAULT_THEME

    # -- set-up ---------------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Any theme (Textual's built-ins too, via the palette) gets meshtui's colour variables.
        dark = self.current_theme.dark if self._registered_themes else True
        return dict(MESHTUI_VARIABLES_DARK if dark else MESHTUI_VARIABLES_LIGHT)

    async def on_mount(self) -> None:
        if self.keymap_config is not None:
            self.set_keymap(self.keymap_config.bindings)
        if self.initial_screen is not None:
            await self.push_screen(self.initial_screen)
        else:
            from meshtui.screens.main import MainScreen

            # The first lists travel while the screen is composed and styled; it takes the snapshot
            # on mount if the load was quicker.
            self.start_sync()
            await self.push_screen(MainScreen())
        # After the push: toasts belong to the screen they are raised on.
        problems = self.keymap_config.problems if self.keymap_config is not None else ()
        for problem in problems:
            self.notify(problem + "; using the default keys", title="keymap", severity="warning", timeout=10)
        for notice in self.startup_notices:
            self.notify(notice, severity="warning", timeout=10)

    def start_sync(self) -> None:
        if self.backend is None:
            return
        self._stop_sync.set()
        self._stop_sync = threading.Event()
        self.cluster = SyncState()
        self._painted = threading.Event()
        self.sync(self._stop_sync, self.cluster)

    def _post(self, stop: threading.Event, info: ClusterInfo, state: tuple[Snapshot, MeshReport] | None) -> None:
        if state is not None and not stop.is_set():
            self.post_message(ClusterLoaded(info, *state))

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync(self, stop: threading.Event, cluster: SyncState) -> None:
        """List (namespace first: see Backend.load), then watch, posting every new snapshot.
        ``cluster`` is this sync's own state: a worker still stopping after a context switch never
        touches the next one's."""
        backend = self.backend
        assert backend is not None
        root = self.settings.root_namespace
        chosen: list[str] = []

        def first(names: list[str]) -> str | None:
            # The main screen opens on the first namespace by name.
            chosen.extend(names[:1])
            return names[0] if names else None

        try:
            info = backend.connect()
            for step in backend.load(first, root):
                if stop.is_set():
                    return
                if step.complete is not None:
                    final = step.complete.with_mesh(replace(step.complete.mesh, root_namespace=root))
                    self._post(stop, info, cluster.complete(final))
                    if final.skipped:
                        self.post_message(ConnectionState(_skipped_notice(final.skipped)))
                    break
                if step.mesh is not None:
                    snap = Snapshot.build(step.objects, replace(step.mesh, root_namespace=root))
                    # Objects first, modes a moment later: a big namespace shows before it is evaluated.
                    self.post_message(ClusterLoaded(info, snap, None))
                    self._post(stop, info, cluster.start(snap, chosen))
                    # The cluster-wide lists decode on threads that share the GIL with the UI: let the
                    # first screen paint before they (and the permission checks) start.
                    self._painted.wait(FIRST_PAINT_WAIT)
                    self.check_permissions(info)
                else:
                    self._post(stop, info, cluster.add(step.objects))
                total = f" / ~{step.pods_total:,}" if step.pods_total else ""
                self.post_message(ConnectionState(f"loading: pods {step.pods:,}{total}"))
        except BackendError as exc:
            self.post_message(ConnectionState(f"error: {exc}", error=True))
            return

        def emit(events: list[ChangeEvent]) -> None:
            self._post(stop, info, cluster.apply(events))

        def status(state: str) -> None:
            if not stop.is_set():
                self.post_message(ConnectionState(state))

        self.post_message(ConnectionState("watching"))
        try:
            backend.watch(emit, stop, status)
        except BackendError as exc:
            self.post_message(ConnectionState(f"watch stopped: {exc}", error=True))

    def ensure_namespace(self, namespace: str) -> None:
        """Show a namespace the staged load has not reached yet: fetch it first."""
        if self.cluster.claim(namespace):
            self.fetch_namespace(namespace, self.info, self.cluster, self._stop_sync)

    @work(thread=True, group="namespace", exit_on_error=False)
    def fetch_namespace(self, namespace: str, info: ClusterInfo, cluster: SyncState, stop: threading.Event) -> None:
        assert self.backend is not None
        try:
            objects = self.backend.namespace_objects(namespace)
        except BackendError as exc:
            self.post_message(ConnectionState(f"namespace {namespace}: {exc}", error=True))
            return
        self._post(stop, info, cluster.add(objects))

    @work(thread=True, group="rbac", exit_on_error=False)
    def check_permissions(self, info: ClusterInfo) -> None:
        assert self.backend is not None
        access: dict[str, Access] = {}
        for verb, resource, group in mutating_permissions():
            try:
                access[f"{verb} {resource}"] = self.backend.can_i(verb, resource, group, info.namespace or "")
            except BackendError as exc:
                access[f"{verb} {resource}"] = Access(False, f"cannot check access: {exc}")
        self.post_message(PermissionsChecked(access))

    # -- messages from workers ----------------------------------------------------------------
    def on_cluster_loaded(self, message: ClusterLoaded) -> None:
        if not self.is_running:
            return  # shutting down: a load or watch step still in the queue finds the screens' widgets gone
        self.info = message.info
        self.snapshot = message.snapshot
        self.report = message.report
        if not self._painted.is_set():
            # After the frame that shows it: the cluster-wide lists and the exec API import that follow
            # would otherwise share the GIL with the first paint.
            self.call_after_refresh(self._painted.set)
        # Redrawing the tables of a big cluster costs the UI thread tens of milliseconds: updates that
        # come faster than that are shown together, so keys do not queue behind redraws.
        interval = min(RENDER_INTERVAL_MAX, self._render_cost / RENDER_SHARE)
        wait = self._rendered_at + interval - time.monotonic()
        if wait <= 0:
            self._render_cluster()
        elif self._render_timer is None:
            self._render_timer = self.set_timer(wait, self._render_cluster)

    def _render_cluster(self) -> None:
        self._render_timer = None
        snapshot, report = self.snapshot, self.report
        if snapshot is None or not self.is_running:
            return
        started = time.monotonic()
        try:
            self._update_screens(snapshot, report)
        finally:
            self._rendered_at = time.monotonic()
            self._render_cost = self._rendered_at - started

    def _update_screens(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        for screen in self.screen_stack:
            # Screens take what they need: the main screen the report, a rollout the snapshot,
            # a log view the pods that came or went.
            if not isinstance(screen, ShowsCluster):
                continue
            try:
                screen.update_cluster(snapshot, report)
            except NoMatches:
                # A watch batch that lands while the app closes finds the screens' widgets gone.
                return

    def on_connection_state(self, message: ConnectionState) -> None:
        if message.state.startswith(SKIPPED_STATUS):
            self.notify(message.state, title="malformed objects", severity="warning", timeout=15)
            return
        self.connection_state = message.state
        if message.error:
            self.notify(message.state, severity="error", timeout=15)
        for screen in self.screen_stack:
            if isinstance(screen, ShowsConnection):
                screen.refresh_header()

    def on_permissions_checked(self, message: PermissionsChecked) -> None:
        self.access = message.access
        if self.screen_stack:  # the answer may arrive while the app is closing
            self.refresh_bindings()

    # -- permissions ------------------------------------------------------------------------------
    def denied_reason(self, *needs: str) -> str | None:
        """Why an action needing these "verb resource" permissions may not run, or None."""
        if self.settings.read_only:
            return "read-only mode"
        for need in needs:
            access = self.access.get(need)
            if access is not None and not access.allowed:
                return access.reason or f"RBAC: cannot {need}"
        return None

    def connected_backend(self) -> Backend | None:
        """The cluster's backend; None, and the operator told so, when this app has none (opened on a saved
        log, or built without one)."""
        if self.backend is None:
            self.notify("not connected to a cluster", severity="warning", timeout=4)
        return self.backend

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast (screens' and widgets' too) shows names and server messages: no markup, no
        control characters."""
        super().notify(safe_text(message), title=safe_line(title), severity=severity, timeout=timeout, markup=False)

    # -- actions ------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_context":
            return self.backend is not None
        return True

    def action_help(self) -> None:
        from meshtui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_cycle_theme(self) -> None:
        names = [n for n in self.available_themes if n.startswith("meshtui-")]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_switch_context(self) -> None:
        from meshtui.screens.context import ContextScreen

        backend = self.connected_backend()
        if backend is not None:
            self.push_screen(ContextScreen(backend), self._context_chosen)

    def _context_chosen(self, name: object) -> None:
        # A dialog's result is any object: the context list answers with the chosen name, or None.
        if isinstance(name, str) and name and self.backend is not None and name != self.backend.context:
            self.do_switch_context(name)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def do_switch_context(self, name: str) -> None:
        assert self.backend is not None
        self._stop_sync.set()
        try:
            info = self.backend.switch_context(name)
        except BackendError as exc:
            self.post_message(ConnectionState(f"context {name}: {exc}", error=True))
            return
        self.call_from_thread(self.notify, f"switched to context {info.context}", timeout=3)
        self.call_from_thread(self.start_sync)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # meshtui's own actions only: bindings with a meshtui id, minus list-cursor movements
        # (Textual's built-ins such as screenshots or widget internals are not what an operator wants).
        from meshtui.bindings import known_ids

        ours = known_ids()
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id not in ours or binding.id.startswith(PALETTE_HIDDEN) or binding.action in seen \
                    or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            node = active.node
            help_text = f"{binding.id}  [{active.binding.key}]"
            if not active.enabled:
                help_text += "  (disabled)"
            yield SystemCommand(binding.description, help_text,
                                lambda node=node, action=binding.action: self.run_action(action, node))
        for name in sorted(n for n in self.available_themes if n.startswith("meshtui-")):
            yield SystemCommand(f"Theme: {name}", "switch theme", lambda name=name: setattr(self, "theme", name))

    def shutdown(self) -> None:
        """Stop background work and put back anything meshtui changed on the proxies, then close the
        backend so a worker still connecting, listing or waiting on a credential plugin ends at once."""
        self._stop_sync.set()
        for screen in self.screen_stack:
            if isinstance(screen, RaisesProxyLogLevels):
                screen.restore_log_levels()
        if self.backend is not None:
            self.backend.close()

    async def action_quit(self) -> None:
        self.shutdown()
        self.exit(0)

    def on_unmount(self) -> None:
        # However the app ends, the watch thread must return or interpreter exit waits on it.
        self._stop_sync.set()

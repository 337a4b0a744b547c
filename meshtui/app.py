"""The Textual App: backend and settings injected; themes and keymap applied; the sync worker.

The only place that calls the backend for cluster state is the ``sync`` thread worker below: it
lists, then watches, and posts each new snapshot with its engine report as a message.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal

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
from meshtui.policy.engine import MeshReport
from meshtui.policy.evaluate import evaluate
from meshtui.screens.base import RaisesProxyLogLevels, ShowsCluster, ShowsConnection
from meshtui.text import safe_line, safe_text
from meshtui.theming import (
    DEFAULT_THEME,
    MESHTUI_VARIABLES_DARK,
    MESHTUI_VARIABLES_LIGHT,
    bundled_themes,
    resolve_theme,
)
from meshtui.tls.report import TlsReport

# Binding ids the palette leaves out: moving a cursor is not an action to look up by name.
PALETTE_HIDDEN = ("nav.", "logs.cursor_", "logs.page_", "logs.first", "dialog.close")


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
        initial_screen: Screen | None = None,
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
        for theme in bundled_themes():
            self.register_theme(theme)
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

            await self.push_screen(MainScreen())
            self.start_sync()
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
        self.sync(self._stop_sync)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync(self, stop: threading.Event) -> None:
        backend = self.backend
        assert backend is not None
        try:
            info = backend.connect()
            snap = backend.snapshot()
        except BackendError as exc:
            self.post_message(ConnectionState(f"error: {exc}", error=True))
            return
        snap = snap.with_mesh(replace(snap.mesh, root_namespace=self.settings.root_namespace))
        if snap.skipped:
            self.post_message(ConnectionState(_skipped_notice(snap.skipped)))
        self.post_message(ClusterLoaded(info, snap, None))
        self.post_message(ClusterLoaded(info, snap, evaluate(snap)))
        self.check_permissions(info)

        def emit(events: list[ChangeEvent]) -> None:
            nonlocal snap
            if stop.is_set():
                return
            snap = snap.apply(events)
            self.post_message(ClusterLoaded(info, snap, evaluate(snap)))

        def status(state: str) -> None:
            if not stop.is_set():
                self.post_message(ConnectionState(state))

        self.post_message(ConnectionState("watching"))
        try:
            backend.watch(emit, stop, status)
        except BackendError as exc:
            self.post_message(ConnectionState(f"watch stopped: {exc}", error=True))

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
        self.info = message.info
        self.snapshot = message.snapshot
        self.report = message.report
        for screen in self.screen_stack:
            # Screens take what they need: the main screen the report, a rollout the snapshot,
            # a log view the pods that came or went.
            if not isinstance(screen, ShowsCluster):
                continue
            try:
                screen.update_cluster(message.snapshot, message.report)
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

        self.push_screen(ContextScreen(), self._context_chosen)

    def _context_chosen(self, name: str | None) -> None:
        if name and self.backend is not None and name != self.backend.context:
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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
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

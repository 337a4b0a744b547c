"""The Textual App: backend and settings injected; themes and keymap applied; the sync worker.

The only place that calls the backend for cluster state is the ``sync`` thread worker below: it
lists, then watches, and posts each new snapshot with its engine report as a message.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from meshtui.backend.base import Access, Backend, BackendError, ClusterInfo, mutating_permissions
from meshtui.change.journal import Journal, default_journal_path
from meshtui.config import Settings
from meshtui.keymap import Keymap
from meshtui.messages import ClusterLoaded, ConnectionState, PermissionsChecked
from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot
from meshtui.policy.evaluation import evaluate, update
from meshtui.policy.report import MeshReport
from meshtui.theming import (
    DEFAULT_THEME,
    MESHTUI_VARIABLES_DARK,
    MESHTUI_VARIABLES_LIGHT,
    bundled_themes,
    resolve_theme,
)


def journal_path(settings: Settings) -> Path:
    """The demo's simulated cluster is new each run, so its changes never mix with real history."""
    if settings.demo:
        return Path(tempfile.mkdtemp(prefix="meshtui-demo-")) / "journal.jsonl"
    return default_journal_path()


RENDER_INTERVAL = 1.0
# How long a staged load waits for the first screen to paint before streaming the rest.
FIRST_PAINT_WAIT = 2.0


class MeshApp(App[int]):
    CSS_PATH = "meshtui.tcss"
    TITLE = "meshtui"

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
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
        self.connection_state = "connecting"
        self._stop_sync = threading.Event()
        # The sync worker, namespace fetches and watch batches all advance one (snapshot, report).
        self._sync_lock = threading.Lock()
        self._synced: tuple[Snapshot, MeshReport] | None = None
        self._loaded_namespaces: set[str] = set()
        self._fully_loaded = False
        self._painted = threading.Event()
        self._rendered_at = 0.0
        self._render_timer: Timer | None = None
        self.journal = Journal(journal_path(settings))
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
        with self._sync_lock:
            self._synced = None
            self._loaded_namespaces = set()
            self._fully_loaded = False
        self._painted = threading.Event()
        self.sync(self._stop_sync)

    def _advance(self, stop: threading.Event, snapshot: Snapshot, events: list[ChangeEvent] | None) -> None:
        """Make ``snapshot`` current and post it with its report; ``events`` (what changed since the
        current snapshot) let the engine re-evaluate only what they touch; None evaluates it all."""
        with self._sync_lock:
            if stop.is_set():
                return
            if self._synced is None or events is None:
                report = evaluate(snapshot)
            else:
                report = update(*self._synced, snapshot, events)
            self._synced = (snapshot, report)
            self.post_message(ClusterLoaded(self.info, snapshot, report))

    def _add(self, stop: threading.Event, objects: Sequence[ModelObject]) -> None:
        with self._sync_lock:
            if self._synced is None or not objects:
                return
            events = [ChangeEvent("ADDED", obj) for obj in objects]
            snapshot = self._synced[0].apply(events)
        self._advance(stop, snapshot, events)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync(self, stop: threading.Event) -> None:
        """List (namespace first: see Backend.load), then watch, posting every new snapshot."""
        backend = self.backend
        assert backend is not None
        root = self.settings.root_namespace

        def first(names: list[str]) -> str | None:
            # The main screen opens on the first namespace by name.
            chosen = names[0] if names else None
            with self._sync_lock:
                self._loaded_namespaces.add(chosen or "")
            return chosen

        try:
            self.info = backend.connect()
            for step in backend.load(first, root):
                if stop.is_set():
                    return
                if step.complete is not None:
                    final = step.complete.with_mesh(replace(step.complete.mesh, root_namespace=root))
                    with self._sync_lock:
                        current = self._synced[0] if self._synced is not None else None
                        self._fully_loaded = True
                    self._advance(stop, final, current.changes_to(final) if current is not None else None)
                elif step.mesh is not None:
                    snap = Snapshot.build(step.objects, replace(step.mesh, root_namespace=root))
                    # Objects first, modes a moment later: a big namespace shows before it is evaluated.
                    self.post_message(ClusterLoaded(self.info, snap, None))
                    self._advance(stop, snap, None)
                    self.check_permissions(self.info)
                    # The cluster-wide lists decode on a dozen threads that share the GIL with the
                    # UI: let the first screen paint before they start.
                    self._painted.wait(FIRST_PAINT_WAIT)
                else:
                    self._add(stop, step.objects)
                if not step.complete:
                    total = f" / ~{step.pods_total:,}" if step.pods_total else ""
                    self.post_message(ConnectionState(f"loading: pods {step.pods:,}{total}"))
        except BackendError as exc:
            self.post_message(ConnectionState(f"error: {exc}", error=True))
            return

        def emit(events: list[ChangeEvent]) -> None:
            with self._sync_lock:
                if self._synced is None:
                    return
                snapshot = self._synced[0].apply(events)
            self._advance(stop, snapshot, events)

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
        with self._sync_lock:
            if self._fully_loaded or self._synced is None or namespace in self._loaded_namespaces:
                return
            self._loaded_namespaces.add(namespace)
        self.fetch_namespace(namespace, self._stop_sync)

    @work(thread=True, group="namespace", exit_on_error=False)
    def fetch_namespace(self, namespace: str, stop: threading.Event) -> None:
        assert self.backend is not None
        try:
            objects = self.backend.namespace_objects(namespace)
        except BackendError as exc:
            self.post_message(ConnectionState(f"namespace {namespace}: {exc}", error=True))
            return
        self._add(stop, objects)

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
            # After the messages the screens queue while taking this snapshot.
            self.call_later(self._painted.set)
        # Redrawing the tables costs the UI thread tens of milliseconds: a busy cluster is shown at
        # most once per RENDER_INTERVAL, so keys do not queue behind redraws.
        wait = self._rendered_at + RENDER_INTERVAL - time.monotonic()
        if wait <= 0:
            self._render_cluster()
        elif self._render_timer is None:
            self._render_timer = self.set_timer(wait, self._render_cluster)

    def _render_cluster(self) -> None:
        self._render_timer = None
        self._rendered_at = time.monotonic()
        snapshot, report = self.snapshot, self.report
        if snapshot is None or not self.is_running:
            return
        for screen in self.screen_stack:
            # Screens take what they need: the main screen the report, a rollout the snapshot,
            # a log view the pods that came or went.
            if hasattr(screen, "update_cluster"):
                screen.update_cluster(snapshot, report)
            if hasattr(screen, "update_snapshot"):
                screen.update_snapshot(snapshot)
            if hasattr(screen, "refresh_targets"):
                screen.refresh_targets()

    def on_connection_state(self, message: ConnectionState) -> None:
        self.connection_state = message.state
        if message.error:
            self.notify(message.state, severity="error", timeout=15)
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_header", None)
            if refresh is not None:
                refresh()

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
        yield from super().get_system_commands(screen)
        # Every binding of the current screen and app is reachable from the palette.
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.action in seen or not binding.description or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            node = active.node
            help_text = f"{binding.id or binding.action}  [{active.binding.key}]"
            if not active.enabled:
                help_text += "  (disabled)"
            yield SystemCommand(binding.description, help_text,
                                lambda node=node, action=binding.action: self.run_action(action, node))
        for name in sorted(n for n in self.available_themes if n.startswith("meshtui-")):
            yield SystemCommand(f"Theme: {name}", "switch theme", lambda name=name: setattr(self, "theme", name))

    def shutdown(self) -> None:
        """Stop background work and put back anything meshtui changed on the proxies."""
        self._stop_sync.set()
        for screen in self.screen_stack:
            restore = getattr(screen, "restore_log_levels", None)
            if restore is not None:
                restore()

    async def action_quit(self) -> None:
        self.shutdown()
        self.exit(0)

    def on_unmount(self) -> None:
        # However the app ends, the watch thread must return or interpreter exit waits on it.
        self._stop_sync.set()

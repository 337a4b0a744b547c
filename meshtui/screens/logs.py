"""The full-screen istio-proxy log viewer: one pod, a workload's pods or a namespace, or a file.

Lines come from a :class:`LogTail` (its threads call the backend) and reach the UI thread through
``call_from_thread``, which blocks the tail's dispatcher until the batch is shown: that is the
back-pressure that lets a flood of lines drop old undelivered lines instead of freezing keys.
Proxy log-level changes run in thread workers and report back with messages.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, ClassVar, Iterable

import msgspec
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Input

from meshtui.backend.base import Backend, BackendError, LogOptions
from meshtui.backend.log_tail import LogTail
from meshtui.backend.proxy_levels import raise_levels, restore_levels
from meshtui.config import Settings
from meshtui.idle_gc import IdleCollector
from meshtui.logs.batch import Batch, Target
from meshtui.logs.buffer import LogBuffer, LogEntry, LogFilter, Search, parse_filter
from meshtui.logs.record import LogRecord
from meshtui.logs.saved import MARKER_POD, change_marker, read_line, saved_line
from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import MeshReport
from meshtui.screens.base import MeshScreen
from meshtui.screens.delivery import deliver
from meshtui.text import safe_line
from meshtui.widgets.header import StatusHeader
from meshtui.widgets.hosts import PublishesChanges
from meshtui.widgets.log_explain import LogExplain
from meshtui.widgets.log_view import LogView

TargetsProvider = Callable[[], list[Target]]


@dataclass(frozen=True, slots=True)
class Preset:
    label: str
    tail_lines: int | None
    since_seconds: int | None


PRESETS: tuple[Preset, ...] = (
    Preset("last 100 lines", 100, None),
    Preset("last 1000 lines", 1000, None),
    Preset("since 1m", None, 60),
    Preset("since 5m", None, 300),
    Preset("since 15m", None, 900),
    Preset("since 1h", None, 3600),
)

# Raising Envoy's log level is per pod; a namespace of hundreds of pods is not what anyone means.
MAX_LEVEL_PODS = 20
# While lines stream in, full garbage collections run every GC_EVERY seconds when no key came for a
# second (meshtui.idle_gc), not whenever allocation triggers one under a key press.
GC_EVERY = 2.0
# The explain panel shows the line under the cursor once the cursor has rested this long.
EXPLAIN_AFTER = 0.06


def default_save_path(title: str, now: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", title).strip("-") or "logs"
    return f"./meshtui-{safe}-{now.strftime('%Y%m%d-%H%M%S')}.log"


class LogsScreen(MeshScreen[None]):
    """Tails ``targets_provider()`` through ``backend``; ``backend`` None means static lines (a file)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="logs.close"),
        Binding("space", "pause", "Pause", id="logs.pause"),
        Binding("e", "problems", "Problems", id="logs.problems"),
        Binding("f", "filter", "Filter", id="logs.filter"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next", id="logs.next_match"),
        Binding("N", "prev_match", "Prev", show=False, id="logs.prev_match"),
        Binding("p", "preset", "Preset", id="logs.preset"),
        Binding("w", "wrap", "Wrap", id="logs.wrap"),
        Binding("t", "timestamps", "Time", show=False, id="logs.timestamps"),
        Binding("i", "explain", "Explain", show=False, id="logs.explain"),
        Binding("C", "clear", "Clear", show=False, id="logs.clear"),
        Binding("s", "save", "Save", id="logs.save"),
        Binding("y", "copy", "Copy", show=False, id="logs.copy"),
        Binding("Y", "copy_json", "Copy JSON", show=False, id="logs.copy_json"),
        Binding("L", "level", "Debug log", id="logs.level"),
    ]

    DEFAULT_CSS = """
    LogsScreen #logs-header { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    LogsScreen #logs-header.-raised { background: $warning 40%; }
    LogsScreen #logs-body { height: 1fr; }
    LogsScreen LogView { width: 1fr; height: 1fr; }
    LogsScreen #logs-explain-box { width: auto; height: 1fr; }
    LogsScreen #logs-prompt { dock: bottom; display: none; }
    LogsScreen #logs-prompt.-open { display: block; }
    """

    class LevelsRaised(Message):
        def __init__(self, raised: dict[Target, dict[str, str]], errors: list[str]) -> None:
            super().__init__()
            self.raised = raised
            self.errors = errors

    class Loaded(Message):
        def __init__(self, batch: Batch) -> None:
            super().__init__()
            self.batch = batch

    def __init__(self, backend: Backend | None, targets_provider: TargetsProvider, title: str,
                 settings: Settings | None = None, *, lines: Iterable[str] | None = None,
                 source: str = "file", keep: Callable[[str, LogRecord], bool] | None = None) -> None:
        super().__init__()
        # Shared logs (an ambient pod's ztunnel and waypoints): only the lines this view is about.
        self._keep = keep
        self.backend = backend
        self.targets_provider = targets_provider
        self.log_title = title
        self.settings = settings or Settings()
        self.buffer = LogBuffer(self.settings.log_buffer_lines)
        tail_lines = self.settings.log_tail_lines
        self.preset_index = next((i for i, p in enumerate(PRESETS) if p.tail_lines == tail_lines), None)
        self.options = LogOptions(tail_lines=self.settings.log_tail_lines)
        self.paused = False
        self.tail: LogTail | None = None
        self.tail_errors: dict[str, str] = {}
        self._lines = lines
        self._source = source
        # While paused, batches wait here (bounded like the buffer) and count as dropped past that.
        self._held: deque[tuple[str, LogRecord]] = deque(maxlen=self.buffer.capacity)
        self._held_dropped = 0
        self._raised: dict[Target, dict[str, str]] = {}
        self._raised_lock = threading.Lock()
        self._prompt_mode = ""
        self._search: Search | None = None
        self._collector = IdleCollector()
        self._explain_timer: Timer | None = None

    @classmethod
    def from_lines(cls, lines: Iterable[str], title: str, settings: Settings | None = None) -> LogsScreen:
        """A viewer over static lines (a saved log, stdin): no backend, no tail."""
        return cls(None, list, title, settings, lines=lines, source=title)

    @property
    def file_mode(self) -> bool:
        return self.backend is None

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def dropped(self) -> int:
        return (self.tail.dropped if self.tail else 0) + self._held_dropped

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="logs-header")
        with Horizontal(id="logs-body"):
            yield LogView(self.buffer)
            # A container of its own: Textual redraws every widget whose container overlaps a
            # changed region, and the log view changes with each batch of lines.
            with Container(id="logs-explain-box"):
                yield LogExplain(id="logs-explain")
        yield Input(id="logs-prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.log_view.focus()
        if self.file_mode:
            self._load_lines(self._lines or ())
        else:
            self._start_tail()
            self._collector.start()
            self.set_interval(GC_EVERY, self._collector.tick)
            if isinstance(self.app, PublishesChanges):
                self.app.change_applied.subscribe(self, self.mark_change)
        self._update_header()

    def mark_change(self, what: str) -> None:
        """Put a change marker in the stream, so "did it fix it?" is read off the lines around it."""
        self._ingest([(MARKER_POD, change_marker(what, self.app.now()))])

    def on_key(self) -> None:
        self._collector.key()

    def on_unmount(self) -> None:
        self._collector.stop()
        self._stop_tail()
        with self._raised_lock:
            pending = bool(self._raised)
        if pending:
            # The screen's own workers die with it; restoring must outlive the screen.
            self.app.run_worker(self.restore_log_levels, thread=True, group="logs-restore")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "level" and self.settings.read_only:
            return False  # raising a proxy's log level is a write to the proxy
        return not (self.file_mode and action in ("pause", "preset", "level"))

    # -- data in --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="logs-load")
    def _load_lines(self, lines: Iterable[str]) -> None:
        # Only the newest `capacity` lines can be shown, so only those are parsed.
        tail = deque(lines, maxlen=self.buffer.capacity)
        self.post_message(self.Loaded([read_line(line, self._source) for line in tail]))

    def on_logs_screen_loaded(self, message: Loaded) -> None:
        self._ingest(message.batch)

    def _start_tail(self) -> None:
        self._stop_tail()
        assert self.backend is not None
        self.tail_errors.clear()
        self.tail = LogTail(self.backend, self.targets_provider(), self.options, self._on_batch,
                            on_error=self._on_tail_error)
        self.tail.start()

    def _stop_tail(self) -> None:
        if self.tail is not None:
            # No waiting: the dispatcher may be blocked handing a batch to this very thread.
            self.tail.stop(timeout=0)
            self.tail = None

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        """Re-read the targets (the cluster changed): new pods join, deleted pods leave."""
        if self.tail is not None:
            self.tail.set_targets(self.targets_provider())
            self._update_header()

    def _on_batch(self, batch: Batch) -> None:
        # Runs on the tail's dispatcher thread; blocking here until the UI has taken the batch
        # is deliberate (back-pressure).
        if self._keep is not None:
            batch = [(key, record) for key, record in batch if self._keep(key, record)]
            if not batch:
                return
        deliver(self.app, self._ingest, batch)

    def _on_tail_error(self, pod: str, message: str) -> None:
        deliver(self.app, self._tail_error, pod, message)

    def _tail_error(self, pod: str, message: str) -> None:
        self.tail_errors[pod] = message
        self.notify(f"{pod}: {message}", title="logs", severity="error")
        self._update_header()

    def _ingest(self, batch: Batch) -> None:
        if not self.is_mounted:
            return
        if self.paused:
            overflow = len(self._held) + len(batch) - (self._held.maxlen or 0)
            self._held_dropped += max(0, overflow)
            self._held.extend(batch)
        else:
            self.buffer.extend(batch)
            self.log_view.sync()
        self._update_header()

    # -- header ---------------------------------------------------------------------------------

    def _update_header(self) -> None:
        # What changes what the user sees comes first: at 80 columns the end of the line is cut off.
        parts = [f"Logs · {self.log_title}"]
        with self._raised_lock:
            raised = len(self._raised)
            loggers = sorted({name for levels in self._raised.values() for name in levels})
        if raised:
            plural = "s" if raised != 1 else ""
            parts.append(f"LOG LEVEL RAISED ({','.join(loggers)}=debug on {raised} pod{plural})")
        if not self.file_mode:
            parts.append("PAUSED" if self.paused else "following" if self.log_view.follow else "scrolled")
        spec = self.log_view.view.filter.spec()
        if spec:
            parts.append(f"filter: {spec}")
        if self._search is not None:
            parts.append(f"search: /{self._search.pattern}/")
        if self.dropped:
            parts.append(f"{self.dropped} lines dropped")
        if self.file_mode:
            parts.append(f"{len(self.buffer)} lines")
        else:
            count = len(self.tail.targets) if self.tail else 0
            parts.append(f"{count} pod{'s' if count != 1 else ''}")
            parts.append(PRESETS[self.preset_index].label if self.preset_index is not None else
                         f"last {self.options.tail_lines} lines")
        header = self.query_one("#logs-header", StatusHeader)
        header.show(Text(safe_line(" · ".join(parts))))
        header.set_class(bool(raised), "-raised")

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        self._update_header()

    def on_log_view_selected(self, message: LogView.Selected) -> None:
        # The panel follows the cursor once it rests: each update lays the screen out again, and a
        # held key would pay that on every step (and the next key would wait for it).
        if self._explain_timer is not None:
            self._explain_timer.stop()
        entry, view = message.entry, message.log_view
        self._explain_timer = self.set_timer(EXPLAIN_AFTER, lambda: self._explain(entry, view))

    def _explain(self, entry: LogEntry, view: LogView) -> None:
        self._explain_timer = None
        self.query_one(LogExplain).show(entry, view.resolve_client(entry))

    # -- actions --------------------------------------------------------------------------------

    def action_close(self) -> None:
        if self.query_one("#logs-prompt", Input).has_class("-open"):
            self._close_prompt()
            return
        self.dismiss(None)

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self._held:
            held = list(self._held)
            self._held.clear()
            self.buffer.extend(held)
            self.log_view.sync()
        self._update_header()

    def action_problems(self) -> None:
        current = self.log_view.view.filter
        self._set_filter(replace(current, problems_only=not current.problems_only))

    def action_filter(self) -> None:
        self._open_prompt("filter", self.log_view.view.filter.spec(),
                          "filter: problems 4xx,5xx in|out UF,UC upstream:TEXT pod:TEXT (empty clears)")

    def action_search(self) -> None:
        self._open_prompt("search", self._search.pattern if self._search else "", "search (regex)")

    def action_next_match(self) -> None:
        self._jump(forward=True)

    def action_prev_match(self) -> None:
        self._jump(forward=False)

    def action_preset(self) -> None:
        self.preset_index = 0 if self.preset_index is None else (self.preset_index + 1) % len(PRESETS)
        preset = PRESETS[self.preset_index]
        self.options = LogOptions(tail_lines=preset.tail_lines, since_seconds=preset.since_seconds)
        self.log_view.clear()
        self._held.clear()
        self._start_tail()
        self.notify(f"Tail restarted: {preset.label}", title="logs")
        self._update_header()

    def action_wrap(self) -> None:
        self.log_view.wrap = not self.log_view.wrap

    def action_timestamps(self) -> None:
        self.log_view.show_time = not self.log_view.show_time

    def action_explain(self) -> None:
        box = self.query_one("#logs-explain-box")
        box.display = not box.display

    def action_clear(self) -> None:
        self.log_view.clear()
        self._held.clear()
        self.query_one(LogExplain).show(None)
        self._update_header()

    def action_save(self) -> None:
        self._open_prompt("save", default_save_path(self.log_title, datetime.now()), "save filtered lines to")

    def action_copy(self) -> None:
        entry = self.log_view.selected
        if entry is None:
            self.notify("Select a line first (↑/↓ or click)", title="copy", severity="warning")
            return
        self.app.copy_to_clipboard(entry.record.raw)
        self.notify("Line copied", title="copy")

    def action_copy_json(self) -> None:
        """The line as `meshtui logs -o json` prints it, with the client resolved against the cluster."""
        entry = self.log_view.selected
        if entry is None:
            self.notify("Select a line first (↑/↓ or click)", title="copy", severity="warning")
            return
        client = self.log_view.resolve_client(entry)
        pod = f"{client.namespace}/{client.pod}" if client is not None and client.kind == "pod" else None
        self.app.copy_to_clipboard(msgspec.json.encode(entry.record.documented(client=pod)).decode())
        self.notify("Line copied as JSON", title="copy")

    def action_level(self) -> None:
        assert self.backend is not None
        if self.settings.read_only:  # reachable from the palette even when the key is hidden
            self.notify("read-only mode: the proxies' log level is not changed", title="log level",
                        severity="warning")
            return
        with self._raised_lock:
            raised = dict(self._raised)
        if raised:
            self._restore_levels_worker()
            return
        targets = self.tail.targets if self.tail else []
        if not targets:
            self.notify("No pods to raise the log level on", title="log level", severity="warning")
            return
        self._raise_levels_worker(targets[:MAX_LEVEL_PODS])

    # -- log level ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="logs-level")
    def _raise_levels_worker(self, targets: list[Target]) -> None:
        assert self.backend is not None
        raised: dict[Target, dict[str, str]] = {}
        errors: list[str] = []
        for namespace, pod in targets:
            try:
                previous = raise_levels(self.backend, namespace, pod)
            except BackendError as exc:
                errors.append(f"{namespace}/{pod}: {exc}")
                continue
            if previous:
                raised[(namespace, pod)] = previous
        with self._raised_lock:
            self._raised.update(raised)
        self.post_message(self.LevelsRaised(raised, errors))

    @work(thread=True, exclusive=True, group="logs-level")
    def _restore_levels_worker(self) -> None:
        errors = self.restore_log_levels()
        self.post_message(self.LevelsRaised({}, errors))

    def on_logs_screen_levels_raised(self, message: LevelsRaised) -> None:
        for error in message.errors:
            self.notify(error, title="log level", severity="error")
        if message.raised:
            self.notify(f"Envoy loggers at debug on {len(message.raised)} pod(s); press L again to restore",
                        title="log level")
        self._update_header()

    def restore_log_levels(self) -> list[str]:
        """Put back every logger level this screen raised. Blocking; safe from any thread. Returns
        one message per pod that could not be restored."""
        with self._raised_lock:
            raised, self._raised = self._raised, {}
        errors: list[str] = []
        if self.backend is None:
            return errors
        for (namespace, pod), previous in raised.items():
            try:
                restore_levels(self.backend, namespace, pod, previous)
            except BackendError as exc:
                errors.append(f"{namespace}/{pod}: {exc}")
        return errors

    # -- prompt (filter / search / save) --------------------------------------------------------

    def _open_prompt(self, mode: str, value: str, placeholder: str) -> None:
        prompt = self.query_one("#logs-prompt", Input)
        self._prompt_mode = mode
        prompt.placeholder = placeholder
        prompt.value = value
        prompt.add_class("-open")
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#logs-prompt", Input)
        prompt.remove_class("-open")
        self._prompt_mode = ""
        self.log_view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode, value = self._prompt_mode, event.value
        try:
            if mode == "filter":
                self._set_filter(parse_filter(value))
            elif mode == "search":
                self._set_search(value)  # spaces can matter in a regex: kept as typed
            elif mode == "save":
                self._save(value.strip() or default_save_path(self.log_title, datetime.now()))
        except ValueError as exc:  # re.error is a ValueError too
            self.notify(str(exc), title=mode, severity="error")
            return
        self._close_prompt()

    def _set_filter(self, log_filter: LogFilter) -> None:
        self.log_view.set_filter(log_filter)
        self._update_header()

    def _set_search(self, pattern: str) -> None:
        self._search = Search(pattern) if pattern else None
        self.log_view.set_search(self._search)
        self._update_header()
        if self._search is not None:
            self._jump(forward=False, newest=True)

    def _jump(self, forward: bool, newest: bool = False) -> None:
        if self._search is None:
            self.notify("No search yet: press / first", title="search", severity="warning")
            return
        view = self.log_view
        if view.cursor is None or newest:
            # With no line selected the newest match is the useful one on a live tail.
            found = self._search.find(view.view, len(view.view), forward=False)
        else:
            found = self._search.find(view.view, view.cursor, forward=forward)
        if found is None:
            self.notify(f"No line matches /{self._search.pattern}/", title="search", severity="warning")
            return
        view.move_cursor(found)

    def _save(self, path: str) -> None:
        lines = [saved_line(entry.pod, entry.record) for entry in self.log_view.view]
        self._write_file(Path(path).expanduser(), lines)

    @work(thread=True, group="logs-save")
    def _write_file(self, path: Path, lines: list[str]) -> None:
        try:
            with path.open("w", encoding="utf-8") as fh:
                fh.writelines(line + "\n" for line in lines)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot write {path}: {exc.strerror}", title="save",
                                      severity="error")
            return
        self.app.call_from_thread(self.notify, f"Saved {len(lines)} lines to {path}", title="save")


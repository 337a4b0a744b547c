"""The main screen's Envoy pane: the selected pod's istio-proxy log, following, bounded."""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from meshtui.backend.base import LogOptions
from meshtui.logs.buffer import LogBuffer
from meshtui.logs.tail import Batch, LogTail
from meshtui.model.objects import Pod
from meshtui.text import safe_line, safe_text
from meshtui.widgets.log_view import LogView

# The pane is a glance, not the full viewer (`l`): a short history is enough and cheap.
PANE_BUFFER_LINES = 2_000
PANE_TAIL_LINES = 50


class PodLogPane(Vertical):
    DEFAULT_CSS = """
    PodLogPane LogView { height: 1fr; }
    PodLogPane #pod-logs-empty { color: $text-muted; padding: 1 2; display: none; }
    PodLogPane.-empty #pod-logs-empty { display: block; }
    PodLogPane.-empty LogView { display: none; }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, classes="pane -empty")
        self.border_title = "Envoy"
        self.buffer = LogBuffer(PANE_BUFFER_LINES)
        self.view = LogView(self.buffer)
        self.empty = Static("select a pod", id="pod-logs-empty")
        self.tail: LogTail | None = None
        self.pod: Pod | None = None
        self.problems = 0
        self._pending: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.empty
        yield self.view

    def focus_view(self) -> None:
        self.view.focus()

    def show_pod(self, pod: Pod | None) -> None:
        """Follow this pod's proxy log. Debounced so scrolling through pods opens one stream."""
        if pod is not None and self.pod is not None and pod.key == self.pod.key and self.tail is not None:
            return
        self.pod = pod
        self._stop()
        self.buffer.clear()
        self.view.clear()
        self.problems = 0
        if pod is None:
            self._set_empty("select a pod")
        elif not pod.has_sidecar:
            self._set_empty(f"{pod.name} has no istio-proxy container (no sidecar): nothing to tail")
        else:
            self._set_empty(f"connecting to {pod.name} istio-proxy…")
            if self._pending is not None:
                self._pending.stop()
            self._pending = self.set_timer(0.3, self._start)
        self._update_title()

    def _set_empty(self, message: str | None) -> None:
        self.set_class(message is not None, "-empty")
        if message is not None:
            self.empty.update(Text(safe_text(message)))

    def _start(self) -> None:
        pod = self.pod
        backend = self.app.backend
        if pod is None or backend is None:
            return
        self.tail = LogTail(backend, [(pod.namespace, pod.name)], LogOptions(tail_lines=PANE_TAIL_LINES),
                            self._on_batch, on_error=self._on_error)
        self.tail.start()

    def _stop(self) -> None:
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        if self.tail is not None:
            self.tail.stop(timeout=0)
            self.tail = None

    def on_unmount(self) -> None:
        self._stop()

    def _on_batch(self, batch: Batch) -> None:
        # Tail dispatcher thread; blocking until the UI took the batch is the back-pressure.
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(self._ingest, batch)

    def _on_error(self, pod: str, message: str) -> None:
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(self._set_empty, f"{pod}: {message}")

    def _ingest(self, batch: Batch) -> None:
        if not self.is_mounted or self.tail is None:
            return
        self._set_empty(None)
        self.buffer.extend(batch)
        self.problems += sum(1 for _, record in batch if record.problem)
        self.view.sync()
        self._update_title()

    def _update_title(self) -> None:
        if self.pod is None:
            self.border_title = "Envoy"
            return
        state = "● following" if self.view.follow else "scrolled"
        problems = f"  {self.problems} problems" if self.problems else ""
        self.border_title = Text(safe_line(f"Envoy  {self.pod.name}  istio-proxy  {state}{problems}"))

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        self._update_title()

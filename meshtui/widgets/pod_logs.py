"""The main screen's Envoy pane: the selected pod's istio-proxy log, following, bounded.

The pane decides what to follow and shows what arrives; it never reads logs itself. It asks its
screen with a Follow message, and the screen's tail hands the lines back as Lines messages.
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from meshtui.backend.base import LogOptions
from meshtui.logs.batch import Batch, Target, pod_key
from meshtui.logs.buffer import LogBuffer
from meshtui.logs.record import LogRecord
from meshtui.logs.saved import MARKER_POD, change_marker
from meshtui.logs.ztunnel import pod_filter
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import captured, log_sources, pod_dataplane
from meshtui.text import safe_line, safe_text
from meshtui.widgets.hosts import HoldsSnapshot, PublishesChanges
from meshtui.widgets.log_view import LogView

# The pane is a glance, not the full viewer (`l`): a short history is enough and cheap.
PANE_BUFFER_LINES = 2_000
PANE_TAIL_LINES = 50
# A ztunnel logs every pod of its node: read further back to find this pod's connections.
ZTUNNEL_TAIL_LINES = 500


class PodLogPane(Vertical):
    class Follow(Message):
        """Tail ``targets`` (none: stop tailing) and post each batch back as Lines(generation, ...)."""

        def __init__(self, generation: int, targets: list[Target], options: LogOptions) -> None:
            super().__init__()
            self.generation = generation
            self.targets = targets
            self.options = options

    class Lines(Message):
        """A batch from the tail that Follow(generation) asked for."""

        def __init__(self, generation: int, batch: Batch) -> None:
            super().__init__()
            self.generation = generation
            self.batch = batch

    class TailFailed(Message):
        """The tail that Follow(generation) asked for cannot read ``pod``."""

        def __init__(self, generation: int, pod: str, error: str) -> None:
            super().__init__()
            self.generation = generation
            self.pod = pod
            self.error = error

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
        # Which Follow the lines shown belong to: batches of an earlier pod still in flight are dropped.
        self.generation = 0
        self.following = False
        self.pod: Pod | None = None
        self.problems = 0
        self._pending: Timer | None = None
        # For an ambient pod: the ztunnel (and waypoint pods) tailed instead of a sidecar.
        self.ztunnel: Pod | None = None
        self._waypoints: list[Pod] = []
        self._filter: Callable[[str, LogRecord], bool] | None = None

    def compose(self) -> ComposeResult:
        yield self.empty
        yield self.view

    def on_mount(self) -> None:
        if isinstance(self.app, PublishesChanges):
            self.app.change_applied.subscribe(self, self.mark_change)

    def mark_change(self, what: str) -> None:
        """A change marker in the stream being followed (none when no pod's log is open)."""
        if self.following and isinstance(self.app, PublishesChanges):
            self.buffer.append(MARKER_POD, change_marker(what, self.app.now()))
            self.view.sync()
    def focus_view(self) -> None:
        self.view.focus()

    def show_pod(self, pod: Pod | None) -> None:
        """Follow this pod's proxy log. Debounced so scrolling through pods opens one stream."""
        if pod is not None and self.pod is not None and pod.key == self.pod.key and self.following:
            return
        self.pod = pod
        self._stop()
        self.buffer.clear()
        self.view.clear()
        self.problems = 0
        self.ztunnel, self._waypoints = None, []
        ambient = pod is not None and not pod.has_sidecar and self._ambient_sources(pod)
        if pod is None:
            self._set_empty("select a pod")
        elif ambient:
            assert self.ztunnel is not None
            self._set_empty(f"ambient: waiting for {pod.name}'s connections in ztunnel {self.ztunnel.name}…")
            if self._pending is not None:
                self._pending.stop()
            self._pending = self.set_timer(0.3, self._start)
        elif pod is not None and not pod.has_sidecar and self._enrolled(pod):
            self._set_empty(f"{pod.name} is in ambient mode but no ztunnel runs on node {pod.node or '?'}: "
                            "nothing to tail")
        elif not pod.has_sidecar:
            self._set_empty(f"{pod.name} has no istio-proxy container (no sidecar): nothing to tail")
        else:
            self._set_empty(f"connecting to {pod.name} istio-proxy…")
            if self._pending is not None:
                self._pending.stop()
            self._pending = self.set_timer(0.3, self._start)
        self._update_title()

    def _snapshot(self) -> Snapshot | None:
        return self.app.snapshot if isinstance(self.app, HoldsSnapshot) else None

    def _enrolled(self, pod: Pod) -> bool:
        snapshot = self._snapshot()
        return snapshot is not None and captured(pod, pod_dataplane(snapshot, pod))

    def _ambient_sources(self, pod: Pod) -> bool:
        """For a pod ztunnel captures, remember the ztunnel on its node and its waypoints' pods."""
        snapshot = self._snapshot()
        if snapshot is None or not self._enrolled(pod):
            return False
        self.ztunnel, self._waypoints = log_sources(snapshot, pod)
        return self.ztunnel is not None

    def keep(self) -> Callable[[str, LogRecord], bool] | None:
        """For an ambient pod: only its connections from the shared ztunnel and waypoint logs."""
        if self.pod is None or self.ztunnel is None:
            return None
        return pod_filter(self.pod, pod_key((self.ztunnel.namespace, self.ztunnel.name)))

    @property
    def targets(self) -> list[tuple[str, str]]:
        """What the pane tails: the pod's proxy, or for an ambient pod its ztunnel and waypoints."""
        if self.ztunnel is not None:
            return [(p.namespace, p.name) for p in (self.ztunnel, *self._waypoints)]
        return [(self.pod.namespace, self.pod.name)] if self.pod is not None else []

    def _set_empty(self, message: str | None) -> None:
        self.set_class(message is not None, "-empty")
        if message is not None:
            self.empty.update(Text(safe_text(message)))

    def _start(self) -> None:
        if self.pod is None:
            return
        options = LogOptions(tail_lines=ZTUNNEL_TAIL_LINES if self.ztunnel is not None else PANE_TAIL_LINES)
        self._filter = self.keep()
        self.generation += 1
        self.following = True
        self.post_message(self.Follow(self.generation, self.targets, options))

    def _stop(self) -> None:
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        if self.following:
            self.generation += 1
            self.following = False
            self.post_message(self.Follow(self.generation, [], LogOptions()))

    def on_pod_log_pane_tail_failed(self, message: TailFailed) -> None:
        message.stop()
        if message.generation == self.generation:
            self._set_empty(f"{message.pod}: {message.error}")

    def on_pod_log_pane_lines(self, message: Lines) -> None:
        message.stop()
        if message.generation != self.generation or not self.following:
            return
        batch = message.batch
        if self._filter is not None:
            batch = [(key, record) for key, record in batch if self._filter(key, record)]
            if not batch:
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
        source = "istio-proxy"
        if self.ztunnel is not None:
            source = f"via ztunnel {self.ztunnel.name}" + (" + waypoint" if self._waypoints else "")
        self.border_title = Text(safe_line(f"Envoy  {self.pod.name}  {source}  {state}{problems}"))

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        self._update_title()

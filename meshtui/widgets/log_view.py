"""LogView: a Line API widget over a filtered log buffer.

Only the visible rows are rendered, through an LRU cache of strips keyed by entry and render
generation. Rows come from the pure :func:`meshtui.logs.columns.row_segments`; colours are
component classes styled with the theme's log/mTLS variables. Follow mode keeps the newest line
in view and pauses itself as soon as the user scrolls or moves the cursor up.
"""

from __future__ import annotations

import bisect
import time
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.style import Style as TextualStyle

from meshtui.logs.buffer import FilteredView, LogBuffer, LogEntry, LogFilter, Search
from meshtui.logs.clients import Client, ClientIndex
from meshtui.logs.columns import (
    DEFAULT_LAYOUT,
    POD_STYLES,
    POD_WIDTH,
    Layout,
    layout_for,
    row_segments,
    row_text,
    short_pod,
)
from meshtui.logs.saved import MARKER_POD
from meshtui.widgets.hosts import HoldsSnapshot
from meshtui.widgets.scrolling import CachedBarScrollView, plain_box, set_virtual_size

_STYLE_KEYS = (
    "time", "inbound", "outbound", "dim", "tcp", "code-2xx", "code-3xx", "code-4xx", "code-5xx",
    "flag", "details", "mtls", "upstream", "cursor", "match", "client", "tls-mtls", "tls-other", "tls-plain",
    "marker", *(f"pod-{i}" for i in range(POD_STYLES)),
)
# Rebuilding the pod-IP index is O(pods): at most this often, however fast the cluster changes.
CLIENT_INDEX_INTERVAL = 1.0


class _Palette(NamedTuple):
    """The widget's styles, read once per style change (a style change clears them)."""

    base: Style  # the widget's own
    component: dict[str, Style]  # each log-view--KEY component class
    row: dict[str, Style]  # base + component: a row's segments, ready to show
    cursor_row: dict[str, Style]  # base + component + cursor: the selected row's


class LogView(CachedBarScrollView, can_focus=True):
    """Shows a :class:`FilteredView` of a :class:`LogBuffer`. Call :meth:`sync` after appending."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="logs.cursor_up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="logs.cursor_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="logs.page_up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="logs.page_down"),
        Binding("home,g", "first", "Oldest", show=False, id="logs.first"),
        Binding("end,G", "follow", "Follow", id="logs.follow"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"log-view--{key}" for key in _STYLE_KEYS}

    DEFAULT_CSS = """
    LogView { background: $surface; color: $foreground; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--dim { color: $text-muted; }
    LogView > .log-view--inbound { color: $secondary; }
    LogView > .log-view--outbound { color: $primary; }
    LogView > .log-view--tcp { color: $text-muted; text-style: italic; }
    LogView > .log-view--code-2xx { color: $log-2xx; }
    LogView > .log-view--code-3xx { color: $log-3xx; }
    LogView > .log-view--code-4xx { color: $log-4xx; text-style: bold; }
    LogView > .log-view--code-5xx { color: $log-5xx; text-style: bold; }
    LogView > .log-view--flag { color: $log-flag; text-style: bold; }
    LogView > .log-view--details { color: $text-muted; }
    LogView > .log-view--mtls { color: $mtls-disabled; text-style: bold; }
    LogView > .log-view--upstream { color: $accent; }
    LogView > .log-view--client { color: $secondary; }
    LogView > .log-view--tls-mtls { color: $mtls-strict; }
    LogView > .log-view--tls-other { color: $mtls-mixed; }
    LogView > .log-view--tls-plain { color: $mtls-permissive; text-style: bold; }
    LogView > .log-view--marker { color: $warning; text-style: bold; }
    LogView > .log-view--cursor { background: $primary 30%; }
    LogView > .log-view--match { background: $warning; color: $background; }
    LogView > .log-view--pod-0 { color: $primary; }
    LogView > .log-view--pod-1 { color: $secondary; }
    LogView > .log-view--pod-2 { color: $accent; }
    LogView > .log-view--pod-3 { color: $success; }
    LogView > .log-view--pod-4 { color: $warning; }
    LogView > .log-view--pod-5 { color: $mtls-mixed; }
    """

    follow: reactive[bool] = reactive(True, init=False)
    wrap: reactive[bool] = reactive(False, init=False)
    show_time: reactive[bool] = reactive(True, init=False)

    class Selected(Message):
        """The cursor moved to a line."""

        def __init__(self, log_view: LogView, entry: LogEntry) -> None:
            super().__init__()
            self.log_view = log_view
            self.entry = entry
            self.record = entry.record

    class FollowChanged(Message):
        def __init__(self, log_view: LogView, follow: bool) -> None:
            super().__init__()
            self.log_view = log_view
            self.follow = follow

    def __init__(self, buffer: LogBuffer, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.buffer = buffer
        self.view = FilteredView(buffer)
        self.search: Search | None = None
        self.cursor: int | None = None
        self._cache: LRUCache[tuple[int, bool], Strip] = LRUCache(1024)
        self._styles: _Palette | None = None
        self._pods: dict[str, int] = {}
        self.pod_labels: dict[str, str] = {}  # pod key → its short, distinct name in this view
        self._layout = DEFAULT_LAYOUT
        self._clients: ClientIndex | None = None
        self._host: HoldsSnapshot | None = None
        self._host_known = False
        self._clients_source: object = None
        self._clients_at = 0.0
        self._max_width = 0
        # Wrap mode: _ends[i] is the row after entry i of the view (offset by _ends_start / _ends_base).
        self._ends: list[int] = []
        self._ends_start = 0
        self._wrap_width = 0
        self._paint = (0, 0, 0)  # (scroll x, scroll y, row width) of the paint in progress
        self._direct = False  # the last paint skipped Textual's style pass (render_lines)

    # -- data -----------------------------------------------------------------------------------

    def sync(self) -> None:
        """Pick up entries appended to (or evicted from) the buffer since the last call."""
        added, removed = self.view.sync()
        if not added and not removed:
            return
        for pod in self.view.last_pods(added):
            if pod not in self._pods and pod != MARKER_POD:
                self._pods[pod] = len(self._pods)
                self.pod_labels[pod] = self._distinct_label(pod)
                if len(self._pods) == 2:  # the pod column appears: every cached row is stale
                    self._layout = self._layout_now()
                    self._cache.clear()
        old_rows = self._row_of(removed) if removed and self.wrap else removed
        if self.wrap:
            self._wrap_drop(removed)
            self._wrap_extend(added)
        if self.cursor is not None:
            self.cursor = max(0, self.cursor - removed) if len(self.view) else None
        self._update_size()
        if self.follow:
            self._scroll_y_to(self.max_scroll_y)
        elif old_rows:
            # Keep the lines the user is reading still while old ones scroll out of the buffer.
            self._scroll_y_to(max(0, self.scroll_y - old_rows))
        self.refresh()

    def set_filter(self, log_filter: LogFilter) -> None:
        selected = self.selected
        self.view.set_filter(log_filter)
        self.cursor = self.view.index_of(selected.seq) if selected else None
        self._relayout(rows_changed=False)
        if self.cursor is not None and not self.follow:
            self._scroll_to_cursor()

    def set_search(self, search: Search | None) -> None:
        self.search = search
        self._cache.clear()
        self.refresh()

    def clear(self) -> None:
        self.buffer.clear()
        self.view.set_filter(self.view.filter)
        self.cursor = None
        self._pods.clear()
        self.pod_labels.clear()
        self._max_width = 0
        self._relayout()

    @property
    def selected(self) -> LogEntry | None:
        if self.cursor is None:
            return None
        try:
            return self.view[self.cursor]
        except IndexError:  # evicted from the buffer since the last sync
            return None

    def move_cursor(self, index: int) -> None:
        """Select the line at ``index`` of the view (clamped), leave follow mode and scroll to it."""
        if not len(self.view):
            return
        index = max(0, min(index, len(self.view) - 1))
        old = self.cursor
        self.cursor = index
        self.follow = False
        if old != index:
            self._refresh_entry(old)
            self._refresh_entry(index)
            self.post_message(self.Selected(self, self.view[index]))
        self._scroll_to_cursor()

    # -- actions --------------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self._default_cursor() - 1 if self.cursor is not None else self._default_cursor())

    def action_cursor_down(self) -> None:
        if self.cursor is not None:
            self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._default_cursor() - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        if self.cursor is not None:
            self.move_cursor(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_follow(self) -> None:
        self.follow = True

    def _default_cursor(self) -> int:
        if self.cursor is not None:
            return self.cursor
        located = self._locate(round(self.scroll_y) + self.scrollable_content_region.height - 1)
        return located[0] if located else len(self.view) - 1

    # -- reactive watchers ----------------------------------------------------------------------

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._scroll_y_to(self.max_scroll_y)
        self.post_message(self.FollowChanged(self, follow))

    def watch_wrap(self) -> None:
        self._relayout()

    def watch_show_time(self) -> None:
        self._relayout()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolling up (wheel, scrollbar, keys) leaves follow mode; reaching the end again resumes it.
        if new_value < old_value and round(new_value) < self.max_scroll_y and self.follow:
            self.follow = False
        elif not self.follow and self.cursor is None and round(new_value) >= self.max_scroll_y > 0:
            self.follow = True

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # The scrollbar takes the bottom row: in follow mode the newest line must stay above it.
        if shown and self.follow:
            self.call_after_refresh(self._scroll_end_if_following)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        layout = self._layout_now()
        if self.wrap or layout != self._layout:
            self._relayout()
        elif self.follow:
            # Lines that arrived before the first layout had no height to scroll within.
            self.call_after_refresh(self._scroll_end_if_following)

    def _scroll_end_if_following(self) -> None:
        if self.follow:
            self._scroll_y_to(self.max_scroll_y)

    def on_click(self, event: events.Click) -> None:
        located = self._locate(round(self.scroll_y) + event.y)
        if located is not None:
            self.move_cursor(located[0])

    # -- layout ---------------------------------------------------------------------------------

    def _layout_now(self) -> Layout:
        pod_width = POD_WIDTH + 1 if len(self._pods) > 1 else 0
        width = self.scrollable_content_region.width if self.is_mounted else 0
        return layout_for(width, show_time=self.show_time, pod_width=pod_width)

    def _relayout(self, *, rows_changed: bool = True) -> None:
        """Lay the view out again; ``rows_changed`` False when only which entries show changed (a
        filter), so the rows already rendered stay cached."""
        # _max_width is kept: a slightly wide scroll area is cheaper than re-measuring every row.
        layout = self._layout_now()
        if rows_changed or layout != self._layout:
            self._cache.clear()
        self._layout = layout
        if self.wrap:
            # Room for the vertical scrollbar is kept even before it appears, so that its arrival
            # does not make every wrapped line one column too wide.
            self._wrap_width = max(1, self.container_size.width - self.styles.scrollbar_size_vertical)
            self._ends = []
            self._ends_start = 0
            self._wrap_extend(len(self.view))
        self._update_size()
        if self.follow:
            self._scroll_y_to(self.max_scroll_y)
        self.refresh()

    def _update_size(self) -> None:
        if self.wrap:
            height = self._row_of(len(self.view))
            set_virtual_size(self, Size(self._wrap_width, height))
        else:
            set_virtual_size(self, Size(max(self._max_width, 1), len(self.view)))
        if self.follow:
            # A scrollbar that appears with the new size moves the end by a line after layout.
            self.call_after_refresh(self._scroll_end_if_following)

    def _entry_height(self, entry: LogEntry) -> int:
        width = cell_len(self._plain(entry))
        return max(1, -(-width // self._wrap_width))

    def _wrap_extend(self, count: int) -> None:
        view, ends = self.view, self._ends
        last = ends[-1] if len(ends) > self._ends_start else self._ends_base()
        for i in range(len(view) - count, len(view)):
            last += self._entry_height(view[i])
            ends.append(last)

    def _ends_base(self) -> int:
        return self._ends[self._ends_start - 1] if self._ends_start else 0

    def _wrap_drop(self, removed: int) -> None:
        self._ends_start += removed
        if self._ends_start > 4096 and self._ends_start * 2 > len(self._ends):
            base = self._ends_base()
            self._ends = [end - base for end in self._ends[self._ends_start:]]
            self._ends_start = 0

    def _row_of(self, index: int) -> int:
        """First row of view entry ``index`` (or the row count when index == len)."""
        if not self.wrap:
            return index
        if index <= 0:
            return 0
        return self._ends[self._ends_start + index - 1] - self._ends_base()

    def _locate(self, row: int) -> tuple[int, int] | None:
        """(view index, sub-row within a wrapped entry) for a virtual row."""
        if row < 0:
            return None
        if not self.wrap:
            return (row, 0) if row < len(self.view) else None
        base = self._ends_base()
        pos = bisect.bisect_right(self._ends, row + base, self._ends_start)
        index = pos - self._ends_start
        if index >= len(self.view):
            return None
        return index, row - self._row_of(index)

    def _scroll_to_cursor(self) -> None:
        if self.cursor is None:
            return
        top = self._row_of(self.cursor)
        bottom = self._row_of(self.cursor + 1)
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self._scroll_y_to(top)
        elif bottom > self.scroll_y + height:
            self._scroll_y_to(bottom - height)

    def _scroll_y_to(self, y: float) -> None:
        # force: right after the virtual size grows the scrollbar is not shown yet, and Textual
        # would otherwise refuse to scroll a widget it believes cannot scroll.
        self.scroll_to(y=y, animate=False, force=True, immediate=True)

    def _refresh_entry(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.view):
            return
        self._cache.discard((self.view[index].seq, True))
        self._cache.discard((self.view[index].seq, False))
        top = self._row_of(index)
        self.refresh_lines(top, self._row_of(index + 1) - top)

    # -- rendering ------------------------------------------------------------------------------

    def _distinct_label(self, pod: str) -> str:
        label = short_pod(pod)
        taken = set(self.pod_labels.values())
        if label in taken:  # two pods that shorten alike: the later one keeps its name's end
            name = pod.rsplit("/", 1)[-1]
            label = name if len(name) <= POD_WIDTH else "…" + name[-(POD_WIDTH - 1):]
        base, n = label, 2
        while label in taken:
            label = f"{base[: POD_WIDTH - 3]}#{n}"
            n += 1
        return label

    def client_index(self) -> ClientIndex | None:
        """The app's snapshot as a pod-IP index (None without a cluster: a file, a bare host app)."""
        if not self._host_known:
            # Once per view: isinstance against a runtime-checkable Protocol inspects the class on
            # every call, and this runs for every row drawn.
            self._host = self.app if isinstance(self.app, HoldsSnapshot) else None
            self._host_known = True
        snapshot = self._host.snapshot if self._host is not None else None
        if snapshot is None:
            return None
        pods = snapshot.pods
        now = time.monotonic()
        if pods is not self._clients_source and (self._clients is None or now - self._clients_at
                                                 >= CLIENT_INDEX_INTERVAL):
            index = ClientIndex(pods.values())
            if index != self._clients:
                self._cache.clear()
            self._clients, self._clients_source, self._clients_at = index, pods, now
        return self._clients

    def resolve_client(self, entry: LogEntry) -> Client | None:
        """Who sent the line's connection, resolved against the app's snapshot (None without one)."""
        index = self.client_index()
        return index.resolve(entry.record.downstream_remote) if index else None

    def client_of(self, entry: LogEntry) -> str | None:
        client = self.resolve_client(entry)
        return client.label_in(entry.pod.partition("/")[0]) if client else None

    def _segments(self, entry: LogEntry) -> list[tuple[str, str]]:
        multi = len(self._pods) > 1
        return row_segments(entry.record, pod=self.pod_labels.get(entry.pod) if multi else None,
                            pod_index=self._pods.get(entry.pod, 0), show_time=self.show_time, wrap=self.wrap,
                            client=self.client_of(entry), layout=self._layout)

    def _plain(self, entry: LogEntry) -> str:
        return row_text(self._segments(entry))

    def _palette(self) -> _Palette:
        if self._styles is None:
            # The widget's own style is read once per style change, not per row: reading it walks
            # the ancestors' styles. Rows get it merged into each segment's style here.
            base = self.rich_style
            component = {key: self.get_component_rich_style(f"log-view--{key}", partial=True)
                         for key in _STYLE_KEYS}
            cursor = component["cursor"]
            self._styles = _Palette(base, component, {key: base + style for key, style in component.items()},
                                    {key: base + style + cursor for key, style in component.items()})
        return self._styles

    def _strip(self, entry: LogEntry, is_cursor: bool) -> Strip:
        key = (entry.seq, is_cursor)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        palette = self._palette()
        segments = self._segments(entry)
        if self.search is None:
            # Plain segments with the widget's style already in: no Text layout, no style sums per row.
            styles = palette.cursor_row if is_cursor else palette.row
            fallback = palette.cursor_row["cursor"] if is_cursor else palette.base
            strip = Strip([Segment(part, styles.get(style_key, fallback)) for part, style_key in segments],
                          sum(cell_len(part) for part, _key in segments))
        else:
            component = palette.component
            text = Text(no_wrap=True, end="")
            for part, style_key in segments:
                text.append(part, component.get(style_key))
            if is_cursor:
                text.stylize(component["cursor"])
            for start, end in self.search.spans(text.plain):  # after the cursor: matches stay visible
                text.stylize(component["match"], start, end)
            strip = Strip(text.render(self.app.console), text.cell_len).apply_style(palette.base)
        width = strip.cell_length
        if width > self._max_width and not self.wrap:
            if self._max_width <= self.virtual_size.width:  # one size update per frame, not per row
                self.call_later(self._update_size)
            self._max_width = width
        self._cache.set(key, strip)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        # Read once per paint what every row needs: these are properties computed on each read.
        self._paint = (*self.scroll_offset, self.scrollable_content_region.width)
        if not plain_box(self):
            self._direct = False
            return super().render_lines(crop)
        if not self._direct:  # what Textual's pass cached may be stale when it is used again
            self._styles_cache.clear()
            self._direct = True
        # Textual's per-row pass (borders, padding, tint) has nothing to add to a plain box: it would
        # only copy each row into a new Strip, on which the line filters then run anew. Rows are
        # cached strips; their filtered forms are cached on them.
        filters = self.get_line_filters()
        base_background, background = self.background_colors
        # Rows reach under the scrollbar in the widget's background, as Textual's pass extends them.
        width = self.content_region.width
        under_bar = TextualStyle(background=base_background + background).rich_style
        strips = []
        for y in crop.line_range:
            strip = self.render_line(y).adjust_cell_length(width, under_bar)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        if crop.column_span != (0, width):
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width = self._paint
        base = self._palette().base
        located = self._locate(scroll_y + y)
        if located is None:
            return Strip.blank(width, base)
        index, sub = located
        try:
            entry = self.view[index]
        except IndexError:
            return Strip.blank(width, base)
        strip = self._strip(entry, index == self.cursor)
        if self.wrap:
            start = sub * self._wrap_width
            strip = strip.crop(start, start + self._wrap_width)
            return strip.extend_cell_length(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

"""LogExplain: the side panel that says, in plain words, what the selected log line means."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.strip import Strip

from meshtui.logs.buffer import LogEntry
from meshtui.logs.clients import Client
from meshtui.logs.explain import explain
from meshtui.text import safe_rich
from meshtui.widgets.scrolling import CachedBarScrollView, set_virtual_size

PROMPT = "Select a line to see what it means."


class LogExplain(CachedBarScrollView):
    """The explanation is wrapped to the panel's width once per line shown, and drawn through the
    Line API: the panel's size never depends on its text, so showing one costs no screen layout
    (a layout per cursor rest re-laid the whole log screen while lines streamed in)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-explain--heading", "log-explain--mtls"}

    DEFAULT_CSS = """
    LogExplain {
        width: 44; height: 1fr; padding: 0 1; border-left: vkey $panel;
        overflow-x: hidden; overflow-y: auto; scrollbar-gutter: stable;
    }
    LogExplain > .log-explain--heading { color: $accent; text-style: bold; }
    LogExplain > .log-explain--mtls { color: $mtls-disabled; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entry: LogEntry | None = None
        self._text = Text(PROMPT)
        self._lines: list[Strip] = []
        self._blank = Strip.blank(0)

    @property
    def plain(self) -> str:
        """What the panel says, unwrapped."""
        return self._text.plain

    def show(self, entry: LogEntry | None, client: Client | None = None) -> None:
        self.entry = entry
        if entry is None:
            self._text = Text(PROMPT)
        else:
            heading = self.get_component_rich_style("log-explain--heading", partial=True)
            mtls = self.get_component_rich_style("log-explain--mtls", partial=True)
            text = Text()
            text.append(entry.pod + "\n\n", heading)
            for title, words in explain(entry.record, client):
                text.append(title + "\n", mtls if title == "mTLS / policy" else heading)
                text.append(words + "\n\n")
            self._text = safe_rich(text, multiline=True)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._wrap()

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width if self.is_mounted else 0
        if width <= 0:  # not laid out yet: on_resize wraps
            return
        console, base = self.app.console, self.rich_style
        lines = console.render_lines(self._text, console.options.update_width(width), style=base, pad=False)
        self._lines = [Strip(line).extend_cell_length(width, base) for line in lines]
        self._blank = Strip.blank(width, base)  # rich_style walks the ancestors: not once per row
        set_virtual_size(self, Size(width, len(self._lines)))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._wrap()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._wrap()

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        return self._lines[index] if index < len(self._lines) else self._blank

"""LogExplain: the side panel that says, in plain words, what the selected log line means."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from meshtui.logs.buffer import LogEntry
from meshtui.logs.clients import Client
from meshtui.logs.explain import explain
from meshtui.text import safe_rich


class LogExplain(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-explain--heading", "log-explain--mtls"}

    DEFAULT_CSS = """
    LogExplain { width: 44; height: 1fr; padding: 0 1; border-left: vkey $panel; overflow-y: auto; }
    LogExplain > .log-explain--heading { color: $accent; text-style: bold; }
    LogExplain > .log-explain--mtls { color: $mtls-disabled; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Select a line to see what it means.", id=id, classes=classes)
        self.entry: LogEntry | None = None

    def show(self, entry: LogEntry | None, client: Client | None = None) -> None:
        self.entry = entry
        if entry is None:
            self.update("Select a line to see what it means.")
            return
        heading = self.get_component_rich_style("log-explain--heading", partial=True)
        mtls = self.get_component_rich_style("log-explain--mtls", partial=True)
        text = Text()
        text.append(entry.pod + "\n\n", heading)
        for title, words in explain(entry.record, client):
            text.append(title + "\n", mtls if title == "mTLS / policy" else heading)
            text.append(words + "\n\n")
        self.update(safe_rich(text, multiline=True))

"""Base for meshtui's modal screens: a titled box that Escape closes."""

from __future__ import annotations

from textual.binding import Binding

from meshtui.screens.base import MeshModalScreen


class DialogScreen(MeshModalScreen[object]):
    BINDINGS = [Binding("escape", "close", "Close", id="dialog.close")]

    DEFAULT_CSS = """
    DialogScreen { align: center middle; }
    DialogScreen > .dialog {
        width: 90%; height: 85%; border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def action_close(self) -> None:
        self.dismiss(None)

"""Pick a kube context; the list is read on a worker thread."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from meshtui.backend.base import Backend, BackendError
from meshtui.screens.dialog import DialogScreen


class ContextScreen(DialogScreen):
    DEFAULT_CSS = "ContextScreen > .dialog { width: 60; height: 20; }"

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self._backend = backend

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Switch context"
            yield Static("reading kubeconfig…", id="context-status")
            yield OptionList(id="context-list")

    def on_mount(self) -> None:
        self.load_contexts()

    @work(thread=True, exit_on_error=False)
    def load_contexts(self) -> None:
        try:
            names = self._backend.contexts()
        except BackendError as exc:
            self.app.call_from_thread(self.query_one("#context-status", Static).update, str(exc))
            return
        self.app.call_from_thread(self._show, names)

    def _show(self, names: list[str]) -> None:
        current = self._backend.context
        self.query_one("#context-status", Static).update(f"current: {current}")
        options = self.query_one("#context-list", OptionList)
        options.add_options([Option(("● " if n == current else "  ") + n, id=n) for n in names])
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

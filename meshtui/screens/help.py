"""`?`: every binding with its id and current keys, and why disabled ones are disabled."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.keys import format_key
from textual.widgets import DataTable, Static

from meshtui.bindings import all_bindings
from meshtui.screens.dialog import DialogScreen
from meshtui.screens.main import ACTION_NEEDS


class HelpScreen(DialogScreen):
    # The table must end at the dialog's border, or the cursor scrolls out of sight below it.
    DEFAULT_CSS = "HelpScreen #help-table { height: 1fr; }  HelpScreen #help-summary { height: auto; }"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Help — key bindings (remap by id in a keymap file)"
            yield Static(id="help-summary")
            yield DataTable(id="help-table", cursor_type="row")

    def on_mount(self) -> None:
        keymap = self.app.keymap_config
        overrides = keymap.bindings if keymap else {}
        table = self.query_one("#help-table", DataTable)
        table.add_columns("KEYS", "ACTION", "ID", "STATE", "WHERE")
        for info in all_bindings():
            action = info.action.split("(")[0]
            needs = ACTION_NEEDS.get(action)
            reason = self.app.denied_reason(*needs) if needs else None
            keys = ",".join(format_key(k.strip()) for k in overrides.get(info.id, info.key).split(","))
            table.add_row(keys, info.description or info.action, info.id,
                          f"disabled: {reason}" if reason else "", info.where)
        name = keymap.name if keymap else "default"
        self.query_one("#help-summary", Static).update(
            f"keymap: {name}   theme: {self.app.theme}   ↑↓ scroll   ctrl+p: every action by name   "
            ": command line (:ns NAME, :pods, :ctx NAME, :findings, :logs)"
        )
        table.focus()

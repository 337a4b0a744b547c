"""Modal pickers for a change: mTLS mode (any scope) and sidecar injection.

They only choose; the main screen builds the plan from the choice and pushes the preview.
Data arrives through the constructor and the choice leaves through ``dismiss``; nothing here talks
to a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from meshtui.change.apply import ApplyResult
from meshtui.change.plan import MODES, Mode
from meshtui.change.ports import PortChoice

MODE_HELP: dict[str, str] = {
    "STRICT": "mTLS only: plaintext callers are refused",
    "PERMISSIVE": "accept mTLS and plaintext",
    "DISABLE": "plaintext only, no mTLS",
    "UNSET": "inherit from the enclosing scope (removes the setting)",
}

CANCEL = Binding("escape", "cancel", "Cancel", id="change.cancel")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ModeChoice:
    mode: Mode
    port: int | None = None


@dataclass(frozen=True, slots=True)
class InjectionChoice:
    enabled: bool
    revision: str | None = None


class ModePickerScreen(ModalScreen[ModeChoice | None]):
    """STRICT / PERMISSIVE / DISABLE / inherit for one scope; for a port scope, the port first."""

    DEFAULT_CSS = """
    ModePickerScreen { align: center middle; }
    ModePickerScreen > Vertical { width: 90; height: auto; max-height: 90%; border: round $accent;
                                   padding: 0 1; background: $surface; }
    ModePickerScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, scope: str, current: str, source: str, ports: Sequence[PortChoice] = (),
                 hint: str = "") -> None:
        super().__init__()
        self._scope = scope
        self._current = current
        self._source = source
        self._ports = tuple(ports)
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"mTLS mode for {self._scope}", id="title")
            yield Static(f"now {self._current} — from {self._source}", id="current")
            if self._hint:
                yield Static(self._hint, id="hint")
            if self._ports:
                yield Label("Container port")
                yield OptionList(*(Option(p.describe(), id=str(p.port)) for p in self._ports), id="ports")
            yield Label("Mode")
            yield OptionList(*(Option(self._mode_label(m), id=m) for m in MODES), id="modes")

    def _mode_label(self, mode: str) -> str:
        name = "inherit" if mode == "UNSET" else mode
        mark = "●" if mode == self._current else " "
        return f"{mark} {name:<11} {MODE_HELP[mode]}"

    def on_mount(self) -> None:
        modes = self.query_one("#modes", OptionList)
        current = self._current if self._current in MODES else "UNSET"
        modes.highlighted = MODES.index(current)
        self.query_one("#ports" if self._ports else "#modes", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "ports":
            self.query_one("#modes", OptionList).focus()
            return
        port = None
        if self._ports:
            index = self.query_one("#ports", OptionList).highlighted
            port = self._ports[index or 0].port
        self.dismiss(ModeChoice(event.option.id, port))  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[T | None]):
    """A title, what is set now, and the choices to pick one from; escape cancels."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical { width: 70; height: auto; border: round $accent; padding: 0 1;
                              background: $surface; }
    ChoiceScreen OptionList { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [CANCEL]

    def __init__(self, title: str, current: str, choices: Sequence[tuple[str, T]]) -> None:
        super().__init__()
        self._title = title
        self._current = current
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, id="title")
            yield Static(f"now {self._current}", id="current")
            yield OptionList(*(Option(label) for label, _ in self._choices), id="choices")

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._choices[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class InjectionScreen(ChoiceScreen[InjectionChoice]):
    """Enable (per revision when the cluster uses revisions) or disable injection on a namespace."""

    def __init__(self, namespace: str, current: str, revisions: Sequence[str] = ()) -> None:
        # The "default" revision is istiod installed without one: plain istio-injection=enabled.
        choices = ([InjectionChoice(True, None if rev == "default" else rev) for rev in revisions] if revisions
                   else [InjectionChoice(True)])
        choices.append(InjectionChoice(False))
        super().__init__(f"Sidecar injection for {namespace}", current, [(self._label(c), c) for c in choices])

    @staticmethod
    def _label(choice: InjectionChoice) -> str:
        if not choice.enabled:
            return "Disable injection (istio-injection=disabled)"
        if choice.revision:
            return f"Enable with revision {choice.revision} (istio.io/rev={choice.revision})"
        return "Enable injection (istio-injection=enabled)"


@dataclass(frozen=True, slots=True)
class Notice:
    message: str
    severity: SeverityLevel


def result_notice(result: ApplyResult) -> Notice:
    """The one-line notice after an apply: applied, rolled back, or conflict."""
    if result.ok:
        return Notice(f"Applied {len(result.applied)} object(s)", "information")
    if result.conflict:
        return Notice("Conflict: an object changed since it was read; re-read the cluster and try again",
                      "warning")
    if result.rollback_failed:
        return Notice(f"Failed: {result.error}. Rolled back {', '.join(result.rolled_back) or 'nothing'}; "
                      f"could NOT roll back: {'; '.join(result.rollback_failed)}", "error")
    if result.rolled_back:
        return Notice(f"Failed: {result.error}. Rolled back: {', '.join(result.rolled_back)}", "error")
    return Notice(f"Failed: {result.error}. Nothing was changed", "error")

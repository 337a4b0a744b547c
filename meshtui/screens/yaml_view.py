"""Read-only YAML of one object, without server-managed noise."""

from __future__ import annotations

from typing import Any, Mapping

import yaml
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from meshtui.screens.dialog import DialogScreen
from meshtui.text import safe_line, safe_text

NOISY_METADATA = ("managedFields", "resourceVersion", "uid", "generation", "selfLink")


def clean(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as a user wrote it: no managedFields, resourceVersion, uid or status."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for key in NOISY_METADATA:
        meta.pop(key, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def to_yaml(obj: Mapping[str, Any]) -> str:
    return yaml.safe_dump(clean(obj), sort_keys=False, default_flow_style=False)


class YamlScreen(DialogScreen):
    def __init__(self, title: str, obj: Mapping[str, Any]) -> None:
        super().__init__()
        self.title_text = title
        self.obj = obj

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = Text(safe_line(self.title_text))
            yield Static(Syntax(safe_text(to_yaml(self.obj)), "yaml", theme="ansi_dark", background_color="default"))


class TextScreen(DialogScreen):
    """Plain text (a diff, a report) in a scrollable box."""

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = Text(safe_line(self.title_text))
            yield Static(Syntax(safe_text(self.text), "diff", theme="ansi_dark", background_color="default"))

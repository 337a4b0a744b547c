"""Every key binding meshtui defines, by stable id: for keymap validation and the help screen."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from textual.binding import Binding

# (where the binding lives, "module:Class"); imported lazily to keep start-up light.
BINDING_OWNERS: tuple[tuple[str, str], ...] = (
    ("everywhere", "meshtui.app:MeshApp"),
    ("main screen", "meshtui.screens.main:MainScreen"),
    ("lists", "meshtui.widgets.resource_table:ResourceTable"),
    ("logs screen", "meshtui.screens.logs:LogsScreen"),
    ("log lines", "meshtui.widgets.log_view:LogView"),
    ("explain", "meshtui.screens.explain:ExplainScreen"),
    ("findings", "meshtui.screens.findings:FindingsScreen"),
    ("dialogs", "meshtui.screens.dialog:DialogScreen"),
    ("change preview", "meshtui.screens.change_preview:PreviewScreen"),
    ("restart", "meshtui.screens.change_restart:RestartScreen"),
    ("mode picker", "meshtui.screens.change:ModePickerScreen"),
    ("TLS check", "meshtui.screens.tls_check:TlsCheckScreen"),
    ("migration wizard", "meshtui.screens.migrate:MigrateScreen"),
)


@dataclass(frozen=True, slots=True)
class BindingInfo:
    id: str
    key: str
    action: str
    description: str
    where: str


def all_bindings() -> list[BindingInfo]:
    out: list[BindingInfo] = []
    seen: set[str] = set()
    for where, target in BINDING_OWNERS:
        module, _, name = target.partition(":")
        owner = getattr(import_module(module), name)
        for binding in owner.BINDINGS:
            if not isinstance(binding, Binding) or not binding.id or binding.id in seen:
                continue
            seen.add(binding.id)
            out.append(BindingInfo(binding.id, binding.key, binding.action, binding.description, where))
    return out


def known_ids() -> set[str]:
    return {b.id for b in all_bindings()}

"""Keymaps: YAML files mapping stable binding ids to keys, applied with Textual's App.set_keymap.

A keymap file may name only some ids; every keymap is laid over ``default``. Problems never stop
the app: they come back as one-line notices naming the file and entry, and the defaults stay.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from meshtui.resources import bundled, bundled_names
from meshtui.yamlfile import Readable, YamlFileError, load_yaml_file

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Textual's named keys (textual.keys.Keys values) that can stand alone or after modifiers.
NAMED_KEYS = frozenset(
    {
        "escape", "enter", "return", "tab", "space", "backspace", "left", "right", "up", "down",
        "home", "end", "insert", "delete", "pageup", "pagedown",
        # Textual's short names for some punctuation (textual.keys.KEY_NAME_REPLACEMENTS).
        "slash", "backslash", "at", "minus", "plus", "underscore",
        *(f"f{i}" for i in range(1, 25)),
    }
)


@dataclass(frozen=True, slots=True)
class Keymap:
    name: str
    bindings: dict[str, str]
    problems: tuple[str, ...] = field(default=())


def valid_key(key: str) -> bool:
    """True for a key Textual can bind: "x", "G", "?", "ctrl+r", "question_mark", "f5", "shift+tab"."""
    parts = key.split("+")
    base, mods = parts[-1], parts[:-1]
    if not base or any(m not in MODIFIERS for m in mods):
        return False
    if len(base) == 1 and base.isprintable():
        return True
    if base in NAMED_KEYS:
        return True
    try:
        unicodedata.lookup(base.replace("_", " "))
    except KeyError:
        return False
    return True


def _read(path: Readable, label: str) -> tuple[dict[str, object], list[str]]:
    try:
        data = load_yaml_file(path)
    except YamlFileError as exc:
        return {}, [f"keymap {label}{exc.where}: {exc.problem}"]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [f"keymap {label}: expected a mapping of binding id to keys"]
    return data, []


def _validate(raw: Mapping[str, object], label: str, known_ids: set[str]) -> tuple[dict[str, str], list[str]]:
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in raw.items():
        if binding_id not in known_ids:
            problems.append(f"keymap {label}: unknown binding id '{binding_id}'")
            continue
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f"keymap {label}: '{binding_id}' must be a key string like 'ctrl+r' or 'j,down'")
            continue
        bad = [k.strip() for k in keys.split(",") if not valid_key(k.strip())]
        if bad:
            problems.append(f"keymap {label}: '{binding_id}': invalid key '{bad[0]}'")
            continue
        good[str(binding_id)] = keys
    return good, problems


def resolve_path(name_or_path: str) -> tuple[Readable, str]:
    """A bundled keymap by name, or a file path."""
    if name_or_path in bundled_names("keymaps"):
        return bundled("keymaps") / f"{name_or_path}.yaml", name_or_path
    return Path(name_or_path).expanduser(), name_or_path


def load_keymap(name_or_path: str, known_ids: Callable[[], Iterable[str]], *, check_bundled: bool = False) -> Keymap:
    """The default keymap with ``name_or_path`` laid over it. Bad entries are dropped and reported.

    ``known_ids`` imports every screen that owns a binding: it is called for a user's file only.
    The bundled keymaps are checked by the tests (``check_bundled``), not on every start.
    """
    known: set[str] | None = None

    def validate(raw: Mapping[str, object], label: str) -> tuple[dict[str, str], list[str]]:
        nonlocal known
        if known is None:
            known = set(known_ids())
        return _validate(raw, label, known)

    base_raw, problems = _read(bundled("keymaps") / "default.yaml", "default")
    if check_bundled:
        bindings, base_problems = validate(base_raw, "default")
        problems += base_problems
    else:
        bindings = {str(k): str(v) for k, v in base_raw.items()}
    if name_or_path != "default":
        path, label = resolve_path(name_or_path)
        raw, read_problems = _read(path, str(path) if label == name_or_path and "/" in label else label)
        problems += read_problems
        if not read_problems:
            if check_bundled or name_or_path not in bundled_names("keymaps"):
                overlay, overlay_problems = validate(raw, str(path))
            else:
                overlay, overlay_problems = {str(k): str(v) for k, v in raw.items()}, []
            if overlay_problems:
                # A broken user keymap must not leave a half-applied mix: keep only the defaults.
                problems += overlay_problems
            else:
                bindings.update(overlay)
    return Keymap(name=name_or_path, bindings=bindings, problems=tuple(problems))

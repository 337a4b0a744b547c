"""Where the bundled keymaps and themes are."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


def bundled(kind: str) -> Traversable:
    """The folder of bundled ``keymaps`` or ``themes``.

    An installed wheel carries them as ``meshtui.keymaps`` / ``meshtui.themes``; in a source checkout
    (tests run from the repo root import the source tree) they are the top-level folders beside it.
    """
    try:
        return files(f"meshtui.{kind}")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / kind


def bundled_names(kind: str) -> list[str]:
    return sorted(p.name[:-5] for p in bundled(kind).iterdir() if p.name.endswith(".yaml"))

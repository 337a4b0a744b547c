"""One place that builds the backend and the App, for the CLI and for tests alike."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from meshtui.backend.base import Backend
from meshtui.config import Settings

if TYPE_CHECKING:
    from textual.screen import Screen

    from meshtui.app import MeshApp


def make_backend(settings: Settings) -> Backend:
    if settings.demo:
        from meshtui.demo.session import start_demo

        return start_demo(settings.seed, namespace=settings.namespace)
    from meshtui.backend.kube import KubeBackend

    return KubeBackend(kubeconfig=settings.kubeconfig, context=settings.context, namespace=settings.namespace)


def build_app(settings: Settings, *, backend: Backend | None = None, offline: bool = False,
              initial_screen: Screen[Any] | None = None, notices: list[str] | None = None,
              clock: Callable[[], datetime] | None = None) -> MeshApp:
    """The app; ``offline`` (viewing a saved log) builds no backend at all."""
    from meshtui.app import MeshApp
    from meshtui.bindings import known_ids
    from meshtui.keymap import load_keymap

    keymap = load_keymap(settings.keymap, known_ids)
    if backend is None and not offline:
        backend = make_backend(settings)
    journal = None
    if settings.demo:
        from meshtui.demo.session import DemoBackend

        # The demo cluster is new each run: its journal lives, and goes, with the cluster's directory.
        if isinstance(backend, DemoBackend):
            journal = backend.directory / "journal.jsonl"
    return MeshApp(backend, settings, keymap=keymap, initial_screen=initial_screen, notices=notices or [],
                   clock=clock, journal_path=journal)

"""One place that builds the backend and the App, for the CLI and for tests alike."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable

from meshtui.backend.base import Backend
from meshtui.config import Settings

if TYPE_CHECKING:
    from textual.screen import Screen

    from meshtui.app import MeshApp


def make_backend(settings: Settings) -> Backend:
    if settings.demo:
        from meshtui.backend.simulated import SimulatedBackend

        return SimulatedBackend(seed=settings.seed, namespace=settings.namespace)
    # The kubernetes client is a heavy import; the demo never pays for it.
    from meshtui.backend.kube import KubeBackend

    return KubeBackend(kubeconfig=settings.kubeconfig, context=settings.context, namespace=settings.namespace)


def build_app(settings: Settings, *, backend: Backend | None = None, offline: bool = False,
              initial_screen: Screen | None = None, notices: list[str] | None = None,
              clock: Callable[[], datetime] | None = None) -> MeshApp:
    """The app; ``offline`` (viewing a saved log) builds no backend at all."""
    from meshtui.app import MeshApp
    from meshtui.bindings import known_ids
    from meshtui.keymap import load_keymap

    keymap = load_keymap(settings.keymap, known_ids())
    if backend is None and not offline:
        backend = make_backend(settings)
    return MeshApp(backend, settings, keymap=keymap,
                   initial_screen=initial_screen, notices=notices or [], clock=clock)

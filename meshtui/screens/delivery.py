"""Handing work to the UI loop from plain threads (the log tails' dispatchers), which can outlive
the app by a moment."""

from __future__ import annotations

import concurrent.futures
import contextlib
from typing import Any, Callable

from textual.app import App


def deliver(app: App[Any], callback: Callable[..., object], *args: object) -> None:
    """``app.call_from_thread(callback, *args)``, and nothing once the app is closing: the call then
    raises RuntimeError (no loop any more) or CancelledError (the loop cancelled it on its way out),
    and a thread that let either escape printed a traceback after the user had quit."""
    with contextlib.suppress(RuntimeError, concurrent.futures.CancelledError):
        app.call_from_thread(callback, *args)

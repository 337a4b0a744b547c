"""What meshtui's screens share with the app: a typed ``self.app``, and the roles the app calls them in.

The app hands cluster data to every screen on its stack, including screens under a modal, by role
(the Protocols below) rather than by probing for method names: a screen takes part by defining the
role's method with the role's signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from textual.screen import ModalScreen, Screen

from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import MeshReport

if TYPE_CHECKING:
    from textual import getters

    from meshtui.app import MeshApp

ResultT = TypeVar("ResultT")


class MeshScreen(Screen[ResultT]):
    """A full screen of meshtui."""

    # For type checkers only: at run time this stays Textual's property, and meshtui.app (which
    # imports the screens it pushes) is never imported from here.
    if TYPE_CHECKING:
        app = getters.app(MeshApp)


class MeshModalScreen(ModalScreen[ResultT]):
    """A modal screen of meshtui (the same typed ``app``; Textual's modal base cannot share a mixin)."""

    if TYPE_CHECKING:
        app = getters.app(MeshApp)


@runtime_checkable
class ShowsCluster(Protocol):
    """A screen that shows cluster data: it gets every new snapshot and its report, even under a modal.
    ``report`` is None while a first list is being evaluated."""

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None: ...


@runtime_checkable
class ShowsConnection(Protocol):
    """A screen that shows the watch connection's state (app.connection_state)."""

    def refresh_header(self) -> None: ...


@runtime_checkable
class RaisesProxyLogLevels(Protocol):
    """A screen that may have raised proxies' log levels: the app has them put back when it quits.
    Returns one message per proxy it could not restore."""

    def restore_log_levels(self) -> list[str]: ...

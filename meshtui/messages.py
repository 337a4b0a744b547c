"""Messages that carry backend results from worker threads to the UI ("attributes down, messages up")."""

from __future__ import annotations

from textual.message import Message

from meshtui.backend.base import Access, ClusterInfo
from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import MeshReport


class ClusterLoaded(Message):
    """A new snapshot and its engine report (first list, or after a batch of watch events).
    The first list is sent once without a report so a big cluster shows before it is evaluated."""

    def __init__(self, info: ClusterInfo, snapshot: Snapshot, report: MeshReport | None) -> None:
        super().__init__()
        self.info = info
        self.snapshot = snapshot
        self.report = report


class ConnectionState(Message):
    """Watch connection state for the header: "watching", "reconnecting: ...", "error: ..."."""

    def __init__(self, state: str, error: bool = False) -> None:
        super().__init__()
        self.state = state
        self.error = error


class PermissionsChecked(Message):
    def __init__(self, access: dict[str, Access]) -> None:
        super().__init__()
        self.access = access

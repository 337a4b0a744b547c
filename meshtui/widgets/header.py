"""The one-line header: context, connection state, mesh mode, Istio version, read-only."""

from __future__ import annotations

from typing import Mapping

from rich.text import Text
from textual.widgets import Static

from meshtui.backend.base import ClusterInfo
from meshtui.policy.report import MeshReport
from meshtui.render import mode_text
from meshtui.text import safe_rich


def header_text(info: ClusterInfo, state: str, report: MeshReport | None, read_only: bool,
                palette: Mapping[str, str]) -> Text:
    text = Text()
    text.append(" meshtui ", style="bold reverse")
    text.append("  ctx ", style="dim")
    text.append(info.context or "?", style="bold")
    if info.namespace:
        text.append(f" (-n {info.namespace})", style="dim")
    error = state.startswith(("error", "watch stopped", "context"))
    dot_style = palette.get("mtls-disabled", "red") if error else (
        palette.get("mtls-strict", "green") if state == "watching" else palette.get("mtls-permissive", "yellow"))
    text.append("   ● ", style=dot_style)
    text.append(state.split(":", 1)[0] if error else state)
    if report is not None:
        text.append("   mesh ", style="dim")
        mesh = report.mesh
        text.append_text(mode_text(mesh.mtls, palette, label=mesh.mtls + ("?" if mesh.provisional else "")))
        src = mesh.source
        origin = src.name if src.name else ("mesh policy unknown" if mesh.provisional else "no mesh policy")
        text.append(f" ({origin})", style="dim")
        if mesh.unknown:
            # Each refused read named once; cells that rest on one carry a "?".
            text.append("   ? cannot read " + ", ".join(mesh.unknown), style=palette.get("mtls-permissive", "yellow"))
    if not info.istio_installed:
        text.append("   Istio not installed", style=palette.get("mtls-disabled", "red"))
    elif info.istio_version:
        text.append(f"   istio {info.istio_version}", style="dim")
    if read_only:
        text.append("   READ-ONLY", style="bold " + palette.get("mtls-permissive", "yellow"))
    text.append("   ? help", style="dim")
    return safe_rich(text)  # context names and server messages are not ours


class StatusHeader(Static):
    """A one-line bar that is told its text often (on every batch of events or log lines) and
    whose text changes rarely."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; }
    """

    _shown: Text | None = None

    def show(self, text: Text) -> None:
        # Repainting an unchanged line would make the next frame redraw every widget beside it;
        # one line whatever it says: no layout pass either.
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)

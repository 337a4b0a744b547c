"""`e`: why is this pod (or port) STRICT? The chain of levels Istio walks, each deciding policy's
YAML, the clients seen calling it, then those that would fail if they call, and the objects around it."""

from __future__ import annotations

from typing import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from meshtui.change.ports import port_choices
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.clients import FAIL
from meshtui.policy.explain import Explanation, Observed, explain
from meshtui.render import mode_text
from meshtui.screens.dialog import DialogScreen
from meshtui.screens.yaml_view import to_yaml
from meshtui.text import safe_line, safe_rich

WORKLOAD = "workload"


def explanation_view(ex: Explanation, palette: Mapping[str, str]) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text()
    target = f"{ex.pod.namespace}/{ex.pod.name}" + (f" port {ex.port}" if ex.port is not None else "")
    # The verdict starts its own line: a long pod name must not split "is STRICT".
    head.append(f"{target}\nis ", style="bold")
    head.append_text(mode_text(ex.mode, palette, label=ex.mode))
    src = ex.source
    head.append(f"  — decided at {src.level}" + (f" by {src.kind} {src.namespace}/{src.name}" if src.name else ""))
    parts.append(head)
    parts.append(Text("mesh < namespace < workload < port; oldest policy wins inside a level; UNSET inherits",
                      style="dim"))
    for step in ex.levels:
        line = Text()
        line.append("  ✔ " if step.decided else "    ", style="bold")
        line.append(f"{step.level:<10}", style="bold" if step.decided else "")
        if step.mode:
            line.append_text(mode_text(step.mode, palette, label=step.mode, inherited=not step.decided))
            line.append("  ")
        line.append(step.note, style="" if step.decided else "dim")
        parts.append(line)
        if step.raw and step.decided:
            parts.append(Syntax(to_yaml(step.raw), "yaml", theme="ansi_dark", background_color="default",
                                padding=(0, 0, 0, 6)))
    parts.append(Text(""))
    parts += _seen_lines(ex, palette)
    parts.append(Text(""))
    if ex.failing_clients:
        # The engine knows who *can* call (every pod without a sidecar can reach every Service),
        # not who does: the on-call question is "would it fail", so say it that way.
        parts.append(Text(f"Could call (policy, not seen): {len(ex.failing_clients)} clients would fail if they "
                          "call it:", style="bold " + palette.get("mtls-disabled", "red")))
        for p in ex.failing_clients:
            who = f"{p.client.namespace}/{p.client.name}" if p.client else "?"
            svc = f"{p.service.name}:{p.port}" if p.service else str(p.port)
            parts.append(Text(f"  ✗ {who} → {svc}: {p.reason} (sends {p.sends} via {p.sends_source})"))
    else:
        parts.append(Text("Could call (policy): no client would fail against this",
                          style=palette.get("mtls-strict", "green")))
    if ex.related:
        parts += [Text(""), Text("Around this pod (as istioctl x describe pod):", style="bold")]
        for r in ex.related:
            parts += [Text(f"  {r.ref}"), Text(f"      {r.summary}", style="dim")]
    # Names, notes and reasons carry values from the cluster.
    return Group(*(safe_rich(p) if isinstance(p, Text) else p for p in parts))


def _seen_lines(ex: Explanation, palette: Mapping[str, str]) -> list[RenderableType]:
    if not ex.seen_source:
        return [Text("Seen calling: unknown — no traffic source on this cluster; the list below is what "
                     "policy allows, not what happened", style="dim")]
    if not ex.seen_clients:
        return [Text(f"Seen calling ({ex.seen_source}): none", style="dim")]
    lines: list[RenderableType] = [Text(f"Seen calling ({ex.seen_source}):", style="bold")]
    for p in ex.seen_clients:
        who = str(p.client) if p.client else "?"
        svc = f"{p.service.name}:{p.port}" if p.service else str(p.port)
        failed = p.outcome == FAIL
        mark = Text("  ✗ " if failed else "  ✔ ", style=palette.get("mtls-disabled" if failed else "mtls-strict", ""))
        lines.append(mark + Text(f"{who} → {svc}: sent plaintext; "
                                 + (p.reason if failed else f"accepted ({p.server_mode} on port {p.target_port})")))
    return lines


class ExplainScreen(DialogScreen):
    BINDINGS = [Binding("y", "yaml", "Deciding YAML", show=False, id="explain.yaml")]

    DEFAULT_CSS = """
    ExplainScreen #explain-ports { width: 40%; height: 1fr; border: none; }
    ExplainScreen #explain-body { width: 1fr; height: 1fr; padding: 0 1; }
    """

    def __init__(self, snapshot: Snapshot, pod: Pod, observed: Sequence[Observed] | None = None,
                 observed_source: str = "") -> None:
        super().__init__()
        self.snapshot = snapshot
        self.pod = pod
        self.observed = observed
        self.observed_source = observed_source

    def compose(self) -> ComposeResult:
        with Horizontal(classes="dialog") as box:
            box.border_title = Text(safe_line(f"Explain mTLS  {self.pod.namespace}/{self.pod.name}"))
            options = [Option("whole workload", id=WORKLOAD)]
            options += [Option(c.describe(), id=str(c.port)) for c in port_choices(self.snapshot, self.pod)]
            yield OptionList(*options, id="explain-ports")
            with VerticalScroll(id="explain-body"):
                yield Static(id="explain-text")

    def on_mount(self) -> None:
        self.show(None)
        self.query_one("#explain-ports", OptionList).focus()

    def show(self, port: int | None) -> None:
        self.explanation = explain(self.snapshot, self.pod, port, self.observed, self.observed_source)
        self.query_one("#explain-text", Static).update(explanation_view(self.explanation, self.app.theme_variables))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_id = event.option.id
        self.show(None if option_id in (None, WORKLOAD) else int(option_id))

    def action_yaml(self) -> None:
        from meshtui.screens.yaml_view import YamlScreen

        deciding = next((s for s in self.explanation.levels if s.decided and s.raw), None)
        if deciding is not None and deciding.policy is not None:
            self.app.push_screen(YamlScreen(str(deciding.policy), dict(deciding.raw or {})))

"""Findings you can act on: one finding in full (message, fix, the object's YAML), and `F`, every
finding of the mesh in one filterable list."""

from __future__ import annotations

from typing import Any, Mapping

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Input, Static

from meshtui.model.objects import Namespace, Pod, Ref, Service, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.report import Finding, MeshReport
from meshtui.render import finding_row, severity_text
from meshtui.screens.base import MeshScreen
from meshtui.screens.dialog import DialogScreen
from meshtui.screens.yaml_view import to_yaml
from meshtui.widgets.resource_table import ResourceTable


def _meta(namespace: str, name: str, labels: Mapping[str, str],
          annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _model_document(obj: object) -> dict[str, Any] | None:
    """The fields meshtui read, for kinds it keeps no raw copy of."""
    if isinstance(obj, Pod):
        owner = [{"kind": obj.owner_kind, "name": obj.owner_name}] if obj.owner_kind else []
        meta = _meta(obj.namespace, obj.name, obj.labels, obj.annotations) | (
            {"ownerReferences": owner} if owner else {})
        containers = [{"name": c.name, "image": c.image} | (
            {"ports": [{"containerPort": p.port} for p in c.ports]} if c.ports else {}) for c in obj.containers]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": {"serviceAccountName": obj.service_account, "containers": containers},
                "status": {"phase": obj.phase, "podIP": obj.ip}}
    if isinstance(obj, Namespace):
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("", obj.name, obj.labels, obj.annotations)}
    if isinstance(obj, Service):
        ports = [{"port": p.port, "targetPort": p.target_port} | ({"name": p.name} if p.name else {})
                 for p in obj.ports]
        return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(obj.namespace, obj.name, obj.labels),
                "spec": {"type": obj.type, "selector": dict(obj.selector), "ports": ports}}
    if isinstance(obj, Workload):
        return {"kind": obj.kind, "metadata": _meta(obj.namespace, obj.name, obj.labels),
                "spec": {"replicas": obj.replicas, "selector": {"matchLabels": dict(obj.selector)},
                         "template": {"metadata": {"labels": dict(obj.template_labels)}}}}
    return None


def object_document(snapshot: Snapshot, ref: Ref) -> Mapping[str, Any] | None:
    """The object a finding is about, as read from the cluster (or the manifests)."""
    collection = {"PeerAuthentication": snapshot.peer_authentications, "DestinationRule": snapshot.destination_rules,
                  "AuthorizationPolicy": snapshot.authorization_policies,
                  "VirtualService": snapshot.virtual_services, "Pod": snapshot.pods, "Service": snapshot.services,
                  "Namespace": snapshot.namespaces}.get(ref.kind)
    key = (ref.namespace, ref.name)
    obj = collection.get(key) if collection is not None else snapshot.workloads.get((ref.namespace,
                                                                                    f"{ref.kind}/{ref.name}"))
    if obj is None:
        return None
    raw = getattr(obj, "raw", None)
    return raw if raw else _model_document(obj)


def _fix_lexer(fix: str) -> str:
    return "bash" if any(line.startswith(("kubectl", "istioctl")) for line in fix.splitlines()) else "yaml"


def finding_view(finding: Finding, snapshot: Snapshot, palette: Mapping[str, str]) -> RenderableType:
    head = Text()
    head.append_text(severity_text(finding.severity, palette))
    head.append(f"  {finding.code}  {finding.ref}", style="bold")
    parts: list[RenderableType] = [head, Text(""), Text(finding.message)]
    if finding.about:
        parts.append(Text("about: " + ", ".join(str(r) for r in finding.about), style="dim"))
    parts += [Text(""), Text("Fix", style="bold"),
              Syntax(finding.fix, _fix_lexer(finding.fix), theme="ansi_dark", background_color="default",
                     word_wrap=True, padding=(0, 0, 0, 2))]
    doc = object_document(snapshot, finding.ref)
    parts += [Text(""), Text(f"{finding.ref}", style="bold")]
    if doc is None:
        parts.append(Text("  (not in the snapshot)", style="dim"))
    else:
        parts.append(Syntax(to_yaml(doc), "yaml", theme="ansi_dark", background_color="default",
                            padding=(0, 0, 0, 2)))
    return Group(*parts)


class FindingScreen(DialogScreen):
    """Enter on a finding: the whole message, the fix, and the YAML of the object to fix."""

    def __init__(self, finding: Finding, snapshot: Snapshot) -> None:
        super().__init__()
        self.finding = finding
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="finding-body") as box:
            box.border_title = f"{self.finding.code}  {self.finding.ref}"
            yield Static(finding_view(self.finding, self.snapshot, self.app.theme_variables), id="finding-text")

    def on_mount(self) -> None:
        self.query_one("#finding-body").focus()


class FindingsScreen(MeshScreen[None]):
    """`F`: every finding of the mesh, filterable by any text of the row (code, namespace, kind, words)."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="findings.filter"),
        Binding("escape", "back", "Back", id="findings.close"),
    ]

    DEFAULT_CSS = """
    FindingsScreen #findings-all { height: 1fr; }
    FindingsScreen #findings-filter { height: 1; border: none; padding: 0 1; display: none; }
    FindingsScreen #findings-filter.visible { display: block; }
    FindingsScreen #findings-summary { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, filter_text: str = "") -> None:
        super().__init__()
        self.table = ResourceTable(["SEV", "CODE", "OBJECT", "MESSAGE"], id="findings-all")
        self.table.filter_text = filter_text
        self.filter_input = Input(placeholder="filter findings…", id="findings-filter")
        self.findings: tuple[Finding, ...] = ()
        self.snapshot = Snapshot()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="findings-summary")
            yield self.filter_input
            yield self.table
        yield Footer()

    def on_mount(self) -> None:
        if self.table.filter_text:
            self.filter_input.value = self.table.filter_text
            self.filter_input.add_class("visible")
        if self.app.snapshot is not None:
            self.update_cluster(self.app.snapshot, self.app.report)
        self.table.focus()

    def update_cluster(self, snapshot: Snapshot, report: MeshReport | None) -> None:
        self.snapshot = snapshot
        self.findings = report.findings if report else ()
        palette = self.app.theme_variables
        self.table.sync([(f.key, finding_row(f, palette, with_namespace=True)) for f in self.findings])
        self._summarize()

    def _summarize(self) -> None:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in ("error", "warning", "info")}
        shown = self.table.row_count
        text = f"Findings  {len(self.findings)}  ({counts['error']} errors, {counts['warning']} warnings, " \
               f"{counts['info']} info)"
        if self.table.filter_text:
            text += f"   filter: {self.table.filter_text}  → {shown} shown"
        self.query_one("#findings-summary", Static).update(text)

    def action_filter(self) -> None:
        self.filter_input.add_class("visible")
        self.filter_input.value = self.table.filter_text
        self.filter_input.focus()

    @on(Input.Changed, "#findings-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._summarize()

    @on(Input.Submitted, "#findings-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_back(self) -> None:
        """One level at a time: the filter being typed, then the filter, then the screen."""
        if self.filter_input.has_focus:
            self.table.focus()
        elif self.table.filter_text:
            self.filter_input.value = ""
            self.filter_input.remove_class("visible")
            self.table.set_filter("")
            self._summarize()
        else:
            self.dismiss()

    @on(ResourceTable.RowSelected, "#findings-all")
    def _open(self) -> None:
        key = self.table.selected_key
        finding = next((f for f in self.findings if f.key == key), None)
        if finding is not None:
            self.app.push_screen(FindingScreen(finding, self.snapshot))

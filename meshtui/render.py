"""Pure row rendering: model + engine results → table cells (Rich Text). No Textual, no I/O.

Policy kinds use Istio's kubectl short names (pa, dr, vs, ap) so the mode fits beside the name.

Colours come in as a mapping of meshtui theme variables (``mtls-strict`` ...) so the same
functions serve every theme and are testable with a plain dict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from rich.text import Text

from meshtui.model.objects import (
    AuthorizationPolicy,
    DestinationRule,
    Namespace,
    PeerAuthentication,
    Pod,
    VirtualService,
)
from meshtui.policy.ambient import WaypointUse
from meshtui.policy.report import Finding, NamespaceSummary, PodMtls

Palette = Mapping[str, str]

MODE_VARIABLE = {
    "STRICT": "mtls-strict",
    "PERMISSIVE": "mtls-permissive",
    "DISABLE": "mtls-disabled",
    "MIXED": "mtls-mixed",
    "NONE": "sidecar-missing",
}
MODE_SHORT = {"STRICT": "STRICT", "PERMISSIVE": "PERM", "DISABLE": "DISABLE", "MIXED": "MIXED", "NONE": "none"}


def age(created: datetime, now: datetime) -> str:
    """kubectl's compact age: 45s, 12m, 5h3m, 3d4h, 120d."""
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes and hours < 10 else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours and days < 10 else f"{days}d"


def mode_text(mode: str, palette: Palette, *, inherited: bool = False, label: str | None = None) -> Text:
    style = palette.get(MODE_VARIABLE.get(mode, ""), "")
    if inherited:
        style = f"{style} dim" if style else "dim"
    return Text(label if label is not None else MODE_SHORT.get(mode, mode), style=style)


def dataplane_label(ns: Namespace, summary: NamespaceSummary | None = None) -> str:
    """The namespace's data plane: "ambient", "sidecar" (or "sidecar@<revision>") or "none"; "?" when
    the Namespace could not be read (unknown labels are not "no injection")."""
    if summary is not None and summary.injection == "unknown":
        return "?"
    plane = ns.dataplane
    if plane == "sidecar" and ns.injection.startswith("rev:"):
        return f"sidecar@{ns.injection[4:]}"
    return plane


def namespace_row(ns: Namespace, summary: NamespaceSummary | None, palette: Palette) -> list[Text | str]:
    if summary is None:
        return [ns.name, Text("…", style="dim"), dataplane_label(ns), ""]
    # The namespace's mode is "inherited" (dim) when no namespace-level policy set it.
    inherited = summary.source.level in ("mesh", "default")
    cell = summary_cell(summary.mtls, summary.without_sidecar, palette, inherited=inherited,
                        provisional=any(r.startswith("mode ") for r in summary.provisional))
    return [
        ns.name,
        cell,
        dataplane_label(ns, summary),
        Text(str(summary.pods), justify="right"),
    ]


def summary_cell(mode: str, without_sidecar: int, palette: Palette, *, inherited: bool = False,
                 provisional: bool = False) -> Text:
    """The policy's mode, then ✗N for pods it cannot protect: STRICT with sidecar-less pods is not STRICT.

    The mark sits in the mode cell so a narrow terminal that cuts the last columns still shows it.
    ``?`` marks a mode that rests on a read RBAC refused (the header names it).
    """
    cell = mode_text(mode, palette, inherited=inherited)
    if provisional:
        cell.append("?", style="bold")
    if without_sidecar:
        cell.append(f" ✗{without_sidecar}", style=palette.get("sidecar-missing", "red"))
    return cell


def pod_mtls_cell(result: PodMtls | None, palette: Palette) -> Text:
    """Workload mode letter, then port exceptions: "S", "P ▲3000:S", "—" without sidecar."""
    if result is None:
        return Text("…", style="dim")
    if not result.in_mesh:
        return Text("—", style=palette.get("sidecar-missing", "red"))
    cell = mode_text(result.mode, palette, inherited=result.source.level in ("mesh", "default"),
                     label=result.mode[:1] + ("?" if result.provisional else ""))
    for port in result.ports:
        if port.source.level == "port":
            cell.append(" ")
            cell.append(f"▲{port.port}:{port.mode[:1]}", style=palette.get(MODE_VARIABLE.get(port.mode, ""), ""))
    return cell


def proxy_cell(pod: Pod, result: PodMtls | None, palette: Palette) -> Text:
    """The sidecar's version, "ztunnel" for ztunnel's own pods, "ambient" for pods ztunnel captures
    ("ambient ✗redir" while istio-cni has not redirected them yet), else "✗ none"."""
    if pod.is_ztunnel:
        return Text(f"ztunnel {pod.proxy_version}".strip())
    if pod.has_sidecar:
        return Text(pod.proxy_version or "yes")
    if result is not None and result.dataplane == "ambient":
        if result.captured:
            return Text("ambient", style=palette.get("mtls-strict", ""))
        return Text("ambient ✗redir", style=palette.get("log-4xx", "yellow"))
    return Text("✗ none", style=palette.get("sidecar-missing", "red"))


def waypoint_row(use: WaypointUse) -> list[Text | str]:
    """A waypoint and what it serves here; a missing one says so."""
    if use.waypoint is None:
        return ["WP", use.missing, Text("missing", style="red"), f"used by {use.via}"]
    return ["WP", use.waypoint.name, f"waypoint ({use.waypoint.traffic_for})", f"serves {use.via}"]


def elide(name: str, width: int | None) -> str:
    """Shorten from the middle, keeping the workload prefix and the pod's unique suffix."""
    if width is None or len(name) <= width:
        return name
    tail = min(5, width // 3)
    return name[: width - tail - 1] + "…" + name[-tail:]


def pod_row(pod: Pod, result: PodMtls | None, palette: Palette, now: datetime,
            name_width: int | None = None) -> list[Text | str]:
    ready, total = pod.ready_count
    ready_style = "" if ready == total and total else palette.get("log-4xx", "yellow")
    proxy = proxy_cell(pod, result, palette)
    status_style = "" if pod.status in ("Running", "Succeeded") else palette.get("log-5xx", "red")
    # mTLS right after READY: at narrow widths the columns that scroll off are the least needed.
    return [
        elide(pod.name, name_width),
        Text(f"{ready}/{total}", style=ready_style),
        pod_mtls_cell(result, palette),
        proxy,
        Text(pod.status, style=status_style),
        Text(str(pod.restarts), justify="right"),
        Text(age(pod.created, now), justify="right"),
    ]


def _selector_label(selector: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) if selector else ""


def peer_authentication_rows(pa: PeerAuthentication, root_namespace: str, palette: Palette,
                             without_sidecar: int = 0) -> list[list[Text | str]]:
    """One row for the policy, then one per port-level entry; ✗N when it covers N sidecar-less pods."""
    if pa.selector is None:
        scope = "mesh" if pa.namespace == root_namespace else "namespace"
    else:
        scope = "ignored (root ns)" if pa.namespace == root_namespace else f"workload {_selector_label(pa.selector)}"
    mode = pa.mode or "UNSET"
    cell = mode_text(mode, palette, inherited=mode == "UNSET", label=mode)
    if without_sidecar:
        cell.append(f" ✗{without_sidecar}", style=palette.get("sidecar-missing", "red"))
    rows: list[list[Text | str]] = [["PA", pa.name, cell, scope]]
    for port, port_mode in sorted(pa.port_level.items()):
        label = port_mode or "UNSET"
        rows.append(["", f"  └ port {port}", mode_text(label, palette, label=label), "port"])
    return rows


def destination_rule_row(dr: DestinationRule, palette: Palette) -> list[Text | str]:
    mode = dr.tls.mode if dr.tls else "auto-mTLS"
    summary = Text(mode, style=palette.get("mtls-strict", "") if mode == "ISTIO_MUTUAL" else "")
    if dr.port_tls:
        summary.append(" " + " ".join(f"{p}:{t.mode}" for p, t in sorted(dr.port_tls.items())), style="dim")
    return ["DR", dr.name, summary, dr.host]


def virtual_service_row(vs: VirtualService) -> list[Text | str]:
    routes = (vs.raw.get("spec") or {}).get("http") or []
    parts = []
    for route in routes[:1]:
        retries = (route.get("retries") or {}).get("attempts")
        if retries is not None:
            parts.append(f"{retries} retries")
        if route.get("timeout"):
            parts.append(f"timeout {route['timeout']}")
    return ["VS", vs.name, ", ".join(parts) or f"{len(routes)} routes", ",".join(vs.hosts)]


def authorization_policy_row(ap: AuthorizationPolicy) -> list[Text | str]:
    scope = f"workload {_selector_label(ap.selector)}" if ap.selector else "namespace"
    summary = "deny all" if ap.action == "ALLOW" and not ap.rules else f"{ap.action} {len(ap.rules)} rules"
    return ["AP", ap.name, summary, scope]


SEVERITY_MARK = {"error": ("✗ error", "log-5xx"), "warning": ("! warn", "log-4xx"), "info": ("i info", "")}
KIND_SHORT = {"PeerAuthentication": "pa", "DestinationRule": "dr", "AuthorizationPolicy": "ap",
              "VirtualService": "vs", "Namespace": "ns", "Service": "svc", "Deployment": "deploy",
              "StatefulSet": "sts", "DaemonSet": "ds"}


def severity_text(severity: str, palette: Palette) -> Text:
    label, variable = SEVERITY_MARK.get(severity, (severity, ""))
    return Text(label, style=palette.get(variable, "") if variable else "dim")


def finding_object(f: Finding, *, with_namespace: bool = False) -> str:
    """kubectl-style short reference: ``pa/default``, ``pod/worker-…``, ``ns/legacy``."""
    kind = KIND_SHORT.get(f.kind, f.kind.lower())
    name = f"{f.namespace}/{f.name}" if with_namespace and f.namespace else f.name
    return f"{kind}/{name}"


def one_line(message: str) -> str:
    """The first sentence; a long "what: detail" sentence keeps only what."""
    line = message.split(". ")[0].rstrip(".")
    return line.split(": ")[0] if len(line) > 90 and ": " in line else line


def finding_cell(f: Finding, palette: Palette, width: int) -> Text:
    """Two lines for a narrow pane: severity, code and object, then the message cut to ``width``."""
    label, variable = SEVERITY_MARK.get(f.severity, (f.severity, ""))
    cell = Text(label[0], style=palette.get(variable, "") if variable else "dim")
    cell.append(f" {f.code}  {finding_object(f)}\n")
    line = one_line(f.message)
    cell.append("  " + (line if len(line) <= width - 2 else line[: max(1, width - 3)] + "…"), style="dim")
    return cell


def finding_row(f: Finding, palette: Palette, *, with_namespace: bool = False) -> list[Text | str]:
    """SEV, CODE, OBJECT, one-line MESSAGE."""
    return [severity_text(f.severity, palette), f.code, finding_object(f, with_namespace=with_namespace),
            one_line(f.message)]

"""The migration report as data (the stable JSON of ``meshtui migrate --plan``, docs/migrate.md)
and as a table for terminals."""

from __future__ import annotations

from typing import Any

from meshtui.migrate.export import objects_yaml
from meshtui.migrate.observe import Observation
from meshtui.migrate.plan import Step
from meshtui.migrate.preflight import Preflight
from meshtui.text import safe_line


def step_data(step: Step) -> dict[str, Any]:
    objects = [{"kind": c.kind, "namespace": c.namespace, "name": c.name, "yaml": objects_yaml([c])}
               for c in step.plan.changes]
    return {"n": step.n, "title": step.title, "objects": objects, "affects": list(step.affects)}


def to_data(report: Preflight, seen: Observation) -> dict[str, Any]:
    """Not ready while a pod's callers are unknown: an unread pod is not a pod without plaintext callers."""
    return {
        "scope": report.scope.to_data(),
        "ready": report.ready and not seen.unread,
        "blockers": [i.to_data() for i in report.blockers],
        "warnings": [i.to_data() for i in report.warnings],
        "plaintext_clients": [c.to_data() for c in seen.callers],
        "unknown": [u.to_data() for u in seen.unread],
        "steps": [step_data(s) for s in report.steps],
    }


def render_table(data: dict[str, Any], window_s: float) -> str:
    scope = data["scope"]
    where = "mesh" if scope["mesh"] else ", ".join(scope["namespaces"])
    lines = [f"Migration to STRICT: {where} — {'READY' if data['ready'] else 'BLOCKED'}", ""]
    for title, key in (("Blockers", "blockers"), ("Warnings", "warnings")):
        lines.append(f"{title}: {len(data[key])}")
        for f in data[key]:
            name = f"{f['kind']} {f['namespace']}/{f['name']}" if f["namespace"] else f"{f['kind']} {f['name']}"
            lines.append(f"  [{f['code']}] ({name}) {f['message']}")
            lines += [f"      fix: {line}" for line in f["fix"].splitlines()[:3]]
        lines.append("")
    seen = f"over {window_s:g}s (TLS check: metrics, access log)" if window_s else "(not observed: --window 0)"
    lines.append(f"Plaintext clients {seen}: {len(data['plaintext_clients'])}")
    lines += [f"  {c['namespace'] + '/' if c['namespace'] else ''}{c['workload']} → {c['target']}  "
              f"{c['rate_per_s']:.2f}/s" for c in data["plaintext_clients"]]
    if data["unknown"]:
        lines.append(f"Callers unknown (metrics not read) for {len(data['unknown'])} pod(s):")
        lines += [f"  {u['pod']}: {u['reason']}" for u in data["unknown"]]
    lines += ["", f"Steps: {len(data['steps'])}"]
    for step in data["steps"]:
        objs = ", ".join(f"{o['kind']} {o['namespace']}/{o['name']}" for o in step["objects"])
        lines.append(f"  {step['n']:>2}. {step['title']}  ({objs})")
    # Names, reasons and callers come from the cluster and pods' logs: none may drive the terminal.
    return "\n".join(safe_line(line) for line in lines) + "\n"

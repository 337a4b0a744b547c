"""The policy engine's predicted impact of a plan, as the lines the preview shows."""

from __future__ import annotations

from typing import Iterable

from meshtui.change.plan import ChangePlan
from meshtui.model.objects import Pod
from meshtui.policy.impact import Impact, Observed, impact

# More lines than this stop being read; the rest is summarised as a count.
MAX_LINES_PER_SECTION = 12


def _observed_client(client: Pod | str) -> Pod | str:
    """The engine names callers outside the snapshot "namespace/name"; the simulated traffic model
    reports them as a Ref ("Deployment legacy/batch-reporter")."""
    if isinstance(client, str):
        kind, _, ref = client.partition(" ")
        if kind[:1].isupper() and "/" in ref and " " not in ref:
            return ref  # "Deployment legacy/batch-reporter"; a TLS check's "external via …" stays whole
    return client


def plan_impact(plan: ChangePlan, observed: Iterable[Observed] = ()) -> Impact:
    calls = [(_observed_client(c), ns, name, port) for c, ns, name, port in observed]
    return impact(plan.before, plan.predicted, calls)


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES_PER_SECTION:
        return lines
    return [*lines[:MAX_LINES_PER_SECTION], f"… and {len(lines) - MAX_LINES_PER_SECTION} more"]


OBSERVED = "observed plaintext"


def impact_lines(result: Impact) -> list[str]:
    """Breakage first, then mode changes. Callers seen in the traffic are listed one call a line;
    clients that merely could call (every pod without a sidecar can reach every Service) are
    grouped one line per client, or the few real failures drown in all-pairs noise."""
    failing = [
        f"FAILS {p.client} → {p.service}:{p.port} ({p.sends_source}): {p.reason}"
        for p in result.failing_clients if p.sends_source == OBSERVED
    ]
    potential: dict[str, list[str]] = {}
    for p in result.failing_clients:
        if p.sends_source != OBSERVED:
            key = f"{p.client} ({p.sends_source})"
            potential.setdefault(key, []).append(f"{p.service.name if p.service else '?'}:{p.port}")
    for client, targets in potential.items():
        shown = ", ".join(targets[:4]) + (f" and {len(targets) - 4} more" if len(targets) > 4 else "")
        failing.append(f"FAILS if it calls: {client} → {shown}")
    findings = [f"{f.code} {f.kind} {f.namespace}/{f.name}: {f.message}"
                for f in (*result.rule_conflicts, *result.exposures)]
    modes = [f"{c.pod.namespace}/{c.pod.name} port {c.port}: {c.old} → {c.new}" for c in result.changes]
    return [*_capped(failing), *_capped(findings), *_capped(modes)]

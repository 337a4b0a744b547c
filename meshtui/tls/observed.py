"""A TLS check's plaintext callers as the change preview's "observed" calls, with where they come from."""

from __future__ import annotations

from datetime import datetime, timedelta

from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import analyze
from meshtui.policy.explain import Observed
from meshtui.policy.impact import Impact
from meshtui.policy.report import PERMISSIVE, STRICT
from meshtui.policy.services import target_port
from meshtui.tls.report import TlsReport

# Older evidence says little about who calls now.
RECENT = timedelta(minutes=10)


def is_recent(checked_at: datetime | None, now: datetime) -> bool:
    return checked_at is not None and now - checked_at <= RECENT


def observed_callers(report: TlsReport, snapshot: Snapshot) -> list[Observed]:
    """(caller, server namespace, Service, Service port) for every caller the check saw sending plaintext
    in its window (accepted now, or refused). Callers are "namespace/workload", or for one outside the
    mesh the description of where it came from: the preview then says they *will* fail, as observed."""
    analysis = analyze(snapshot)
    out: set[Observed] = set()
    for w in report.workloads:
        server = next((p for name in w.pods if (p := snapshot.pods.get((w.namespace, name))) is not None), None)
        if server is None:
            continue
        for port in w.ports:
            for c in port.clients:
                if c.security != "plaintext" or not (c.rate_per_s > 0 or c.rejected):
                    continue
                caller = f"{c.namespace}/{c.workload}" if c.namespace else c.workload
                for svc in analysis.services.services_of(server):
                    out.update((caller, svc.namespace, svc.name, sp.port) for sp in svc.ports
                               if port.port in (0, target_port(sp, server)))
    return sorted(out)


def unchecked_strict_pods(impact: Impact, checked: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """Pods a change moves from PERMISSIVE to STRICT on some port that ``checked`` (the pods a recent
    TLS check covered) leaves out: who calls them in plaintext is not known until they are checked."""
    return frozenset(c.pod.key for c in impact.changes
                     if c.old == PERMISSIVE and c.new == STRICT and c.pod.key not in checked)


def checked_pods(report: TlsReport | None) -> frozenset[tuple[str, str]]:
    """The pods a TLS check read (with or without a verdict)."""
    if report is None:
        return frozenset()
    return frozenset((w.namespace, pod) for w in report.workloads for pod in w.pods)


def quick_check_note(report: TlsReport) -> str:
    """What a change preview's own quick check observed, said as evidence with its window, not certainty."""
    # A certificate that could not be read still leaves the traffic evidence; stats and pod errors do not.
    unread = len({e.pod for e in report.errors if e.message.startswith(("stats:", "pod:"))})
    missing = f"; no traffic evidence from {unread} of them, see t for why" if unread else ""
    return (f"observed plaintext callers: quick TLS check of {report.pods_done}/{report.pods_total} affected pods "
            f"during this preview (metrics {report.window_s:g}s apart and the access log of that window{missing}); "
            f"what was seen, not a guarantee: a client that did not call in those {report.window_s:g}s is not listed")


def evidence_note(report: TlsReport, checked_at: datetime, now: datetime) -> str:
    minutes = int((now - checked_at).total_seconds() // 60)
    age = "just now" if minutes < 1 else f"{minutes} min ago"
    return (f"observed plaintext callers: TLS check {age} (metrics {report.window_s:g}s apart and the access "
            f"log of that window; {report.pods_done}/{report.pods_total} pods)")

"""One-line summaries of a TLS check's results, shared by `meshtui tls` and the TLS check screen."""

from __future__ import annotations

from meshtui.tls.certs import OK as CERT_OK
from meshtui.tls.certs import span
from meshtui.tls.report import PortResult, WorkloadResult
from meshtui.tls.syncz import SYNCED

SECURITY_LABEL = {"mutual_tls": "mTLS", "plaintext": "plaintext", "unknown": "unknown"}


def _rate(value: float) -> str:
    return f"{value:.2f}/s" if value < 10 else f"{value:.0f}/s"


def clients_cell(port: PortResult) -> str:
    """"mTLS 1.20/s · plaintext 0.25/s (legacy/batch-reporter)"; counters when nothing moved."""
    parts = []
    for security in ("mutual_tls", "plaintext", "unknown"):
        group = [c for c in port.clients if c.security == security]
        if not group:
            continue
        rate = sum(c.rate_per_s for c in group)
        total = sum(c.requests + c.connections for c in group)
        refused = sum(c.rejected for c in group)
        text = f"{SECURITY_LABEL[security]} {_rate(rate)}" if rate else f"{SECURITY_LABEL[security]} {total} total"
        if refused:
            text += f", {refused} refused"
        if security != "mutual_tls":
            active = [c for c in group if c.rate_per_s or c.rejected] or group
            text += f" ({', '.join(c.name for c in active)})"
        parts.append(text)
    return " · ".join(parts) or "-"


def cert_cell(workload: WorkloadResult) -> str:
    """The most urgent certificate of the workload's pods: "ok 18h0m", "EXPIRING 2h40m", "-"."""
    if not workload.certs:
        return "-"
    bad = [c for c in workload.certs if c.status != CERT_OK]
    cert = min(bad or workload.certs, key=lambda c: c.seconds_left if c.seconds_left is not None else -1)
    label = cert.status if cert.status == CERT_OK else cert.status.upper()
    return f"{label} {span(cert.seconds_left)}" if cert.seconds_left is not None else label


def sync_cell(workload: WorkloadResult) -> str:
    if not workload.sync:
        return "-"
    bad = [s for s in workload.sync if s.status != SYNCED]
    if not bad:
        return SYNCED
    return f"{bad[0].status} ({len(bad)}/{len(workload.sync)})"

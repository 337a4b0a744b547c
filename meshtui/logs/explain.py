"""What a log line means, as (heading, plain words) pairs for the explain panel. Pure."""

from __future__ import annotations

from meshtui.logs.clients import Client, host_of
from meshtui.logs.flags import explain_details, explain_flag, explain_mtls, explain_transport_failure
from meshtui.logs.record import LogRecord

Explanation = list[tuple[str, str]]


def _summary(record: LogRecord) -> str:
    side = {"inbound": "Inbound (this pod served it)", "outbound": "Outbound (this pod called out)"}.get(
        record.direction or "", "Direction unknown")
    if record.kind == "tcp" or (record.method is None and record.path is None):
        what = "TCP connection"
    else:
        what = f"{record.method or '-'} {record.path or '-'}"
    code = "no HTTP response (0)" if record.code == 0 else str(record.code)
    return f"{side}: {what} → {code}"


_TLS_WORDS = {"mtls": "mTLS", "tls": "TLS (not Istio mTLS)", "plaintext": "plaintext"}


def connection(record: LogRecord, client: Client | None) -> str | None:
    """"plaintext from legacy/batch-reporter (10.244.1.152) to port 3001": how the connection came
    in, who sent it and where to. ``client`` is the resolved downstream peer, if known."""
    who = client.description if client else host_of(record.downstream_remote)
    if not who:
        return None
    words = f"{_TLS_WORDS[record.tls]} from {who}" if record.tls else f"from {who}"
    local = record.downstream_local or ""
    port = local.rpartition(":")[2]
    return f"{words} to port {port}" if port.isdigit() else words


def explain(record: LogRecord, client: Client | None = None) -> Explanation:
    """Headings and explanations for every notable part of the line, mTLS trouble first.
    ``client`` is the resolved downstream peer, when the caller knows the cluster."""
    if record.kind == "raw":
        return [("Raw line", "Not an access log line meshtui recognises; shown as it came.")]
    if record.kind == "marker":
        return [("Change", f"{record.message}: meshtui changed the cluster here. The lines after it came "
                           "after the change (give the proxies a few seconds to receive the new config).")]
    out: Explanation = []
    if record.mtls_problem:
        out.append(("mTLS / policy", explain_mtls(record.mtls_problem)))
    if record.kind == "envoy":
        out.append((f"Proxy log · {record.level or '?'} · {record.logger or '-'}", record.message or ""))
        return out
    out.append(("Request", _summary(record)))
    came = connection(record, client)
    if came:
        out.append(("Client", came))
    for flag in record.flags:
        out.append((f"Flag {flag}", explain_flag(flag)))
    if record.details:
        out.append(("Details", f"{record.details}: {explain_details(record.details)}"))
    if record.termination:
        out.append(("Connection termination", record.termination.replace("_", " ")))
    if record.transport_failure:
        out.append(("Transport failure", explain_transport_failure(record.transport_failure)))
    upstream = " ".join(x for x in (record.upstream_cluster, record.upstream_host) if x)
    if upstream:
        out.append(("Upstream", upstream))
    if record.sni:
        out.append(("SNI", f"{record.sni} (an Istio mTLS client named this destination)"
                    if record.sni.startswith("outbound_.") else record.sni))
    if record.duration_ms is not None:
        sizes = f"{record.bytes_in or 0} B in, {record.bytes_out or 0} B out"
        out.append(("Duration", f"{record.duration_ms} ms, {sizes}"))
    return out

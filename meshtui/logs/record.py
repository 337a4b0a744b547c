"""One parsed istio-proxy log line. Pure data: no Textual, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["access", "tcp", "json", "envoy", "raw", "ztunnel"]
Direction = Literal["inbound", "outbound"]

# The fields `meshtui logs --output json` prints, in this order (issue #5, requirement 4).
DOCUMENTED_FIELDS: tuple[str, ...] = (
    "time", "direction", "method", "path", "protocol", "code", "flags", "details", "termination",
    "transport_failure", "bytes_in", "bytes_out", "duration_ms", "upstream_host", "upstream_cluster",
    "authority", "sni", "raw",
)


@dataclass(frozen=True, slots=True)
class ZtunnelAccess:
    """The peers of one ztunnel access line (ambient mode); absent fields are None."""

    src_addr: str | None = None
    src_workload: str | None = None
    src_namespace: str | None = None
    src_identity: str | None = None
    dst_addr: str | None = None
    dst_hbone_addr: str | None = None
    dst_service: str | None = None
    dst_workload: str | None = None
    dst_namespace: str | None = None
    dst_identity: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A log line and whatever the format chain could read from it.

    Absent values are None (Envoy prints "-" for them). ``kind`` says which format matched;
    ``level``/``logger``/``message`` are set for the proxy's own log lines (kind "envoy").
    ``problem`` marks lines worth an engineer's attention; ``mtls_problem`` is a key of
    :data:`meshtui.logs.flags.MTLS_PROBLEMS` when the line looks like mTLS/TLS/RBAC trouble.
    """

    raw: str
    kind: Kind = "raw"
    time: str | None = None
    direction: Direction | None = None
    method: str | None = None
    path: str | None = None
    protocol: str | None = None
    code: int | None = None
    flags: tuple[str, ...] = ()
    details: str | None = None
    termination: str | None = None
    transport_failure: str | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    duration_ms: int | None = None
    upstream_host: str | None = None
    upstream_cluster: str | None = None
    authority: str | None = None
    sni: str | None = None
    request_id: str | None = None
    user_agent: str | None = None
    downstream_local: str | None = None
    downstream_remote: str | None = None
    route: str | None = None
    level: str | None = None
    logger: str | None = None
    message: str | None = None
    problem: bool = False
    mtls_problem: str | None = None
    # Set for ztunnel's access lines (kind "ztunnel").
    ztunnel: ZtunnelAccess | None = None

    def documented(self) -> dict[str, Any]:
        """The documented fields as JSON-ready values (flags as a list, None for absent)."""
        out: dict[str, Any] = {}
        for name in DOCUMENTED_FIELDS:
            value = getattr(self, name)
            out[name] = list(value) if name == "flags" else value
        return out


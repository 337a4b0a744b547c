"""Envoy's admin ``/certs`` → the workload certificate a sidecar holds, and whether it is healthy.

Envoy answers ``{"certificates": [{"ca_cert": [...], "cert_chain": [...]}]}``, each certificate with
``subject_alt_names``, ``valid_from`` and ``expiration_time`` (RFC 3339). An Istio sidecar holds
its workload certificate (SDS ``default``, a SPIFFE URI SAN) and the mesh root (``ROOTCA``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

OK = "ok"
EXPIRING = "expiring"
EXPIRED = "expired"
WRONG_IDENTITY = "wrong-identity"
MISSING = "missing"

# Istio rotates at half-life; less than a quarter left means rotation is failing.
EXPIRING_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class CertInfo:
    pod: str
    status: str
    spiffe_id: str = ""
    expected_id: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    seconds_left: int | None = None
    root_not_after: datetime | None = None
    detail: str = ""


def expected_spiffe_id(trust_domain: str, namespace: str, service_account: str) -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _uri_sans(cert: dict[str, Any]) -> list[str]:
    sans = cert.get("subject_alt_names") or []
    return [str(s["uri"]) for s in sans if isinstance(s, dict) and s.get("uri")]


def _certs(doc: Any, field: str) -> list[dict[str, Any]]:
    out = []
    for entry in (doc.get("certificates") or []) if isinstance(doc, dict) else []:
        if isinstance(entry, dict):
            out += [c for c in entry.get(field) or [] if isinstance(c, dict)]
    return out


def parse_certs(text: str, pod: str, expected_id: str, now: datetime) -> CertInfo:
    """The workload certificate's identity and validity; status per the module's rules."""
    try:
        doc = json.loads(text)
    except ValueError:
        return CertInfo(pod, MISSING, expected_id=expected_id, detail="/certs did not answer JSON")
    roots = [t for t in (_time(c.get("expiration_time")) for c in _certs(doc, "ca_cert")) if t]
    root_after = min(roots) if roots else None
    chain = [c for c in _certs(doc, "cert_chain") if any(u.startswith("spiffe://") for u in _uri_sans(c))]
    if not chain:
        return CertInfo(pod, MISSING, expected_id=expected_id, root_not_after=root_after,
                        detail="the proxy holds no workload certificate (SDS 'default' not served)")
    cert = chain[0]
    spiffe = next(u for u in _uri_sans(cert) if u.startswith("spiffe://"))
    start, end = _time(cert.get("valid_from")), _time(cert.get("expiration_time"))
    left = int((end - now).total_seconds()) if end else None
    info = CertInfo(pod, OK, spiffe, expected_id, start, end, left, root_after)
    if end is None or left is None:
        return _replace(info, MISSING, "the certificate has no readable expiration_time")
    if left <= 0:
        return _replace(info, EXPIRED, f"expired {_span(-left)} ago")
    if expected_id and spiffe != expected_id:
        return _replace(info, WRONG_IDENTITY, f"holds {spiffe}, the pod's ServiceAccount is {expected_id}")
    if start is not None and end > start and left < (end - start).total_seconds() * EXPIRING_FRACTION:
        return _replace(info, EXPIRING, f"{_span(left)} left of {_span(int((end - start).total_seconds()))}: "
                        "rotation is not happening (istiod reachable? istio-proxy SDS errors?)")
    return info


def _replace(info: CertInfo, status: str, detail: str) -> CertInfo:
    return replace(info, status=status, detail=detail)


def _span(seconds: int) -> str:
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def span(seconds: int | None) -> str:
    """A short human duration ("3h12m"); "-" when unknown."""
    return "-" if seconds is None else _span(max(0, seconds))

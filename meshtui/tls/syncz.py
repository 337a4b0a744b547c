"""istiod's ``/debug/syncz`` → whether each proxy holds the config istiod last sent it.

The endpoint (pilot/pkg/xds/debug.go ``Syncz``) answers a JSON list, one entry per connected proxy:
``proxy`` ("POD.NAMESPACE"), ``istio_version``, and per xDS type the nonce sent and the nonce the
proxy acknowledged (``cluster_sent`` / ``cluster_acked``, ``listener_*``, ``route_*``,
``endpoint_*``), newer istiods also a ``resources`` map by type URL with ``sent`` / ``acked`` /
``lastError``. A type is SYNCED when the acked nonce equals the sent one, STALE when it does not,
NOT SENT when nothing was sent: the reading ``istioctl proxy-status`` prints (statusgen.go).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

SYNCED = "SYNCED"
STALE = "STALE"
NOT_SENT = "NOT SENT"
ERROR = "ERROR"
NOT_CONNECTED = "NOT CONNECTED"

# The types every sidecar subscribes to; ECDS and others are often legitimately not sent.
_TYPES = ("cluster", "listener", "route", "endpoint")
_TYPE_URLS = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster": "cluster",
    "type.googleapis.com/envoy.config.listener.v3.Listener": "listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration": "route",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment": "endpoint",
}


@dataclass(frozen=True, slots=True)
class SyncInfo:
    proxy: str  # "POD.NAMESPACE"
    status: str
    proxy_version: str = ""
    detail: str = ""


def _type_states(entry: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """xDS type → (sent nonce, acked nonce, last error)."""
    states = {t: (str(entry.get(f"{t}_sent") or ""), str(entry.get(f"{t}_acked") or ""), "") for t in _TYPES}
    resources = entry.get("resources")
    if isinstance(resources, dict):
        for url, res in resources.items():
            name = _TYPE_URLS.get(url)
            if name and isinstance(res, dict):
                states[name] = (str(res.get("sent") or ""), str(res.get("acked") or ""),
                                str(res.get("lastError") or ""))
    return states


def _status(entry: dict[str, Any]) -> tuple[str, str]:
    states = _type_states(entry)
    errors = [f"{t}: {err}" for t, (_, _, err) in states.items() if err]
    if errors:
        return ERROR, "; ".join(errors)
    stale = [t for t, (sent, acked, _) in states.items() if sent and sent != acked]
    if stale:
        return STALE, f"not acknowledged: {', '.join(stale)} (proxy rejected or has not applied the last push)"
    if not any(sent for sent, _, _ in (states["cluster"], states["listener"])):
        return NOT_SENT, "istiod has sent no clusters or listeners to this proxy"
    return SYNCED, ""


def parse_syncz(texts: Iterable[str]) -> dict[str, SyncInfo]:
    """Proxy id → status, merged across istiod replicas (each knows the proxies connected to it).
    Unreadable answers are skipped: the caller reports proxies it cannot find as NOT CONNECTED."""
    out: dict[str, SyncInfo] = {}
    for text in texts:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        for entry in doc if isinstance(doc, list) else []:
            if not isinstance(entry, dict) or not entry.get("proxy"):
                continue
            status, detail = _status(entry)
            proxy = str(entry["proxy"])
            version = str(entry.get("istio_version") or entry.get("proxy_version") or "")
            out[proxy] = SyncInfo(proxy, status, version, detail)
    return out


def proxy_id(namespace: str, pod: str) -> str:
    return f"{pod}.{namespace}"

"""The demo mesh's data plane as the API server relays it: what real sidecars and istiod answer.

- ``pods/log`` of ``istio-proxy``: the access log the traffic model writes for that pod;
- ``pods/proxy`` on 15020 ``stats/prometheus``: pilot-agent's merged Prometheus endpoint (ztunnel's
  connection metrics on a ztunnel pod);
- ``pods/exec`` ``pilot-agent request METHOD PATH``: Envoy's admin API (``/certs``, ``/stats``,
  ``/logging`` to read and change log levels, ``/ready``);
- istiod's ``/debug/syncz``: 401 through pods/proxy on 15014 (istiod authenticates callers that are
  not on localhost, and the API server forwards no credentials), the sync state of every proxy
  through ``pods/exec`` ``pilot-discovery request GET /debug/syncz`` in the ``discovery`` container.

Everything is computed from the traffic model under the store's lock, after the traffic is brought
up to the clock's time, so each answer agrees with the policies and pods of its moment.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from meshtui.demo.apiserver.logs import LogKey, rfc3339_nano
from meshtui.demo.mesh import ISTIO_VERSION, certificate_window, spiffe_id, syncz_entries
from meshtui.demo.traffic import (
    ENVOY_LEVELS,
    ENVOY_LOGGERS,
    envoy_stats_text,
    prometheus_text,
    ztunnel_metrics_text,
)
from meshtui.model.objects import PROXY_CONTAINER, Pod

if TYPE_CHECKING:
    from meshtui.demo.cluster import DemoCluster

LOG_POLL = 0.25  # clock seconds between checks for new log lines
ROOT_VALID_FROM = datetime(2025, 3, 2, 9, 14, 7)
ROOT_LIFETIME = timedelta(days=3650)
PROXY_STATUS_PORT = 15020
ISTIOD_MONITORING_PORT = 15014
SYNCZ = "debug/syncz"
ISTIOD_CONTAINER = "discovery"


class AdminError(Exception):
    """pilot-agent's failure: printed on stderr, exit code 1."""


class SimulatedDataPlane:
    def __init__(self, cluster: DemoCluster) -> None:
        self._cluster = cluster

    # -- pods/log ----------------------------------------------------------------------------------
    def log(self, key: LogKey, *, tail: int | None, since_seconds: int | None, timestamps: bool, follow: bool,
            alive: Callable[[], bool]) -> Iterator[str]:
        namespace, pod, container = key
        cluster = self._cluster
        if container != PROXY_CONTAINER:
            return  # the application containers of the demo write nothing
        with cluster.lock:
            cluster.catch_up()
            log = cluster.traffic.log(namespace, pod)
            entries = list(log.lines)
            seen = log.total
        if since_seconds is not None:
            cutoff = cluster.clock.now() - timedelta(seconds=since_seconds)
            entries = [e for e in entries if e[0] >= cutoff]
        if tail is not None:
            entries = entries[-tail:] if tail > 0 else []
        yield from _render(entries, timestamps)
        while follow and alive():
            if not cluster.clock.sleep(LOG_POLL, cluster.closing):
                return
            with cluster.lock:
                cluster.catch_up()
                if (namespace, pod) not in cluster.model.pods:
                    return
                log = cluster.traffic.log(namespace, pod)
                entries = log.since(seen)
                seen = log.total
            yield from _render(entries, timestamps)

    # -- pods/proxy --------------------------------------------------------------------------------
    def proxy(self, namespace: str, pod: str, port: int, path: str) -> tuple[str, int] | None:
        with self._cluster.lock:
            self._cluster.catch_up()
            model = self._cluster.model.pods.get((namespace, pod))
            if model is None:
                return None
            if _is_istiod(model) and port == ISTIOD_MONITORING_PORT and path.strip("/") == SYNCZ:
                return "Unauthorized\n", 401
            if model.has_sidecar and port == PROXY_STATUS_PORT and path.strip("/") == "stats/prometheus":
                traffic = self._cluster.traffic
                if model.is_ztunnel:
                    return ztunnel_metrics_text(traffic.ztunnel_counts(namespace, pod), model.proxy_version), 200
                return prometheus_text(traffic.counters(namespace, pod), model.proxy_version), 200
        return None

    # -- pods/exec ---------------------------------------------------------------------------------
    def exec(self, namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
        if command == ["pilot-discovery", "request", "GET", "/" + SYNCZ]:
            return self._syncz(namespace, pod, container)
        if command[:2] != ["pilot-agent", "request"] or len(command) not in (3, 4):
            return "", f"exec: {command[0]}: not found\n", 126
        method, path = (command[2], command[3]) if len(command) == 4 else ("GET", command[2])
        with self._cluster.lock:
            self._cluster.catch_up()
            model = self._cluster.model.pods.get((namespace, pod))
            if model is None or not model.has_sidecar or container != PROXY_CONTAINER:
                return "", "Error: failed to reach the Envoy admin endpoint\n", 1
            try:
                return self._admin(model, method.upper(), path), "", 0
            except AdminError as error:
                return "", f"Error: {error}\n", 1

    def _syncz(self, namespace: str, pod: str, container: str) -> tuple[str, str, int]:
        with self._cluster.lock:
            model = self._cluster.model.pods.get((namespace, pod))
            if model is None or not _is_istiod(model) or container != ISTIOD_CONTAINER:
                return "", "exec: pilot-discovery: not found\n", 126
            proxies = [(p.namespace, p.name, p.workload_name, p.proxy_version)
                       for p in self._cluster.model.pods.values() if p.has_sidecar and not p.deleting]
        return json.dumps(syncz_entries(proxies, ISTIO_VERSION), indent=1), "", 0

    def _admin(self, pod: Pod, method: str, path: str) -> str:
        url = urlsplit(path if path.startswith("/") else "/" + path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        traffic = self._cluster.traffic
        if url.path == "/logging":
            return self._logging(pod, method, query)
        if method != "GET":
            raise AdminError(f"{method} {url.path}: this endpoint requires GET")
        counters = traffic.counters(pod.namespace, pod.name)
        answers: dict[str, Callable[[], str]] = {
            "/certs": lambda: self._certs(pod),
            "/stats": lambda: envoy_stats_text(counters, pod.proxy_version),
            "/stats/prometheus": lambda: prometheus_text(counters, pod.proxy_version),
            "/ready": lambda: "LIVE\n",
        }
        if url.path not in answers:
            raise AdminError(f"envoy admin: invalid path {url.path}")
        return answers[url.path]()

    def _logging(self, pod: Pod, method: str, query: dict[str, str]) -> str:
        traffic = self._cluster.traffic
        if query:
            if method != "POST":
                raise AdminError("envoy admin /logging: this endpoint requires POST to change levels")
            changes: dict[str, str] = {}
            for key, value in query.items():
                # ?level=X sets every logger; ?name=X sets one, as Envoy's admin handler reads it.
                logger, level = ("*", value) if key == "level" else (key, value)
                if level not in ENVOY_LEVELS:
                    raise AdminError(f"envoy admin /logging: unknown level {level!r}")
                if logger != "*" and logger not in ENVOY_LOGGERS:
                    raise AdminError(f"envoy admin /logging: unknown logger {logger!r}")
                changes[logger] = level
            traffic.set_log_levels(pod.namespace, pod.name, changes)
        levels = traffic.log_levels(pod.namespace, pod.name)
        return "active loggers:\n" + "".join(f"  {name}: {levels[name]}\n" for name in sorted(levels))

    def _certs(self, pod: Pod) -> str:
        """Envoy's /certs for the workload certificate istiod issued (see certificate_window)."""
        now = self._cluster.clock.now()
        issued, expires = certificate_window(pod.namespace, pod.workload_name, pod.created, now)
        serial = f"{uuid.uuid5(uuid.NAMESPACE_URL, pod.name + issued.isoformat()).int:032x}"
        root_from = ROOT_VALID_FROM.replace(tzinfo=now.tzinfo)

        def cert(sans: list[dict[str, str]], serial: str, start: datetime, end: datetime) -> dict[str, Any]:
            return {
                "path": "<inline>",
                "serial_number": serial,
                "subject_alt_names": sans,
                "days_until_expiration": str(max(0, (end - now).days)),
                "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expiration_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }

        workload = cert([{"uri": spiffe_id(pod.namespace, pod.service_account)}], serial, issued, expires)
        body = {"certificates": [
            {"ca_cert": [cert([], "4e3b7c1b9a5d2f60c8a1e7d3b2f9c4a1", root_from, root_from + ROOT_LIFETIME)],
             "cert_chain": []},
            {"ca_cert": [], "cert_chain": [workload]},
        ]}
        return json.dumps(body, indent=1)

    # -- lifecycle ---------------------------------------------------------------------------------
    def pod_deleted(self, namespace: str, pod: str) -> None:
        """A following log stream notices the pod is gone at its next poll."""

    def close(self) -> None:
        self._cluster.closing.set()


def _is_istiod(pod: Pod) -> bool:
    return pod.labels.get("app") == "istiod"


def _render(entries: list[tuple[datetime, str]], timestamps: bool) -> Iterator[str]:
    for at, line in entries:
        yield f"{rfc3339_nano(at)} {line}\n" if timestamps else f"{line}\n"

"""Following the istio-proxy container's log across restarts of the pod's proxy.

The stream is read on the caller's thread. A small monitor thread closes the open response when the
caller sets ``stop`` (a blocked socket read cannot otherwise be interrupted). When the stream ends
while following, the pod is watched until its proxy runs again, then the new instance is followed.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any, Iterator, Mapping

import urllib3

from meshtui.backend.base import BackendError, LogOptions, NotFound
from meshtui.backend.kube_http import KubeHttp, close_quietly, encode_path
from meshtui.model.objects import PROXY_CONTAINER

# How often the stop monitor re-checks whether the stream already ended without ``stop`` being set;
# threading.Event offers no way to wait on two events, and one wake-up a second is negligible.
MONITOR_INTERVAL = 1.0
POD_WATCH_SECONDS = 60
RESUME_PAUSE = 1.0


def proxy_container(pod: Mapping[str, Any]) -> str | None:
    """The proxy's container name as Istio finds it: a container named istio-proxy, or a native sidecar
    (an init container named istio-proxy with restartPolicy Always)."""
    spec = pod.get("spec") or {}
    if any(c.get("name") == PROXY_CONTAINER for c in spec.get("containers") or ()):
        return PROXY_CONTAINER
    for c in spec.get("initContainers") or ():
        if c.get("name") == PROXY_CONTAINER and c.get("restartPolicy") == "Always":
            return PROXY_CONTAINER
    return None


def running_instance(pod: Mapping[str, Any], container: str) -> str | None:
    """The containerID of ``container`` if it is running now, else None."""
    status = pod.get("status") or {}
    for cs in (*(status.get("containerStatuses") or ()), *(status.get("initContainerStatuses") or ())):
        if cs.get("name") == container and "running" in (cs.get("state") or {}):
            return str(cs.get("containerID") or "running")
    return None


class ProxyLogStream:
    def __init__(self, http: KubeHttp, namespace: str, pod: str, options: LogOptions, stop: threading.Event):
        self.http = http
        self.namespace = namespace
        self.pod = pod
        self.options = options
        self.stop = stop
        self._lock = threading.Lock()
        self._resp: urllib3.BaseHTTPResponse | None = None
        self._done = False

    def lines(self) -> Iterator[str]:
        container = self.options.container
        # Following needs the pod first (it would otherwise wait forever for a container that does not
        # exist). A single read does not: the log request itself fails then, and the pod is fetched
        # only to say why — a request and a pod's JSON saved per pod of a TLS check.
        pod = self._pod_with(container) if self.options.follow else {}
        if self.options.follow:
            # A follow can block in a read for as long as the proxy is quiet: this closes it on stop.
            # A single read is bounded by the request timeout instead, without a thread per read.
            threading.Thread(target=self._monitor, daemon=True, name=f"logs-{self.pod}").start()
        try:
            yield from self._follow(pod, container)
        except BackendError as exc:
            if exc.status in (400, 404):
                self._pod_with(container)
            raise
        finally:
            with self._lock:
                self._done = True
                resp, self._resp = self._resp, None
            close_quietly(resp)

    def _follow(self, pod: Mapping[str, Any], container: str) -> Iterator[str]:
        opts = self.options
        tail, since = opts.tail_lines, opts.since_seconds
        instance = running_instance(pod, container)
        while not self.stop.is_set():
            query = [
                ("container", container),
                ("follow", "true" if opts.follow else None),
                ("tailLines", tail),
                ("sinceSeconds", since),
                ("timestamps", "true" if opts.timestamps else None),
            ]
            try:
                resp = self.http.open(
                    "GET",
                    self._pods() + encode_path(self.pod, "log"),
                    query,
                    accept="*/*",
                    timeout=(self.http.timeout, None) if opts.follow else self.http.timeout,
                )
            except BackendError as exc:
                # 400 is what the server says while the container is not running yet.
                if exc.status != 400 or not opts.follow:
                    raise
                resp = None
            if resp is not None:
                if not self._hold(resp):
                    return
                try:
                    for raw in self.http.lines(resp):
                        yield raw.decode("utf-8", "replace").rstrip("\r")
                except BackendError:
                    if self.stop.is_set():
                        return
                finally:
                    self._hold(None)
                    close_quietly(resp)
            if not opts.follow or self.stop.is_set():
                return
            ended = time.monotonic()
            running = self._await_running(container)
            if running is None:
                return
            new_instance = running_instance(running, container)
            if new_instance != instance:
                tail, since = None, None  # a new container: everything it has logged is new
            else:
                # Same instance, stream closed by the server: resume after a pause so a server that
                # keeps closing cannot make us spin, overlapping a second rather than losing lines.
                if self.stop.wait(RESUME_PAUSE):
                    return
                tail, since = None, math.ceil(time.monotonic() - ended) + 1
            instance = new_instance

    def _hold(self, resp: urllib3.BaseHTTPResponse | None) -> bool:
        with self._lock:
            self._resp = resp
        if resp is not None and self.stop.is_set():
            close_quietly(resp)
            return False
        return True

    def _monitor(self) -> None:
        while not self.stop.wait(MONITOR_INTERVAL):
            with self._lock:
                if self._done:
                    return
        with self._lock:
            resp = self._resp
        close_quietly(resp)

    def _pods(self) -> str:
        return encode_path("api", "v1", "namespaces", self.namespace, "pods")

    def _pod_with(self, container: str) -> dict[str, Any]:
        """The pod; NotFound that says what is missing when it or its ``container`` does not exist."""
        pod = self._get_pod()
        if pod is None:
            raise NotFound(f"pod {self.namespace}/{self.pod} not found")
        if container == PROXY_CONTAINER and proxy_container(pod) is None:
            raise NotFound(f"pod {self.namespace}/{self.pod} has no istio-proxy container (no sidecar)")
        spec = pod.get("spec") or {}
        declared = (*(spec.get("containers") or ()), *(spec.get("initContainers") or ()))
        if container not in {c.get("name") for c in declared}:
            raise NotFound(f"pod {self.namespace}/{self.pod} has no container {container}")
        return pod

    def _get_pod(self) -> dict[str, Any] | None:
        try:
            return self.http.json("GET", self._pods() + encode_path(self.pod))
        except NotFound:
            return None

    def _await_running(self, container: str) -> dict[str, Any] | None:
        """The pod once ``container`` runs; None when the pod is gone or ``stop`` is set."""
        while not self.stop.is_set():
            pod = self._get_pod()
            if pod is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
                return None
            if running_instance(pod, container):
                return pod
            query = [
                ("watch", "true"),
                ("fieldSelector", f"metadata.name={self.pod}"),
                ("resourceVersion", (pod.get("metadata") or {}).get("resourceVersion")),
                ("timeoutSeconds", POD_WATCH_SECONDS),
            ]
            read_timeout = POD_WATCH_SECONDS + 30
            resp = self.http.open("GET", self._pods(), query, timeout=(self.http.timeout, read_timeout))
            if not self._hold(resp):
                return None
            try:
                for line in self.http.lines(resp):
                    event = json.loads(line) if line.strip() else {}
                    obj = event.get("object") or {}
                    if event.get("type") == "DELETED":
                        return None
                    if event.get("type") in ("ADDED", "MODIFIED") and running_instance(obj, container):
                        return obj
            except (BackendError, ValueError):
                if self.stop.is_set():
                    return None
            finally:
                self._hold(None)
                close_quietly(resp)
        return None

"""Traffic evidence for the migration: who sends plaintext into the scope right now.

The narrow interface the wizard and the CLI use:

* :func:`plaintext_callers` (backend, snapshot, pods, window, wait) → list of :class:`PlaintextCaller`
* or, for a caller that drives time itself (the wizard's timer), :func:`take_sample` at the start
  and at the end of a window, then :func:`callers_between`.

Today the evidence is the server sidecars' Prometheus text (pilot-agent :15020
/stats/prometheus through ``backend.proxy_stats``): ``istio_requests_total`` and
``istio_tcp_connections_opened_total`` series with ``reporter="destination"`` and
``connection_security_policy="none"``, two samples a window apart, so a caller counts only when
its counter grew inside the window (plaintext *now*, not since the proxy started). A caller the
server's sidecar cannot name (``source_workload="unknown"``: no sidecar, so no metadata exchange)
is named from that server's access log instead: inbound lines without SNI (plaintext) in the
window, downstream remote address → pod IP → workload, else the address itself (source "logs").
The inside may move onto the TLS-check package (issue 9) without changing these signatures.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from meshtui.backend.base import Backend, BackendError, LogOptions
from meshtui.logs.parser import parse_line
from meshtui.migrate.verify import host_port
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.services import target_port
from meshtui.tls.metrics import inbound, parse_stats

CONCURRENCY = 16  # pods read at once: fast on a big namespace without flooding the API server

# (server pod namespace, server pod, source namespace, source workload, service namespace, service name)
CounterKey = tuple[str, str, str, str, str, str]


@dataclass(frozen=True, slots=True, order=True)
class PlaintextCaller:
    """A client seen sending plaintext to a server port in the window. ``workload`` is "unknown"
    when the server's sidecar could not name it (no metadata exchange: a caller without sidecar
    on a real cluster); ``port`` is the server's container port, 0 when the evidence cannot tell."""

    namespace: str
    workload: str
    target_namespace: str
    target_workload: str
    port: int
    rate_per_s: float = 0.0
    source: str = "metrics"

    @property
    def client(self) -> str:
        return f"{self.namespace}/{self.workload}" if self.namespace else self.workload

    @property
    def target(self) -> str:
        return f"{self.target_namespace}/{self.target_workload}:{self.port}"

    def to_data(self) -> dict[str, Any]:
        """The documented JSON shape (docs/migrate.md)."""
        return {"namespace": self.namespace, "workload": self.workload, "target": self.target,
                "rate_per_s": round(self.rate_per_s, 3)}


@dataclass(frozen=True)
class Sample:
    at: float  # seconds on the caller's clock
    counters: Mapping[CounterKey, float] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


def parse_plaintext(text: str, namespace: str, pod: str) -> dict[CounterKey, float]:
    """Plaintext inbound counters of one sidecar's Prometheus text, summed per source and service
    (the TLS check's parser reads the text: meshtui.tls.metrics)."""
    out: dict[CounterKey, float] = defaultdict(float)
    for caller, traffic in inbound(parse_stats(text)).items():
        if caller.security != "plaintext":
            continue
        key = (namespace, pod, caller.namespace, caller.workload or "unknown", caller.service_namespace,
               caller.service)
        out[key] += traffic.requests + traffic.connections
    return dict(out)


def take_sample(backend: Backend, pods: Iterable[Pod], at: float) -> Sample:
    """One read of every sidecar's metrics, ``CONCURRENCY`` pods at a time."""
    proxied = [p for p in pods if p.has_sidecar and not p.deleting]

    def read(pod: Pod) -> dict[CounterKey, float] | str:
        try:
            return parse_plaintext(backend.proxy_stats(pod.namespace, pod.name), pod.namespace, pod.name)
        except BackendError as exc:
            return f"{pod.namespace}/{pod.name}: {exc}"

    counters: dict[CounterKey, float] = {}
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for result in pool.map(read, proxied):
            if isinstance(result, str):
                errors.append(result)
            else:
                counters.update(result)
    return Sample(at, counters, tuple(errors))


def _port(snapshot: Snapshot, key: CounterKey) -> int:
    pod = snapshot.pods.get((key[0], key[1]))
    svc = snapshot.services.get((key[4], key[5]))
    if pod is None or svc is None:
        return 0
    ports = {tp for sp in svc.ports if (tp := target_port(sp, pod)) is not None}
    return ports.pop() if len(ports) == 1 else 0


def compare(first: Sample, second: Sample, snapshot: Snapshot) -> list[PlaintextCaller]:
    """Callers whose plaintext counters grew between the samples, with their rate per second."""
    elapsed = second.at - first.at
    if elapsed <= 0:
        return []
    grown: dict[tuple[str, str, str, str, int], float] = defaultdict(float)
    for key, value in second.counters.items():
        before = first.counters.get(key, 0.0)
        delta = value - before if value >= before else value  # a restarted proxy starts from zero
        if delta <= 0:
            continue
        pod = snapshot.pods.get((key[0], key[1]))
        workload = pod.workload_name if pod else key[1]
        grown[(key[2], key[3], key[0], workload, _port(snapshot, key))] += delta
    return sorted(PlaintextCaller(ns, wl, tns, twl, port, delta / elapsed)
                  for (ns, wl, tns, twl, port), delta in grown.items())


def _log_callers(backend: Backend, snapshot: Snapshot, caller: PlaintextCaller, window_s: float) -> Counter:
    by_ip = {p.ip: p for p in snapshot.pods.values() if p.ip}
    seen: Counter[tuple[str, str]] = Counter()
    options = LogOptions(follow=False, tail_lines=None, since_seconds=max(1, math.ceil(window_s)))
    for server in snapshot.pods_in(caller.target_namespace):
        if server.workload_name != caller.target_workload or not server.has_sidecar:
            continue
        try:
            lines = list(backend.proxy_logs(server.namespace, server.name, options, threading.Event()))
        except BackendError:
            continue
        for line in lines:
            record = parse_line(line)
            local, remote = host_port(record.downstream_local), host_port(record.downstream_remote)
            if record.direction != "inbound" or record.sni or local is None or remote is None:
                continue
            if caller.port and local[1] != caller.port:
                continue
            pod = by_ip.get(remote[0])
            seen[(pod.namespace, pod.workload_name) if pod else ("", remote[0])] += 1
    return seen


def name_from_logs(backend: Backend, snapshot: Snapshot, callers: list[PlaintextCaller],
                   window_s: float) -> list[PlaintextCaller]:
    """``callers`` with each "unknown" one replaced by the callers the server's access log names."""
    out: list[PlaintextCaller] = []
    for caller in callers:
        seen = _log_callers(backend, snapshot, caller, window_s) if caller.workload == "unknown" else None
        if not seen:
            out.append(caller)
            continue
        out += [replace(caller, namespace=ns, workload=name, rate_per_s=n / window_s, source="logs")
                for (ns, name), n in seen.items()]
    return sorted(out)


def callers_between(backend: Backend, first: Sample, second: Sample, snapshot: Snapshot) -> list[PlaintextCaller]:
    """The plaintext callers of a window from its two samples, unknown ones named from the logs."""
    return name_from_logs(backend, snapshot, compare(first, second, snapshot), second.at - first.at)


def plaintext_callers(backend: Backend, snapshot: Snapshot, pods: Iterable[Pod], window_s: float, *,
                      wait: Callable[[float], bool], clock: Callable[[], float]) -> list[PlaintextCaller]:
    """Plaintext callers of ``pods`` over one window. ``wait(seconds)`` returns False when cancelled
    (then nothing is returned); ``clock`` is the seconds clock ``wait`` advances."""
    pods = list(pods)
    first = take_sample(backend, pods, clock())
    if not wait(window_s):
        return []
    return callers_between(backend, first, take_sample(backend, pods, clock()), snapshot)

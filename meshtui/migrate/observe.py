"""Traffic evidence for the migration: who sends plaintext into the scope right now.

The narrow interface the wizard and the CLI use:

* :func:`plaintext_callers` (backend, snapshot, pods, window, wait) → list of :class:`PlaintextCaller`
* or, for a caller that drives time itself (the wizard's timer), :func:`take_sample` at the start
  and at the end of a window, then :func:`compare`.

Today the evidence is the server sidecars' Prometheus text (pilot-agent :15020
/stats/prometheus through ``backend.proxy_stats``): ``istio_requests_total`` and
``istio_tcp_connections_opened_total`` series with ``reporter="destination"`` and
``connection_security_policy="none"``, two samples a window apart, so a caller counts only when
its counter grew inside the window (plaintext *now*, not since the proxy started). The inside may
move onto the TLS-check package (issue 9) without changing these signatures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from meshtui.backend.base import Backend, BackendError
from meshtui.model.objects import Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.services import target_port

SERIES = ("istio_requests_total", "istio_tcp_connections_opened_total")
_LINE = re.compile(r"^(\w+)\{(.*)\}\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

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
    """Plaintext inbound counters of one sidecar's Prometheus text, summed per source and service."""
    out: dict[CounterKey, float] = defaultdict(float)
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None or m.group(1) not in SERIES:
            continue
        labels = dict(_LABEL.findall(m.group(2)))
        if labels.get("reporter") != "destination" or labels.get("connection_security_policy") != "none":
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        src_ns = labels.get("source_workload_namespace", "")
        key = (namespace, pod, "" if src_ns == "unknown" else src_ns, labels.get("source_workload", "unknown"),
               labels.get("destination_service_namespace", ""), labels.get("destination_service_name", ""))
        out[key] += value
    return dict(out)


def take_sample(backend: Backend, pods: Iterable[Pod], at: float) -> Sample:
    counters: dict[CounterKey, float] = {}
    errors: list[str] = []
    for pod in pods:
        if not pod.has_sidecar or pod.deleting:
            continue
        try:
            counters.update(parse_plaintext(backend.proxy_stats(pod.namespace, pod.name), pod.namespace, pod.name))
        except BackendError as exc:
            errors.append(f"{pod.namespace}/{pod.name}: {exc}")
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


def plaintext_callers(backend: Backend, snapshot: Snapshot, pods: Iterable[Pod], window_s: float, *,
                      wait: Callable[[float], bool], clock: Callable[[], float]) -> list[PlaintextCaller]:
    """Plaintext callers of ``pods`` over one window. ``wait(seconds)`` returns False when cancelled
    (then nothing is returned); ``clock`` is the seconds clock ``wait`` advances."""
    pods = list(pods)
    first = take_sample(backend, pods, clock())
    if not wait(window_s):
        return []
    return compare(first, take_sample(backend, pods, clock()), snapshot)

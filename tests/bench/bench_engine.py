"""Benchmark: evaluate() on 10,000 pods × 3 ports, 2,000 PeerAuthentications, 500 DestinationRules.

Run as a script: ``python tests/bench/bench_engine.py``. Prints the best of several runs; the target
is under one second.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from meshtui.model.objects import (
    Container,
    ContainerPort,
    DestinationRule,
    Namespace,
    PeerAuthentication,
    Pod,
    Service,
    ServicePort,
    TLSSettings,
)
from meshtui.model.snapshot import ModelObject, Snapshot
from meshtui.policy.evaluate import evaluate

NAMESPACES = 100
APPS_PER_NS = 50
PODS_PER_APP = 2
PORTS = (8080, 8443, 9090)
MODES = ("STRICT", "PERMISSIVE", "DISABLE", "UNSET")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def build() -> Snapshot:
    objs: list[ModelObject] = [PeerAuthentication("istio-system", "default", T0, mode="PERMISSIVE")]
    proxy = Container("istio-proxy", "docker.io/istio/proxyv2:1.24.0")
    pas = 1
    for n in range(NAMESPACES):
        ns = f"ns-{n:03d}"
        objs.append(Namespace(ns, labels={"istio-injection": "enabled"}))
        objs.append(PeerAuthentication(ns, "default", T0 + timedelta(seconds=n), mode=MODES[n % 3]))
        pas += 1
        for a in range(APPS_PER_NS):
            app = f"app-{a:02d}"
            ports = tuple(ContainerPort(p, f"p{p}") for p in PORTS)
            for i in range(PODS_PER_APP):
                containers = (
                    (Container("app", "example/app:1", ports), proxy)
                    if (a + i) % 10
                    else (Container("app", "example/app:1", ports),)
                )
                objs.append(
                    Pod(ns, f"{app}-{i}", labels={"app": app, "version": "v1"}, containers=containers)
                )
            objs.append(
                Service(ns, app, selector={"app": app}, ports=tuple(ServicePort(p, f"p{p}") for p in PORTS))
            )
            if pas < 2000 and a < 19:
                objs.append(
                    PeerAuthentication(
                        ns,
                        f"{app}-pa",
                        T0 + timedelta(minutes=a),
                        selector={"app": app},
                        mode=MODES[a % 4],
                        port_level={9090: MODES[(a + 1) % 4]},
                    )
                )
                pas += 1
            if n * 5 + a < 500 and a < 5:
                objs.append(
                    DestinationRule(
                        ns,
                        f"{app}-dr",
                        f"{app}.{ns}.svc.cluster.local",
                        T0,
                        tls=TLSSettings(("ISTIO_MUTUAL", "DISABLE", "SIMPLE")[a % 3]),
                    )
                )
    return Snapshot.build(objs)


def main() -> None:
    snapshot = build()
    pods = len(snapshot.pods)
    pas = len(snapshot.peer_authentications)
    drs = len(snapshot.destination_rules)
    times = []
    for _ in range(3):
        # A new snapshot object each run so no cached analysis is reused.
        fresh = Snapshot.build(snapshot.objects(), snapshot.mesh)
        start = time.perf_counter()
        report = evaluate(fresh)
        times.append(time.perf_counter() - start)
    ports = sum(len(p.ports) for p in report.pods.values())
    print(
        f"pods={pods} ports={ports} peer_authentications={pas} destination_rules={drs} "
        f"findings={len(report.findings)}"
    )
    print(f"evaluate(): best {min(times):.3f} s, worst {max(times):.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()

"""5,000 pods in 100 namespaces on the in-process API server: seeding and a paginated list (limit=500).

Run: ``python tests/bench/bench_apiserver_scale.py``; prints the figures.
"""

from __future__ import annotations

import json
import time
from typing import Any

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http, namespace
from tests.shared_fixtures import ISTIO_CRDS

NAMESPACES, PODS_PER_NAMESPACE = 100, 50


def sidecar_pod(ns: str, name: str) -> dict[str, Any]:
    """A pod the size of a real injected one (two containers, an init container, status)."""
    container = {"image": "docker.io/istio/proxyv2:1.24.0", "resources": {"requests": {"cpu": "10m"}},
                 "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                 "args": ["proxy", "sidecar", "--domain", f"{ns}.svc.cluster.local"],
                 "env": [{"name": f"ISTIO_META_{n}", "value": "x" * 20} for n in range(12)]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name.rsplit("-", 1)[0],
                                                                    "security.istio.io/tlsMode": "istio"},
                         "annotations": {"sidecar.istio.io/status": json.dumps({"containers": ["proxy"]})}},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", **container}],
                     "initContainers": [{"name": "istio-init", "image": "proxyv2"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.0.0.1",
                       "containerStatuses": [{"name": c, "ready": True, "restartCount": 0}
                                             for c in ("app", "istio-proxy")]}}


def main() -> None:
    with Emulator(crds=ISTIO_CRDS) as emulator:
        started = time.perf_counter()
        for n in range(NAMESPACES):
            emulator.add(namespace(f"ns-{n:03d}"))
            for p in range(PODS_PER_NAMESPACE):
                emulator.add(sidecar_pod(f"ns-{n:03d}", f"app{p % 5}-{p:04d}"))
        seeded = time.perf_counter() - started

        api = Http(emulator)
        started = time.perf_counter()
        names, token, pages, size = [], "", 0, 0
        while True:
            response = api.get(f"/api/v1/pods?limit=500{'&continue=' + token if token else ''}")
            body = response.json()
            size += len(response.body)
            pages += 1
            names += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
            token = body["metadata"].get("continue", "")
            if not token:
                break
        listed = time.perf_counter() - started

    assert len(names) == NAMESPACES * PODS_PER_NAMESPACE == len(set(names)) and names == sorted(names)
    print(f"seed 5000 pods: {seeded:.2f}s; list {pages} pages ({size / 1e6:.1f} MB): {listed:.2f}s")


if __name__ == "__main__":
    main()

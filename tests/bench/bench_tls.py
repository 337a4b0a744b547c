"""A TLS check of a 200-pod namespace through KubeBackend against the API emulator over HTTP.

Run:  python tests/bench/bench_tls.py  (from the repository root)

Every pod has a sidecar that serves metrics (pods/proxy), /certs (exec over a websocket) and an
access log; istiod serves syncz. The window is 1 s (the check's own default is 10 s; the window is
waiting, not work). Prints the total time, the time minus the window, and the split per phase.
Target: under 5 s for the whole namespace at concurrency 16. The emulator serves from the same
process, so its CPU counts too; the CPU seconds printed per run are the process's (client and
server), a figure a machine loaded by other work disturbs less than the wall time. Run 1 also
pays the kubernetes client's one-time set-up of its exec API (CoreV1Api and its pydantic models,
about 4 s on a loaded 2-core machine) on the first exec.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.tls.check import Progress, Scope, run_check
from tests.backend.tls_cluster import CERTS, metric, pod_json

PODS = 200
NAMESPACE = "bench"
WINDOW_S = 1.0
RUNS = 3
LOG_LINE = ('[2026-11-30T09:59:55.100Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 10 1 1 "-" "curl" "x" '
            '"app:8080" "10.3.0.1:8080" inbound|8080|| 127.0.0.6:1 10.3.0.1:8080 10.4.0.9:5000 - default')


def populate(emu: Emulator) -> None:
    for ns in (NAMESPACE, "istio-system"):
        emu.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    istiod = pod_json("istio-system", "istiod-1", "10.9.0.2", "istiod", sidecar=False, ports=(15014,))
    istiod["spec"]["containers"][0]["name"] = "discovery"
    emu.add(istiod)
    syncz = []
    for i in range(PODS):
        name = f"app-{i:03d}"
        emu.add(pod_json(NAMESPACE, name, f"10.3.{i // 250}.{i % 250 + 1}", f"app-{i % 20}", ports=(8080,)))
        emu.set_proxy_response(NAMESPACE, name, 15020, "stats/prometheus",
                               metric("mutual_tls", i, "web", NAMESPACE) + metric("none", 1))
        emu.append_log(NAMESPACE, name, "istio-proxy", LOG_LINE)
        syncz.append({"proxy": f"{name}.{NAMESPACE}", "cluster_sent": "a", "cluster_acked": "a",
                      "listener_sent": "b", "listener_acked": "b"})
    emu.set_proxy_response("istio-system", "istiod-1", 15014, "debug/syncz", json.dumps(syncz))
    emu.on_exec(lambda namespace, pod, container, command: (CERTS, "", 0))


def main() -> None:
    emu = Emulator()
    populate(emu)
    emu.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "kubeconfig"
            emu.kubeconfig(str(path), context="emulator")
            backend = KubeBackend(kubeconfig=str(path), request_timeout=10.0)
            backend.connect()
            snapshot = backend.snapshot()
            totals = []
            for run in range(RUNS):
                marks: dict[str, float] = {}

                def progress(p: Progress, marks: dict[str, float] = marks) -> None:
                    marks.setdefault(p.phase, time.perf_counter())

                began, cpu = time.perf_counter(), time.process_time()
                report = run_check(backend, snapshot, Scope("namespace", NAMESPACE), window_s=WINDOW_S,
                                   progress=progress)
                total = time.perf_counter() - began
                cpu = time.process_time() - cpu
                totals.append(total)
                waiting = next((t for phase, t in marks.items() if phase.startswith("waiting")), began)
                second = marks.get("second sample", waiting)
                assert report.complete and not report.errors, report.errors[:3]
                print(f"run {run + 1}: {PODS} pods, {len(report.workloads)} workloads in {total:.2f} s "
                      f"(first sample + certs {waiting - began:.2f} s, window {WINDOW_S:g} s, "
                      f"second sample + logs {began + total - second:.2f} s; work {total - WINDOW_S:.2f} s; "
                      f"CPU {cpu:.2f} s, client and API server)")
            print(f"median {statistics.median(totals):.2f} s for {PODS} pods (target < 5 s)")
            backend.close()
    finally:
        emu.stop()


if __name__ == "__main__":
    main()

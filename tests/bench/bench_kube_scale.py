"""KubeBackend at scale: 5,000 pods in 100 namespaces served by the API emulator over HTTP.

Run:  python tests/bench/bench_kube_scale.py  (from the repository root)

Prints the time of a full snapshot(), of the first populated pods list of one namespace, the same
pod list read through the client's model classes for comparison, and the CPU used by watch() while
the cluster is idle for 5 seconds.
"""

from __future__ import annotations

import copy
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubernetes import client

from meshtui.backend.kube import KubeBackend
from meshtui.backend.kube_config import load
from meshtui.backend.kube_resources import CORE_KINDS
from meshtui.demo.apiserver import Emulator
from meshtui.demo.apiserver.handler import Handler
from meshtui.demo.mesh import demo_objects
from tests.backend.conftest import SEED, START

NAMESPACES = 100
PODS = 5000
IDLE_SECONDS = 5.0
RUNS = 3


def mesh_pod_template() -> dict[str, Any]:
    """A demo pod with an injected sidecar: realistic size (containers, statuses, owner, labels)."""
    return next(o for o in demo_objects(START, SEED)
                if o["kind"] == "Pod" and any(c["name"] == "istio-proxy" for c in o["spec"]["containers"]))


def populate(emu: Emulator) -> None:
    template = mesh_pod_template()
    for n in range(NAMESPACES):
        ns = f"ns-{n:03d}"
        emu.add({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}})
    for i in range(PODS):
        pod = copy.deepcopy(template)
        meta = pod["metadata"]
        for server_set in ("uid", "resourceVersion", "creationTimestamp"):
            meta.pop(server_set, None)
        meta["name"] = f"app-{i:05d}"
        meta["namespace"] = f"ns-{i % NAMESPACES:03d}"
        emu.add(pod)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def median_of(action: Callable[[], Any]) -> float:
    return statistics.median(timed(action)[0] for _ in range(RUNS))


def list_with_model_classes(api: client.CoreV1Api) -> int:
    """The same paginated pod list deserialized into V1Pod objects: what meshtui avoids."""
    count, token = 0, None
    while True:
        page = api.list_pod_for_all_namespaces(limit=500, _continue=token)
        count += len(page.items)
        token = page.metadata._continue
        if not token:
            return count


def thread_cpu(threads: list[threading.Thread]) -> float:
    total = 0.0
    for t in threads:
        if t.ident is not None and t.is_alive():
            total += time.clock_gettime(time.pthread_getcpuclockid(t.ident))
    return total


def idle_watch_cpu(kubeconfig: str) -> tuple[float, float]:
    """(CPU seconds of the backend's watch threads, CPU seconds of the whole process incl. the emulator)."""
    backend = KubeBackend(kubeconfig=kubeconfig)
    backend.snapshot()
    stop = threading.Event()
    watching = threading.Event()
    before = set(threading.enumerate())

    def status(text: str) -> None:
        if text == "watching":
            watching.set()

    caller = threading.Thread(target=backend.watch, name="watch-caller", args=(lambda _: None, stop, status))
    caller.start()
    watching.wait(10)
    time.sleep(0.5)  # let connection setup finish before measuring
    ours = [t for t in threading.enumerate() if t not in before]
    cpu0, proc0 = thread_cpu(ours), time.process_time()
    time.sleep(IDLE_SECONDS)
    cpu1, proc1 = thread_cpu(ours), time.process_time()
    stop.set()
    caller.join(5)
    backend.close()
    return cpu1 - cpu0, proc1 - proc0


def main() -> None:
    # BaseHTTPRequestHandler writes headers and body in separate segments; with Nagle on, each response
    # waits ~40 ms for a delayed ACK, which a real apiserver (Go sets TCP_NODELAY) never does.
    Handler.disable_nagle_algorithm = True
    emu = Emulator(istio=True)
    populate(emu)
    emu.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = str(emu.kubeconfig(Path(tmp) / "config"))

            def cold_snapshot(namespace: str | None = None) -> int:
                backend = KubeBackend(kubeconfig=kubeconfig, namespace=namespace)
                try:
                    return len(backend.snapshot().pods)
                finally:
                    backend.close()

            count = cold_snapshot()
            assert count == PODS, count
            full = median_of(cold_snapshot)
            one_ns = median_of(lambda: cold_snapshot("ns-042"))

            api = client.CoreV1Api(client.ApiClient(load(kubeconfig).configuration))
            models = median_of(lambda: list_with_model_classes(api))
            warm = KubeBackend(kubeconfig=kubeconfig)
            pods_kind = next(rk for rk in CORE_KINDS if rk.kind == "Pod")
            raw = median_of(lambda: warm._list(pods_kind))
            watch_cpu, process_cpu = idle_watch_cpu(kubeconfig)
    finally:
        emu.stop()

    print(f"KubeBackend over HTTP, {PODS} pods in {NAMESPACES} namespaces (median of {RUNS})")
    print(f"  snapshot(), all namespaces, cold backend   : {full:6.3f} s")
    print(f"  first pods of one namespace (-n, cold)     : {one_ns:6.3f} s")
    print(f"  pods list, raw JSON → meshtui model        : {raw:6.3f} s")
    print(f"  pods list via the client's model classes   : {models:6.3f} s  (for comparison)")
    print(f"  watch() CPU over {IDLE_SECONDS:g} s idle (backend threads): {watch_cpu:6.3f} s")
    print(f"  whole process CPU in that time (emulator too) : {process_cpu:6.3f} s")


if __name__ == "__main__":
    main()

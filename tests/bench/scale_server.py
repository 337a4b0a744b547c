"""An API emulator holding N mesh pods, in its own process so the client side can be measured alone.

Run:  python tests/bench/scale_server.py PODS KUBECONFIG
Prints "ready" once serving. Commands on stdin: "churn RATE" modifies RATE pods per second (a status
change each, one MODIFIED watch event), "churn 0" stops; end of input stops the server.
"""

from __future__ import annotations

import copy
import gc
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.demo.apiserver import Emulator
from meshtui.demo.apiserver.handler import Handler
from tests.bench.bench_kube_scale import mesh_pod_template

PODS_PER_NAMESPACE = 50


def populate(emu: Emulator, pods: int) -> int:
    """PODS in namespaces of 50, a namespace-wide STRICT policy in every tenth and a mesh-wide PERMISSIVE
    one; returns the namespaces. The root namespace's object is left out so that the first namespace
    listed (the one shown first) has pods."""
    template = mesh_pod_template()
    for server_set in ("uid", "resourceVersion", "creationTimestamp"):
        template["metadata"].pop(server_set, None)
    namespaces = max(1, pods // PODS_PER_NAMESPACE)
    for n in range(namespaces):
        emu.add({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": f"ns-{n:04d}", "labels": {"istio-injection": "enabled"}}})
        if n % 10 == 0:
            emu.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                     "metadata": {"name": "default", "namespace": f"ns-{n:04d}"},
                     "spec": {"mtls": {"mode": "STRICT"}}})
    emu.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
             "metadata": {"name": "default", "namespace": "istio-system"},
             "spec": {"mtls": {"mode": "PERMISSIVE"}}})
    for i in range(pods):
        pod = copy.deepcopy(template)
        pod["metadata"]["name"] = f"app-{i:06d}"
        pod["metadata"]["namespace"] = f"ns-{i % namespaces:04d}"
        emu.add(pod)
    return namespaces


class Churn:
    """Modifies pods at a steady rate from its own thread: restart counts go up, one pod at a time."""

    def __init__(self, emu: Emulator):
        self.emu = emu
        self.rate = 0.0
        self.wake = threading.Event()
        threading.Thread(target=self._run, daemon=True, name="churn").start()

    def _run(self) -> None:
        pods = self.emu.objects("Pod")
        i = 0
        while True:
            if self.rate <= 0:
                self.wake.wait()
                self.wake.clear()
                continue
            started = time.monotonic()
            pod = copy.deepcopy(pods[i % len(pods)])
            i += 1
            status = pod.setdefault("status", {})
            for cs in status.get("containerStatuses") or ():
                cs["restartCount"] = int(cs.get("restartCount") or 0) + 1
            pod["metadata"].pop("resourceVersion", None)
            self.emu.add(pod)
            time.sleep(max(0.0, 1.0 / self.rate - (time.monotonic() - started)))


def main() -> None:
    pods, kubeconfig = int(sys.argv[1]), sys.argv[2]
    Handler.disable_nagle_algorithm = True  # a real apiserver (Go) sets TCP_NODELAY
    emu = Emulator(istio=True)
    populate(emu, pods)
    # The stored objects live as long as the server: out of the collector's reach, or a full
    # collection over 50,000 pods' objects (seconds) lands on whichever request comes next, which a
    # real API server (Go, a concurrent collector) does not do to its clients.
    gc.collect()
    gc.freeze()
    emu.start()
    emu.kubeconfig(kubeconfig)
    churn = Churn(emu)
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            if cmd == "churn":
                churn.rate = float(arg or 0)
                churn.wake.set()
            print("ok", flush=True)
    finally:
        emu.stop()


if __name__ == "__main__":
    main()

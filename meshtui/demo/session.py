"""``meshtui --demo``: a demo cluster on a loopback port and the real KubeBackend connected to it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from meshtui.backend.kube import KubeBackend
from meshtui.demo.clock import Clock
from meshtui.demo.cluster import CONTEXT, DemoCluster


class DemoBackend(KubeBackend):
    """A KubeBackend — every read and write is real HTTP to the API server — that owns the demo
    cluster it talks to. ``close()`` closes the connections only, as on a real cluster (the app does
    so on quit to end any request at once; a later call reconnects); :meth:`discard` stops the
    cluster and removes the kubeconfig's directory, at the latest when the process exits."""

    def __init__(self, cluster: DemoCluster, directory: Path, namespace: str | None = None) -> None:
        super().__init__(kubeconfig=str(cluster.kubeconfig(directory / "kubeconfig")), context=CONTEXT,
                         namespace=namespace)
        self.cluster = cluster
        self.directory = directory

    def discard(self) -> None:
        atexit.unregister(self.discard)  # done now: the exit hook must not keep the cluster alive
        super().close()
        self.cluster.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_demo(seed: int = 7, *, namespace: str | None = None, clock: Clock | None = None) -> DemoBackend:
    cluster = DemoCluster(seed, clock)
    cluster.start()
    backend = DemoBackend(cluster, Path(tempfile.mkdtemp(prefix="meshtui-demo-")), namespace)
    atexit.register(backend.discard)
    return backend

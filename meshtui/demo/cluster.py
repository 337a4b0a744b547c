"""The demo cluster: the in-process API server seeded with the demo mesh, its controllers and data plane.

``meshtui --demo`` starts one on a loopback port and runs the real :class:`KubeBackend` against it,
so every screen of the demo goes through the code that runs on a real cluster. Tests drive it with a
:class:`ManualClock` and :meth:`DemoCluster.advance`; the app's demo ticks it from a thread.
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from meshtui.demo.apiserver import Emulator
from meshtui.demo.apiserver.store import Event
from meshtui.demo.clock import Clock, ManualClock, SystemClock
from meshtui.demo.controllers import Controllers
from meshtui.demo.dataplane import SimulatedDataPlane
from meshtui.demo.mesh import ISTIO_VERSION, ROOT_NAMESPACE, demo_objects
from meshtui.demo.traffic import MAX_CATCH_UP, TrafficModel
from meshtui.model.convert import Malformed, from_k8s
from meshtui.model.objects import MeshSettings, Pod
from meshtui.model.snapshot import ChangeEvent, ModelObject, Snapshot

CONTEXT = "demo"
USER = "demo"
TICK = 0.1  # real seconds between controller runs when the demo runs on the wall clock
LOG_HISTORY_AT_START = timedelta(seconds=60)


class DemoCluster:
    def __init__(self, seed: int = 7, clock: Clock | None = None, *, token: str | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.closing = threading.Event()
        start = self.clock.now()
        self.server = Emulator(token=token or secrets.token_urlsafe(24), user=USER,
                               dataplane=SimulatedDataPlane(self), now=self.clock.now)
        self.lock = self.server.store.lock
        for obj in demo_objects(start, seed):
            self.server.add(obj, owned=True)
        self.model = Snapshot.build(
            (m for m in (_model(o) for rt in self.server.types for o in self.server.store.all(rt))
             if m is not None),
            MeshSettings(root_namespace=ROOT_NAMESPACE, auto_mtls=True, istio_version=ISTIO_VERSION))
        # The proxies have been running for a while: their logs already hold a minute of traffic.
        # A hand-driven clock gets every call replayed, however far a test advances it.
        catch_up = None if isinstance(self.clock, ManualClock) else MAX_CATCH_UP
        self.traffic = TrafficModel(seed, start - LOG_HISTORY_AT_START, max_catch_up=catch_up)
        self.controllers = Controllers(self, seed)
        self.server.store.observers.append(self._observe)
        self._ticker: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        url = self.server.start(port)
        if not isinstance(self.clock, ManualClock):
            self._ticker = threading.Thread(target=self._tick_forever, name="demo-controllers", daemon=True)
            self._ticker.start()
        return url

    def stop(self) -> None:
        self.closing.set()
        self.server.stop()
        if self._ticker is not None:
            self._ticker.join(timeout=2)

    def __enter__(self) -> DemoCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, path: Path | str) -> Path:
        return self.server.kubeconfig(path, context=CONTEXT, namespace="default")

    # -- time --------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Step a ManualClock and everything that happens in that time (rollouts, traffic)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a DemoCluster built with a ManualClock")
        self.clock.advance(seconds)
        with self.lock:
            self.controllers.run_due(self.clock.now())
            self.catch_up()

    def _tick_forever(self) -> None:
        while not self.closing.wait(TICK):
            with self.lock:
                self.controllers.run_due(self.clock.now())

    def catch_up(self) -> None:
        """Run the traffic up to now; the caller holds the lock. Traffic is computed lazily, for
        readers of logs and stats, and before every change (see :meth:`_observe`), so each call
        sees the policies and pods of its own time."""
        self.traffic.run(self.clock.now(), self.model, self._cluster_ips())

    def observed_plaintext(self) -> list[tuple[str, str, str, int]]:
        with self.lock:
            self.catch_up()
            return self.traffic.observed_plaintext()

    # -- following the store -----------------------------------------------------------------------
    def _observe(self, event: Event) -> None:
        model = _model(event.obj)
        if model is not None:
            self.traffic.run(self.controllers.acting_at or self.clock.now(), self.model, self._cluster_ips())
            self.model = self.model.apply([ChangeEvent(event.type, model)])
            if event.type == "DELETED" and isinstance(model, Pod):
                self.traffic.forget(model.namespace, model.name)
        self.controllers.observe(event)
        self.controllers.run_due(self.clock.now())

    def _cluster_ips(self) -> dict[tuple[str, str], str]:
        return {(o["metadata"]["namespace"], o["metadata"]["name"]): (o.get("spec") or {}).get("clusterIP", "")
                for o in self.server.objects("Service")}

    def remove(self, kind: str, key: tuple[str, str]) -> None:
        """The API object goes: a terminated pod the kubelet confirmed gone, a collected ReplicaSet."""
        if self.server.get(kind, *key) is not None:
            rt = next(rt for rt in self.server.types if rt.kind == kind)
            self.server.store.delete(rt, key[0], key[1], dry_run=False, precondition_rv=None,
                                     precondition_uid=None)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return self.server.objects(kind)


def _model(obj: dict[str, Any]) -> ModelObject | None:
    """What the traffic model sees of an API object; one the model cannot read (anything may be
    written through the API) takes no part in the simulated traffic. ReplicaSets neither: meshtui reads
    the Deployments that own them, and so does the traffic model."""
    if obj.get("kind") == "ReplicaSet":
        return None
    try:
        return from_k8s(obj)
    except Malformed:
        return None

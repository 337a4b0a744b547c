"""The whole app on a big cluster: 5,000 pods in 100 namespaces served by the API emulator over HTTP.

Run:  python tests/bench/bench_app_scale.py  (from the repository root)

Prints: time from app start to the first populated pods pane; key-press latency (a namespace
change until the pods pane shows that namespace) p50/p95 over 30 presses; process CPU while the
cluster is idle for 5 s with the app watching (the emulator runs in this process too).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.backend.kube import KubeBackend
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.demo.apiserver.handler import Handler
from meshtui.factory import build_app
from tests.bench.bench_kube_scale import PODS, populate

PRESSES = 30
IDLE_SECONDS = 5.0


async def run(kubeconfig: str) -> None:
    backend = KubeBackend(kubeconfig=kubeconfig, request_timeout=30.0)
    start = time.perf_counter()
    app = build_app(Settings(), backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (getattr(app.screen, "pods", None) and app.screen.pods.row_count):
            await pilot.pause(0.01)
        first = time.perf_counter() - start
        screen = app.screen
        latencies = []
        for _ in range(PRESSES):
            before = screen.selected_namespace
            t0 = time.perf_counter()
            await pilot.press("j")
            while screen.selected_namespace == before or not screen.pods.row_count or \
                    not str(screen.pods.selected_key or "").startswith(f"{screen.selected_namespace}/"):
                await pilot.pause(0.002)
            latencies.append(time.perf_counter() - t0)
        cpu0 = time.process_time()
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = time.process_time() - cpu0
    backend.close()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"{PODS} pods in 100 namespaces over HTTP")
    print(f"first populated pods pane: {first:.2f} s (target < 2 s)")
    print(f"namespace change → pods pane updated: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms over {PRESSES} presses")
    print(f"process CPU while idle for {IDLE_SECONDS:.0f} s (app + emulator): {idle_cpu:.3f} s")


def main() -> None:
    Handler.disable_nagle_algorithm = True  # see bench_kube_scale: loopback latency, not the server
    emu = Emulator(istio=True)
    populate(emu)
    emu.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = emu.kubeconfig(str(Path(tmp) / "kubeconfig"))
            asyncio.run(run(str(path)))
    finally:
        emu.stop()


if __name__ == "__main__":
    main()

"""The app's own share of a watch load, without HTTP: what a batch costs the sync worker and the UI thread.

Run:  python tests/bench/bench_watch_load.py [--pods 20000] [--rate 100] [--seconds 10] [--profile FILE]

The cluster of tests/bench/scale_server.py (namespaces of 50 pods, STRICT in every tenth, a mesh-wide
PERMISSIVE policy) is built in this process as model objects and loaded into the app the way the sync
worker loads it (SyncState). A feeder thread then applies RATE pod MODIFIED events per second (a restart
count up, pods taken round-robin across the namespaces, as the emulator's churn does) in batches of
kube_watch.BATCH_WINDOW, and posts each snapshot as the sync worker does: SECONDS of events alone, then
60 `j` presses move the namespaces cursor (each shows another namespace), every other one through
Pilot.press (which also waits for the whole process to idle 20 ms: not the key's latency, but what
bench_scale.py measured before). Prints: process CPU as % of one core with events alone and while typing,
key → cursor moved (the key posted as the terminal driver posts it), the worker's SyncState.apply per
batch, the UI thread's redraw per render, and full-GC pauses. --profile prints the UI thread's top
functions (cProfile) over the load and saves them to FILE for pstats.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual import events

from meshtui.app import MeshApp
from meshtui.backend.base import ClusterInfo
from meshtui.backend.kube_watch import BATCH_WINDOW
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.messages import ClusterLoaded
from meshtui.model.convert import from_k8s
from meshtui.model.objects import MeshSettings, Pod
from meshtui.model.snapshot import ChangeEvent, Snapshot
from meshtui.sync_state import SyncState
from tests.bench.scale_server import populate

PRESSES = 30
KINDS = ("Namespace", "Pod", "PeerAuthentication")


def cluster(pods: int) -> Snapshot:
    emu = Emulator(istio=True)
    populate(emu, pods)
    objects = [obj for kind in KINDS for raw in emu.objects(kind) if (obj := from_k8s(raw)) is not None]
    return Snapshot.build(objects, MeshSettings())


def restarted(pod: Pod) -> Pod:
    return dataclasses.replace(pod, containers=tuple(dataclasses.replace(c, restarts=c.restarts + 1)
                                                     for c in pod.containers))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] if ordered else float("nan")


def ms(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p(values, 0.95) * 1000:.1f} ms, " \
           f"max {max(values) * 1000:.1f} ms over {len(values)}"


async def run(args: argparse.Namespace) -> None:
    snapshot = cluster(args.pods)
    # The emulator's churn order: pods by insertion, so consecutive events land in different namespaces.
    order = sorted(snapshot.pods, key=lambda k: k[1])
    state = SyncState()
    app = MeshApp(None, Settings())
    info = ClusterInfo(context="bench")
    renders: list[float] = []
    applies: list[float] = []
    pauses: list[float] = []
    pause_cpu: list[float] = []
    gc_started = [0.0, 0.0]

    def on_gc(phase: str, details: dict[str, int]) -> None:
        if details.get("generation") != 2:
            return
        if phase == "start":
            gc_started[:] = time.perf_counter(), time.thread_time()
        else:
            pauses.append(time.perf_counter() - gc_started[0])
            pause_cpu.append(time.thread_time() - gc_started[1])

    render = app._render_cluster

    def timed_render() -> None:
        t0 = time.perf_counter()
        render()
        renders.append(time.perf_counter() - t0)

    app._render_cluster = timed_render  # type: ignore[method-assign]
    stop = threading.Event()

    def feed() -> None:
        per_batch = max(1, round(args.rate * BATCH_WINDOW))
        i = 0
        next_at = time.monotonic()
        while not stop.is_set():
            current = state.apply([])
            assert current is not None
            pods = current[0].pods
            events = [ChangeEvent("MODIFIED", restarted(pods[order[(i + n) % len(order)]])) for n in range(per_batch)]
            i += per_batch
            t0 = time.perf_counter()
            loaded = state.apply(events)
            applies.append(time.perf_counter() - t0)
            assert loaded is not None
            app.post_message(ClusterLoaded(info, *loaded))
            next_at += BATCH_WINDOW
            stop.wait(max(0.0, next_at - time.monotonic()))

    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(ClusterLoaded(info, *state.complete(snapshot)))
        while not (getattr(app.screen, "pods", None) and app.screen.pods.row_count):
            await asyncio.sleep(0.01)
        await pilot.pause(0.5)
        screen = app.screen
        renders.clear()
        gc.callbacks.append(on_gc)
        feeder = threading.Thread(target=feed, daemon=True)
        profile = cProfile.Profile() if args.profile else None
        feeder.start()
        if profile:
            profile.enable()
        # Events alone first: what the watch load costs while nobody types.
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(args.seconds)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        latencies, pilot_presses = [], []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for n in range(2 * PRESSES):
            before = screen.namespaces.cursor_row
            t0 = time.perf_counter()
            if n % 2:
                await pilot.press("j")
                pilot_presses.append(time.perf_counter() - t0)
            else:
                app.post_message(events.Key("j", "j"))
                while screen.namespaces.cursor_row == before:
                    await asyncio.sleep(0.001)
                latencies.append(time.perf_counter() - t0)
            await asyncio.sleep(0.2)
        typing_cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        if profile:
            profile.disable()
        stop.set()
        feeder.join()
        gc.callbacks.remove(on_gc)
    print(f"{len(snapshot.pods):,} pods in {len(snapshot.namespaces)} namespaces, {args.rate} pod MODIFIED/s "
          f"in batches every {BATCH_WINDOW} s, for {args.seconds:.0f} s")
    print(f"CPU: {cpu * 100:.0f} % of one core over {args.seconds:.0f} s of events alone (target < 30 %); "
          f"{typing_cpu * 100:.0f} % while `j` moves through a namespace every ~0.2 s")
    print(f"key → cursor moved: {ms(latencies)} (target p95 < 50 ms)")
    print(f"Pilot.press (waits for the process to idle 20 ms, twice): {ms(pilot_presses)}")
    print(f"worker SyncState.apply per batch: {ms(applies)}")
    print(f"UI redraw per render: {ms(renders)}")
    print(f"full GC pauses: {ms(pauses)}; their CPU: {ms(pause_cpu)}")
    if profile:
        profile.dump_stats(args.profile)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--profile", metavar="FILE")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

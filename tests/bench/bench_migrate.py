"""Benchmark: the migration's preflight and plan for the whole mesh of bench_engine's snapshot
(10,000 pods in 100 namespaces), and for one namespace of it.

Run as a script: ``python tests/bench/bench_migrate.py``. Prints the best of several runs; the
wizard recomputes on every snapshot update, so one namespace should stay well under a second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.migrate.preflight import preflight
from meshtui.migrate.scope import Scope
from tests.bench.bench_engine import build


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    snapshot = build()
    pods = len(snapshot.pods)
    one = best(3, lambda: preflight(snapshot, Scope.of(["ns-001"])))
    mesh = best(2, lambda: preflight(snapshot, Scope.of(mesh=True)))
    report = preflight(snapshot, Scope.of(mesh=True))
    print(f"migrate preflight+plan, {pods} pods: one namespace {one * 1000:.0f} ms; "
          f"mesh {mesh * 1000:.0f} ms ({len(report.steps)} steps, {len(report.issues)} findings)")


if __name__ == "__main__":
    main()

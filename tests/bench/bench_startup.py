"""Time from launching `meshtui --demo` to the first populated frame (namespaces and pods listed).

Run: python tests/bench/bench_startup.py  (prints figures; not a timed test)
Measures two things: the in-process time from App start to a populated main screen (Pilot), and
the wall time of a fresh `python -c "import meshtui.app"` (import cost a user pays before that).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

from meshtui.config import Settings
from meshtui.demo.session import DemoBackend
from meshtui.factory import build_app


async def first_frame() -> float:
    start = time.perf_counter()
    app = build_app(Settings(demo=True))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        while not (getattr(screen, "namespaces", None) and screen.namespaces.row_count
                   and screen.pods.row_count):
            await pilot.pause(0.005)
            screen = app.screen
        elapsed = time.perf_counter() - start
    backend = app.backend
    assert isinstance(backend, DemoBackend)
    backend.discard()
    return elapsed


def import_time() -> float:
    start = time.perf_counter()
    # The demo runs KubeBackend on the in-process API server: the kubernetes client is part of its start.
    subprocess.run([sys.executable, "-c", "import meshtui.app, meshtui.screens.main, meshtui.demo.session"],
                   check=True)
    return time.perf_counter() - start


def main() -> None:
    frames = [asyncio.run(first_frame()) for _ in range(5)]
    imports = [import_time() for _ in range(3)]
    print(f"first populated frame (in-process, demo): median {statistics.median(frames) * 1000:.0f} ms, "
          f"max {max(frames) * 1000:.0f} ms over {len(frames)} runs")
    print(f"cold import of the app modules (fresh interpreter): median {statistics.median(imports) * 1000:.0f} ms")
    total = statistics.median(frames) + statistics.median(imports)
    print(f"import + first frame: {total * 1000:.0f} ms (target under 1000 ms: {'OK' if total < 1 else 'SLOW'})")


if __name__ == "__main__":
    main()

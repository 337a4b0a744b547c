"""Time from launching `meshtui --demo` to the first populated frame (namespaces and pods listed).

Run: python tests/bench/bench_startup.py  (prints figures; not a timed test)
The figure that counts is the first: `python -m meshtui --demo` started on a pseudo-terminal, timed
from the fork to the moment its output holds a namespace name and a pod's status (what a user sees
first). Run it with the package's .pyc files in place, as an installed package has them (a sandbox
with PYTHONDONTWRITEBYTECODE set compiles every module on each start: the bench unsets it).
The second splits that time: the cold import of the app's modules, and the in-process time from App
start to a populated main screen (Pilot).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

from meshtui.config import Settings
from meshtui.demo.session import DemoBackend
from meshtui.factory import build_app

# A namespace of the demo mesh and a pod status: both on screen means both panes are populated.
MARKERS = (b"kubestock-staging", b"Running")
TIMEOUT = 20.0


def launch_time(size: tuple[int, int] = (120, 40)) -> tuple[float, float]:
    """Wall time to the first populated frame, and the CPU time the app had used by then."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TERM"] = "xterm-256color"
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "meshtui", "--demo"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    seen = b""
    try:
        while not all(marker in seen for marker in MARKERS):
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"no populated frame after {TIMEOUT:.0f} s")
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                seen += os.read(fd, 65536)
        wall = time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)
        _, _, usage = os.wait4(pid, 0)
        os.close(fd)
    return wall, usage.ru_utime + usage.ru_stime


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
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    # The demo runs KubeBackend on the in-process API server: the kubernetes client is part of its start.
    subprocess.run([sys.executable, "-c", "import meshtui.app, meshtui.screens.main, meshtui.demo.session"],
                   check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    launch_time()  # writes any missing .pyc files, as the first run after an install would
    runs = [launch_time() for _ in range(7)]
    launches = [wall for wall, _ in runs]
    frames = [asyncio.run(first_frame()) for _ in range(5)]
    imports = [import_time() for _ in range(3)]
    median = statistics.median(launches)
    print(f"launch → first populated frame (pty, `python -m meshtui --demo`): median {median * 1000:.0f} ms, "
          f"range {min(launches) * 1000:.0f}–{max(launches) * 1000:.0f} ms over {len(launches)} runs "
          f"(target under 1000 ms: {'OK' if median < 1 else 'SLOW'})")
    print(f"  CPU time the app used by then: median {statistics.median(cpu for _, cpu in runs) * 1000:.0f} ms "
          "(steadier than wall time on a shared machine)")
    print(f"  of which cold import of the app modules: median {statistics.median(imports) * 1000:.0f} ms")
    print(f"  in-process App start → populated main screen: median {statistics.median(frames) * 1000:.0f} ms, "
          f"max {max(frames) * 1000:.0f} ms over {len(frames)} runs")
    print(f"  load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

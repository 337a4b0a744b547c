"""meshtui at 5,000 / 20,000 / 50,000 pods on the API emulator, printed as one table.

Run:  python tests/bench/bench_scale.py [--sizes 5000,20000,50000] [--runs 3] [--load-size 20000]

The emulator runs in its own process (tests/bench/scale_server.py); every figure is taken in a fresh
client process, so RSS is the client's alone:
  first frame   app start (after imports) → the first namespace's pods listed in the pods pane;
                its CPU: the app process's CPU seconds in that time (all threads), which the
                neighbours on a shared machine disturb far less than the wall time
  check         `meshtui check -o json` wall time and peak RSS (every namespace's mode and findings)
  client -A     the official Python client listing pods -A in pages of 500 into its model classes
  (kubectl is not compared: client-go does not send a bearer token over the emulator's plain http)
  event load    (at --load-size) 100 pod MODIFIED events/s: app CPU over 10 s of events alone once
                loaded, as % of one core; then 30 `j` presses ~0.2 s apart (each shows another
                namespace): key → cursor moved p95, and the app's CPU while typing so
Each figure is the range (min-max) over --runs runs: the machine is shared, so expect noise.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_RATE = 100
LOAD_SECONDS = 10.0
PRESSES = 30


# -- the client processes -----------------------------------------------------------------------

async def probe(kubeconfig: str, pods: int, load: bool) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from textual import events

    from meshtui.backend.kube import KubeBackend
    from meshtui.config import Settings
    from meshtui.factory import build_app

    backend = KubeBackend(kubeconfig=kubeconfig, request_timeout=60.0)
    start, cpu_start = time.perf_counter(), time.process_time()
    app = build_app(Settings(), backend=backend)
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)):
        # Polled with plain sleeps: Pilot.pause() first waits for every widget's queue to drain.
        while not (getattr(app.screen, "pods", None) and app.screen.pods.row_count):
            await asyncio.sleep(0.005)
        out["first"] = time.perf_counter() - start
        out["first_cpu"] = time.process_time() - cpu_start
        if load:
            while app.report is None or app.report.mesh.pods < pods:
                await asyncio.sleep(0.05)
            out["loaded"] = time.perf_counter() - start
            screen = app.screen
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(LOAD_SECONDS)
            out["cpu"] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            latencies = []
            for _ in range(PRESSES):
                before = screen.namespaces.cursor_row
                t0 = time.perf_counter()
                # Posted as the terminal driver posts a key: Pilot.press would also wait for the whole
                # process to idle for 20 ms (twice), which a watch load never lets it do.
                app.post_message(events.Key("j", "j"))
                while screen.namespaces.cursor_row == before:
                    await asyncio.sleep(0.001)
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.2)
            out["typing_cpu"] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
            latencies.sort()
            out["key_p95"] = latencies[int(len(latencies) * 0.95) - 1]
    backend.close()
    return out


def list_pods_with_client(kubeconfig: str) -> None:
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(kubeconfig))
    count, token = 0, None
    while True:
        page = api.list_pod_for_all_namespaces(limit=500, _continue=token)
        count += len(page.items)
        token = page.metadata._continue
        if not token:
            break


# -- the orchestrator ---------------------------------------------------------------------------

def measured(cmd: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of a child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=ROOT)
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in ok:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines() or ["no output"]
            raise RuntimeError(f"{' '.join(cmd[1:4])} failed ({status}): {lines[-1]}")
    return wall, usage.ru_maxrss / 1024, output.decode()


class Server:
    def __init__(self, pods: int, kubeconfig: str):
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/scale_server.py"), str(pods),
                                      kubeconfig], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("emulator did not start")

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def span(values: list[float], fmt: str) -> str:
    if not values:
        return "failed"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if f"{fmt.format(lo)}" == fmt.format(hi) else f"{fmt.format(lo)}-{fmt.format(hi)}"


def bench_size(pods: int, runs: int, load: bool, tmp: str) -> dict[str, str]:
    kubeconfig = str(Path(tmp) / f"config-{pods}")
    server = Server(pods, kubeconfig)
    env = {**os.environ, "KUBECONFIG": kubeconfig}
    me = [sys.executable, str(Path(__file__).resolve())]
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    try:
        for _ in range(runs):
            try:
                _, rss, out = measured([*me, "--probe", kubeconfig, str(pods)])
                got = json.loads(out)
                add("first", got["first"])
                add("first_cpu", got["first_cpu"])
                add("first_rss", rss)
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
            wall, rss, _ = measured([sys.executable, "-m", "meshtui", "check", "-A", "-o", "json",
                                     "--fail-on", "never"], env)
            add("check", wall)
            add("check_rss", rss)
            wall, rss, _ = measured([*me, "--client-list", kubeconfig])
            add("client", wall)
            add("client_rss", rss)
        if load:
            server.send(f"churn {LOAD_RATE}")
            for _ in range(max(1, runs - 1)):
                try:
                    _, _, out = measured([*me, "--probe", kubeconfig, str(pods), "--load"])
                except RuntimeError as exc:
                    print(exc, file=sys.stderr)
                    continue
                got = json.loads(out)
                add("cpu", got["cpu"] * 100)
                add("key_p95", got["key_p95"] * 1000)
                add("typing_cpu", got["typing_cpu"] * 100)
            server.send("churn 0")
    finally:
        server.stop()
    row = {
        "pods": f"{pods:,}",
        "first frame s": span(figures.get("first", []), "{:.2f}"),
        "its CPU s": span(figures.get("first_cpu", []), "{:.2f}"),
        "check s": span(figures["check"], "{:.2f}"),
        "check MB": span(figures["check_rss"], "{:.0f}"),
        "client -A s": span(figures["client"], "{:.2f}"),
        "client MB": span(figures["client_rss"], "{:.0f}"),
    }
    row["app MB"] = span(figures.get("first_rss", []), "{:.0f}")
    if load:
        row["load CPU %"] = span(figures.get("cpu", []), "{:.0f}")
        row["key p95 ms"] = span(figures.get("key_p95", []), "{:.0f}")
        row["typing CPU %"] = span(figures.get("typing_cpu", []), "{:.0f}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--load-size", type=int, default=20000)
    parser.add_argument("--probe", nargs=2, metavar=("KUBECONFIG", "PODS"))
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--client-list", metavar="KUBECONFIG")
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(asyncio.run(probe(args.probe[0], int(args.probe[1]), args.load))))
        return
    if args.client_list:
        list_pods_with_client(args.client_list)
        return
    # Start-up as users have it: meshtui's bytecode compiled (a sandbox may forbid writing it, and
    # compiling every module again took a third of the first frame's CPU).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "meshtui", quiet=1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(bench_size(size, args.runs, size == args.load_size, tmp))
            print(f"... {size} done", file=sys.stderr, flush=True)
    headers = list(dict.fromkeys(h for row in rows for h in row))
    widths = {h: max(len(h), *(len(row.get(h, "")) for row in rows)) for h in headers}
    print("  ".join(h.rjust(widths[h]) for h in headers))
    for row in rows:
        print("  ".join(row.get(h, "-").rjust(widths[h]) for h in headers))


if __name__ == "__main__":
    main()

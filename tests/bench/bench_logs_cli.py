"""`meshtui logs FILE -o json` streaming benchmark (a script, not a test):
run `python tests/bench/bench_logs_cli.py [--lines 1000000]`.

Writes ``--lines`` realistic istio-proxy lines (the fixture's records with moving times and paths,
see bench_logs.sample_lines) to a temporary file, runs the real command in a child process with
its output to /dev/null, reading the file (which it parses on every core) and then the same lines
from a pipe (one process), and prints lines/s (parse + print, interpreter start included), the CPU
time and the peak memory: of the biggest process, and summed over the command's processes.
Targets (issue 13): >= 100,000 lines/s, RSS < 100 MB at 1,000,000 lines.
With --encoders it also times, in-process, the JSON encoders that could print the records.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.logs.parser import parse_line
from tests.bench.bench_logs import sample_lines


def write_log(path: Path, total: int) -> None:
    lines = sample_lines(20_000)
    with path.open("w") as fh:
        for start in range(0, total, len(lines)):
            fh.write("\n".join(lines[: min(len(lines), total - start)]) + "\n")


def _tree(root: int) -> list[int]:
    """``root`` and its child processes (the workers of a parallel run)."""
    pids = [root]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == root:
                pids.append(int(entry))
    return pids


def _memory(pids: list[int]) -> tuple[float, float, float]:
    """MiB of ``pids``: the biggest RSS, and the summed RSS and PSS. Summed RSS counts the pages a
    forked worker shares with its parent once per process; PSS splits them between the sharers."""
    sizes = []
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines()[1:])
        sizes.append((int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])))
    return (max((rss for rss, _ in sizes), default=0) / 1024, sum(rss for rss, _ in sizes) / 1024,
            sum(pss for _, pss in sizes) / 1024)


def run_cli(path: Path, stdin: bool = False) -> tuple[float, float, float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB of the biggest process, peak summed RSS and PSS
    MiB of the process tree) of `meshtui logs PATH -o json > /dev/null` in a child; with ``stdin``
    the log comes through a pipe (`meshtui logs - -o json < pipe`), which one process reads.
    Memory is sampled from /proc: wait4's ru_maxrss would count this script's own pages, which the
    child holds between fork and exec."""
    peaks = [0.0, 0.0, 0.0]
    done = threading.Event()
    with open(os.devnull, "w") as null, open(path, "rb") as log:
        start = time.perf_counter()
        argv = [sys.executable, "-m", "meshtui", "logs", "-" if stdin else str(path), "-o", "json"]
        child = subprocess.Popen(argv, stdout=null, stdin=subprocess.PIPE if stdin else None)
        feeder = threading.Thread(target=_feed, args=(log, child.stdin), daemon=True) if stdin else None
        if feeder:
            feeder.start()

        def sample() -> None:
            while not done.wait(0.05):
                peaks[:] = map(max, peaks, _memory(_tree(child.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    if status != 0:
        raise SystemExit(f"meshtui logs exited with status {status}")
    # wait4's CPU time includes the workers the command forked and waited for.
    return elapsed, usage.ru_utime + usage.ru_stime, *peaks


def _feed(log: BinaryIO, pipe: BinaryIO) -> None:
    with pipe:
        shutil.copyfileobj(log, pipe, 1 << 20)


def bench_encoders(count: int = 200_000) -> None:
    records = [msgspec.structs.asdict(parse_line(line).documented()) for line in sample_lines(count)]
    encoders = {"json.dumps": lambda r: json.dumps(r, ensure_ascii=False),
                "json.JSONEncoder.encode": json.JSONEncoder(ensure_ascii=False, check_circular=False).encode}
    buf = bytearray()
    encode_into = msgspec.json.Encoder().encode_into
    encoders["msgspec encode_into(dict)"] = lambda r: encode_into(r, buf, -1)
    try:
        import orjson  # type: ignore[import-not-found]

        encoders["orjson.dumps"] = orjson.dumps
    except ImportError:
        print("orjson not installed: not timed")
    for name, encode in encoders.items():
        start = time.perf_counter()
        for record in records:
            encode(record)
        print(f"  encode with {name:26} {count / (time.perf_counter() - start):>12,.0f} records/s")
    lines = sample_lines(count)
    start = time.perf_counter()
    for line in lines:
        encode_into(parse_line(line).documented(), buf, -1)
    print(f"  parse_line + encode (the command)  {count / (time.perf_counter() - start):>12,.0f} lines/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--encoders", action="store_true", help="also time the JSON encoders in-process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "proxy.log"
        write_log(path, args.lines)
        size = path.stat().st_size / 2**20
        for label, stdin in (("FILE", False), ("- (a pipe)", True)):
            elapsed, cpu, rss, tree_rss, tree_pss = run_cli(path, stdin)
            print(f"meshtui logs {label} -o json, {args.lines:,} lines ({size:,.0f} MiB), "
                  f"load average {os.getloadavg()[0]:.2f}:")
            print(f"  {args.lines / elapsed:>12,.0f} lines/s   (target >= 100,000)  wall {elapsed:.2f} s")
            # On a shared machine the wall clock counts other processes' time too; CPU time does not.
            print(f"  {args.lines / cpu:>12,.0f} lines per CPU second (all processes) CPU {cpu:.2f} s")
            print(f"  {rss:>12,.1f} MiB peak RSS of the biggest process (target < 100)")
            print(f"  {tree_rss:>12,.1f} MiB peak RSS summed over its processes "
                  f"({tree_pss:,.1f} MiB PSS, shared pages split), sampled every 50 ms")
    if args.encoders:
        bench_encoders()


if __name__ == "__main__":
    main()

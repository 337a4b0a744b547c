"""`meshtui logs FILE -o json` streaming benchmark (a script, not a test):
run `python tests/bench/bench_logs_cli.py [--lines 1000000]`.

Writes ``--lines`` realistic istio-proxy lines (the fixture's records with moving times and paths,
see bench_logs.sample_lines) to a temporary file, runs the real command in a child process with
its output to /dev/null, and prints lines/s (parse + print, interpreter start included) and the
child's peak RSS. Targets (issue 13): >= 100,000 lines/s, RSS < 100 MB at 1,000,000 lines.
With --encoders it also times, in-process, the JSON encoders that could print the records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui.logs.parser import parse_line
from tests.bench.bench_logs import sample_lines


def write_log(path: Path, total: int) -> None:
    lines = sample_lines(20_000)
    with path.open("w") as fh:
        for start in range(0, total, len(lines)):
            fh.write("\n".join(lines[: min(len(lines), total - start)]) + "\n")


def run_cli(path: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of `meshtui logs PATH -o json > /dev/null` in a child."""
    with open(os.devnull, "w") as null:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "meshtui", "logs", str(path), "-o", "json"], stdout=null)
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"meshtui logs exited with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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
        elapsed, cpu, rss = run_cli(path)
    print(f"meshtui logs -o json, {args.lines:,} lines ({size:,.0f} MiB), load average {os.getloadavg()[0]:.2f}:")
    print(f"  {args.lines / elapsed:>12,.0f} lines/s   (target >= 100,000)  wall {elapsed:.2f} s")
    # On a shared machine the wall clock counts other processes' time too; CPU time does not.
    print(f"  {args.lines / cpu:>12,.0f} lines per CPU second                 CPU {cpu:.2f} s")
    print(f"  {rss:>12,.1f} MiB peak RSS (target < 100)")
    if args.encoders:
        bench_encoders()


if __name__ == "__main__":
    main()

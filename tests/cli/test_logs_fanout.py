"""`meshtui logs FILE|- -o json` on every core: the pieces the input is cut into hold its lines
exactly, and the forked run prints what one process prints, a live stream line by line, and stops
cleanly on errors, head(1) and ctrl+c.

The forking runs go through a fresh interpreter: a pytest process has threads, and forking one
can leave a lock held in the child."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui import forking
from meshtui.cli import fanout
from meshtui.cli import logs as logs_cli
from tests.shared_fixtures import FIXTURES

FIXTURE_LINES = [line for line in (FIXTURES / "envoy" / "access-logs.txt").read_bytes().splitlines()
                 if line and not line.startswith(b"#")]


def one_process_lines(data: bytes) -> list[str]:
    """How the one-process path (a text file, UTF-8, bad bytes replaced) splits ``data``."""
    return list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"))


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\xe2\x82\xac", b"\xff", b"\xe2", b"xyz "]),
                     max_size=200).map(b"".join),
       reads=st.lists(st.integers(min_value=1, max_value=40), min_size=1))
def test_pieces_hold_the_lines_one_process_reads(data: bytes, reads: list[int]) -> None:
    pieces, cutter, at = [], fanout.Pieces(), 0
    for size in reads * (len(data) // sum(reads) + 1):  # the input as reads of any sizes hand it over
        pieces.append(cutter.feed(data[at:at + size]))
        at += size
        if at >= len(data):
            break
    pieces.append(cutter.feed(b""))  # the end of the input
    assert b"".join(pieces) == data
    assert all(piece.endswith(b"\n") for piece in pieces[:-1] if piece)
    assert [line for piece in pieces for line in fanout.lines_of(piece)] == one_process_lines(data)


@pytest.mark.parametrize(("affinity", "cores"), [(1, 1), (2, 2), (64, forking.MAX_WORKERS)])
def test_cores(monkeypatch: pytest.MonkeyPatch, affinity: int, cores: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(affinity)))
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert forking.cores() == cores


def test_no_workers_beside_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(4)))
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert forking.cores() == 1


# A fresh interpreter with small pieces and three workers whatever the machine, which says on
# stderr how many it forked.
RUN = """
import sys
from meshtui.cli import fanout
from meshtui.cli import logs as logs_cli
fanout.CHUNK = 4096
fanout.BACKLOG = 1024
from meshtui import forking
forking.cores = lambda: 3
start = fanout._start
fanout._start = lambda *args: (sys.stderr.write("forked\\n"), start(*args))[1]
sys.exit(__import__("meshtui.__main__").__main__.main(sys.argv[1:]))
"""


def meshtui_logs(*argv: str, stdin: int | None = None, run: str = "", **popen: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", run or RUN, "logs", *argv, "-o", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=stdin, **popen)  # type: ignore[call-overload]


def hostile_log(lines: int) -> bytes:
    """The fixture's lines and odd ones: bad UTF-8, a lone CR, terminal escapes, a line longer than a piece."""
    odd = [b"\xff\xfe broken", b"carriage\rreturn", b"\x1b]0;title\x07 \x1b[2J", b"[" + b"x" * 5000 + b"]",
           "ünïcödé €".encode()]
    pool = FIXTURE_LINES + odd
    return b"\n".join(pool[i % len(pool)] for i in range(lines))  # the last line has no newline


def one_process_output(data: bytes) -> bytes:
    return b"".join(logs_cli._json_lines(one_process_lines(data)))


@pytest.mark.parametrize("pipe_size", [None, 4096], ids=["wide-pipes", "one-page-pipes"])
@pytest.mark.parametrize("through", ["file", "pipe"])
def test_forked_output_is_byte_identical_to_one_process(tmp_path: Path, through: str, pipe_size: int | None) -> None:
    """One-page pipes to and from the workers (where the 1 MiB ones are refused) take a piece or
    its output in many writes: a parent that blocked on a worker's full input pipe while that
    worker blocked on its full output pipe would hang here."""
    data = hostile_log(3000)
    path = tmp_path / "proxy.log"
    path.write_bytes(data)
    run = RUN.replace("fanout.BACKLOG = 1024", f"fanout.BACKLOG = 1024\nfanout.PIPE_SIZE = {pipe_size}") \
        if pipe_size else RUN
    if through == "file":
        child = meshtui_logs(str(path), run=run)
        out, err = child.communicate(timeout=60)
    else:
        child = meshtui_logs("-", stdin=subprocess.PIPE, run=run)
        out, err = child.communicate(data, timeout=60)
    assert child.returncode == 0 and err == b"forked\n" * 3  # the input outran one process
    assert out == one_process_output(data) and out.count(b"\n") == len(one_process_lines(data))


def test_a_live_stream_prints_each_line_as_it_comes() -> None:
    child = meshtui_logs("-", stdin=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    for line in FIXTURE_LINES[:5]:
        child.stdin.write(line + b"\n")
        child.stdin.flush()
        ready = select.select([child.stdout], [], [], 20)[0]
        assert ready, "the line's record did not come out while the input stayed open"
        assert json.loads(child.stdout.readline())["raw"] == line.decode()
    child.stdin.close()
    assert child.wait(timeout=20) == 0 and child.stdout.read() == b"" and child.stderr.read() == b""


def test_reader_going_away_stops_every_process(tmp_path: Path) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(20_000))
    child = meshtui_logs(str(path), start_new_session=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # as head -1 does
    assert child.wait(timeout=30) == 1 and child.stderr.read() == b"forked\n" * 3
    with pytest.raises(ProcessLookupError):  # no worker left behind in the session
        os.killpg(child.pid, 0)


def test_ctrl_c_ends_the_workers_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(200_000))
    child = meshtui_logs(str(path), start_new_session=True)
    assert child.stdout is not None
    child.stdout.readline()
    os.killpg(child.pid, signal.SIGINT)  # the terminal sends it to the whole foreground group
    child.stdout.close()
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130 and err == b"forked\n" * 3 + b"meshtui: interrupted\n"
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)


def test_a_failing_worker_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(3000))
    # A parser bug in a worker: the parent names the file and the failure, and prints no traceback.
    broken = RUN.replace("fanout.CHUNK = 4096", "fanout.CHUNK = 4096\nimport meshtui.cli.logs as L\n"
                         "L.parse_documented = lambda line: 1 / 0")
    child = subprocess.run([sys.executable, "-c", broken, "logs", str(path), "-o", "json"], capture_output=True,
                           timeout=60)
    assert child.returncode == 2
    assert child.stderr == b"forked\n" * 3 + f"meshtui logs: cannot read {path}: division by zero\n".encode()


def test_ctrl_c_landing_in_a_worker_as_it_forks_is_left_to_the_parent(tmp_path: Path) -> None:
    """A ctrl+c can reach a worker before it has set anything up (seen on a loaded CI machine, in
    the interpreter's own after-fork hook). Sent to each worker the moment it exists, it must not
    interrupt it there: the run completes, as if no key was pressed in the workers."""
    path = tmp_path / "proxy.log"
    data = hostile_log(3000)
    path.write_bytes(data)
    early = RUN.replace("fanout.BACKLOG = 1024", "fanout.BACKLOG = 1024\nimport os, signal\nfork = os.fork\n"
                        "def fork_then_ctrl_c():\n    pid = fork()\n    if pid == 0:\n"
                        "        os.kill(os.getpid(), signal.SIGINT)\n    return pid\nos.fork = fork_then_ctrl_c")
    child = subprocess.run([sys.executable, "-c", early, "logs", str(path), "-o", "json"], capture_output=True,
                           timeout=60)
    assert (child.returncode, child.stderr) == (0, b"forked\n" * 3)
    assert child.stdout == one_process_output(data)


def test_a_worker_killed_midway_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A worker the kernel kills (out of memory, say) while the parent still has pieces for it: the
    parent says so in one line, whether it notices on the worker's output or on its input."""
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(20_000))
    for after in (0, 1, 2):  # pieces a worker renders before it is killed
        killing = RUN.replace("fanout.BACKLOG = 1024", "fanout.BACKLOG = 1024\nimport os, signal\n"
                              "import meshtui.cli.logs as L\nrender, done = L._json_lines, []\n"
                              "L._json_lines = lambda lines: (done.append(1), render(lines))[1] "
                              f"if len(done) < {after} else os.kill(os.getpid(), signal.SIGKILL)")
        child = subprocess.run([sys.executable, "-c", killing, "logs", str(path), "-o", "json"], capture_output=True,
                               timeout=60)
        assert child.returncode == 2, (after, child.stderr)
        assert child.stderr.endswith(f"meshtui logs: cannot read {path}: a worker ended without its output\n".encode())

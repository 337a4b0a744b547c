"""`meshtui logs FILE -o json` on every core: the pieces a file is cut into hold its lines exactly,
and the forked run prints what one process prints, stops cleanly on errors, head(1) and ctrl+c.

The forking runs go through a fresh interpreter: a pytest process has threads, and forking one
can leave a lock held in the child."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.cli import fanout
from tests.shared_fixtures import FIXTURES

FIXTURE_LINES = [line for line in (FIXTURES / "envoy" / "access-logs.txt").read_bytes().splitlines()
                 if line and not line.startswith(b"#")]


def one_process_lines(data: bytes) -> list[str]:
    """How the one-process path (a text file, UTF-8, bad bytes replaced) splits ``data``."""
    return list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"))


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\xe2\x82\xac", b"\xff", b"\xe2", b"xyz "]),
                     max_size=200).map(b"".join),
       chunk=st.integers(min_value=1, max_value=40))
def test_pieces_hold_the_lines_one_process_reads(tmp_path_factory: pytest.TempPathFactory, data: bytes,
                                                 chunk: int) -> None:
    path = tmp_path_factory.mktemp("log") / "proxy.log"
    path.write_bytes(data)
    with open(path, "rb") as fh, pytest.MonkeyPatch.context() as patch:
        patch.setattr(fanout, "CHUNK", chunk)
        cuts = fanout.boundaries(fh.fileno(), len(data))
    assert cuts[0] == 0 and cuts[-1] == len(data)
    assert all(start < end for start, end in pairwise(cuts)) or cuts == [0, 0]  # no empty piece but an empty file's
    assert all(data[cut - 1:cut] == b"\n" for cut in cuts[1:-1])
    pieces = [list(fanout.lines_of(data[start:end])) for start, end in pairwise(cuts)]
    assert [line for piece in pieces for line in piece] == one_process_lines(data)


@pytest.mark.parametrize(("size", "cores", "workers"), [
    (0, 8, 1), (2 * fanout.CHUNK - 1, 8, 1), (2 * fanout.CHUNK, 8, 2), (100 * fanout.CHUNK, 2, 2),
    (100 * fanout.CHUNK, 1, 1), (100 * fanout.CHUNK, 64, fanout.MAX_WORKERS),
])
def test_workers_for(monkeypatch: pytest.MonkeyPatch, size: int, cores: int, workers: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    assert fanout.workers_for(size) == workers


# A fresh interpreter with small pieces, so a test-sized file is cut into many.
RUN = """
import sys
from meshtui.cli import fanout
fanout.CHUNK = 4096
sys.exit(__import__("meshtui.__main__").__main__.main(sys.argv[1:]))
"""


def meshtui_logs(*argv: str, stdin: bytes | None = None, **popen: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", RUN, "logs", *argv, "-o", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin is not None else None,
                            **popen)  # type: ignore[call-overload]


def hostile_log(lines: int) -> bytes:
    """The fixture's lines and odd ones: bad UTF-8, a lone CR, terminal escapes, a line longer than a piece."""
    odd = [b"\xff\xfe broken", b"carriage\rreturn", b"\x1b]0;title\x07 \x1b[2J", b"[" + b"x" * 5000 + b"]",
           "ünïcödé €".encode()]
    pool = FIXTURE_LINES + odd
    return b"\n".join(pool[i % len(pool)] for i in range(lines))  # the last line has no newline


def test_forked_output_is_byte_identical_to_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(3000))
    monkeypatch.setattr(fanout, "CHUNK", 4096)
    with open(path, "rb") as fh:
        assert len(fanout.boundaries(fh.fileno(), path.stat().st_size)) > 10  # really cut (at 4 KiB)
    forked = meshtui_logs(str(path))
    piped = meshtui_logs("-", stdin=b"")
    one, one_err = piped.communicate(path.read_bytes())
    many, many_err = forked.communicate()
    assert (forked.returncode, many_err) == (0, b"") and (piped.returncode, one_err) == (0, b"")
    assert many == one and many.count(b"\n") == len(one_process_lines(path.read_bytes()))


def test_reader_going_away_stops_every_process(tmp_path: Path) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(20_000))
    child = meshtui_logs(str(path), start_new_session=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # as head -1 does
    assert child.wait(timeout=30) == 1 and child.stderr.read() == b""
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
    assert child.returncode == 130 and err == b"meshtui: interrupted\n"
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)


def test_a_failing_worker_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "proxy.log"
    path.write_bytes(hostile_log(3000))
    # A parser bug in a worker: the parent names the file and the failure, and prints no traceback.
    broken = RUN.replace("fanout.CHUNK = 4096", "fanout.CHUNK = 4096\nimport meshtui.cli.logs as L\n"
                         "L.parse_line = lambda line: 1 / 0")
    child = subprocess.run([sys.executable, "-c", broken, "logs", str(path), "-o", "json"], capture_output=True,
                           timeout=60)
    assert child.returncode == 2
    assert child.stderr == f"meshtui logs: cannot read {path}: division by zero\n".encode()

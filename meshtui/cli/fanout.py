"""Log lines through one function on every core, printed in input order.

`meshtui logs -o json` spends ~10 µs of Python per line: one core parses ~70,000 lines/s. The
parent reads the input (a file or a pipe) in pieces cut at line ends. While the input trickles
in, it renders them itself; once a read finds a pipe's worth waiting (a saved log, a fast pipe:
the input waits on this process) it forks workers and hands the pieces round, two to a worker
so that the next one is waiting when it finishes one. Forked workers start with the parser
imported and send back the bytes to print, so nothing is pickled. The
parent prints each piece's output in input order as soon as it is ready, and a read returns
whatever the pipe holds, so a live `kubectl logs -f ... | meshtui logs - -o json` still prints
lines as they come.
"""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO

from meshtui.forking import WorkerError, end, fork

# Bytes of log per piece: ~800 access lines, ~600 KB of JSON. 1 MiB pieces were no faster, and
# each process then peaked at 36 MiB instead of 25 (tests/bench/bench_logs_cli.py).
CHUNK = 1 << 18
# A read that finds this much waiting (a full pipe on Linux) means the input is coming faster
# than one process parses it. A slow live stream never has that much waiting at once.
BACKLOG = 1 << 16
FILL_WAIT = 0.05  # seconds a piece waits for more input once workers run
# Pieces a worker holds at once: the one it renders and the next, already in its pipe, so it never
# waits for the parent between pieces. With one, each worker stood idle a quarter of the time.
DEPTH = 2
# A pipe this big holds a whole piece, or most of a piece's output: a worker hands it over and goes
# on, and the parent reads a piece of a piped input at once. Best effort: Linux allows 1 MiB to
# anyone by default (fs.pipe-max-size).
PIPE_SIZE = 1 << 20
_ENDED = "a worker ended without its output"
_FRAME = struct.Struct(">q")  # a piece's length; from a worker, negative: an error message's

Render = Callable[[Iterable[str]], Iterator[bytes]]


def lines_of(piece: bytes) -> io.StringIO:
    """A piece's lines as a text file reading them would split them: UTF-8, bad bytes replaced,
    universal newlines. Pieces end after a newline, where a UTF-8 character and a line both end."""
    return io.StringIO(piece.decode("utf-8", "replace"), newline=None)


class Pieces:
    """Cuts what is read into pieces that end after a newline (the last one: at the end of input)."""

    def __init__(self) -> None:
        self._held: list[bytes] = []  # a line longer than a read, until its newline comes

    def feed(self, data: bytes) -> bytes:
        """The complete lines so far ("" if none); ``data`` b"" means the input ended."""
        if not data:
            rest, self._held = b"".join(self._held), []
            return rest
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._held.append(data)
            return b""
        piece = b"".join([*self._held, data[:cut]]) if self._held else data[:cut]
        self._held = [data[cut:]] if cut < len(data) else []
        return piece


@dataclass
class _Worker:
    """A forked worker and its pipes, used unbuffered as the parent waits on them with select.
    Writes to ``to_worker`` do not block: what the pipe does not take yet waits in ``outbox``."""

    pid: int
    to_worker: int
    from_worker: int
    outbox: deque[memoryview] = field(default_factory=deque)

    def send(self) -> None:
        """Write what the pipe takes now of the pieces waiting for this worker."""
        try:
            while self.outbox:
                sent = os.write(self.to_worker, self.outbox[0])
                if sent < len(self.outbox[0]):
                    self.outbox[0] = self.outbox[0][sent:]
                    return
                self.outbox.popleft()
        except BlockingIOError:
            return
        except BrokenPipeError:  # not our reader gone (that ends quietly): the worker died
            raise WorkerError(_ENDED) from None


def print_in_order(in_fd: int, out: BinaryIO, render: Render, workers: int) -> None:
    """Write ``render``'s output for every line read from ``in_fd`` to ``out``, in input order, as
    one process would; with up to ``workers`` forked processes once the input comes in faster than
    one process renders it. Raises WorkerError if a worker fails."""
    # A pipe's 64 KiB made four reads and four wake-ups of each piece (a regular file refuses this).
    _widen(in_fd)
    pieces = Pieces()
    started: list[_Worker] = []
    pending: deque[_Worker] = deque()  # a worker per piece given out, oldest piece first
    finished = eof = False
    try:
        while not eof or pending:
            want_input = not eof and len(pending) < DEPTH * max(1, len(started))
            waits = ([in_fd] if want_input else []) + ([pending[0].from_worker] if pending else [])
            ready, writable, _ = select.select(waits, [w.to_worker for w in started if w.outbox], [])
            for worker in started:
                if worker.to_worker in writable:
                    worker.send()
            # Never blocks on a worker's input: the worker writes a piece's whole output before
            # it reads on, so once its frame has begun it finishes without the parent's help.
            if pending and pending[0].from_worker in ready:
                _print(out, _next_frame(pending.popleft().from_worker))
            if not want_input or in_fd not in ready:
                continue
            # Once workers run, a piece waits a little for more input: a fast producer refills its
            # pipe in microseconds, and a whole piece keeps a worker busy longer per round trip.
            data, eof, backlog = _read(in_fd, FILL_WAIT if started else 0)
            piece = pieces.feed(data) + (pieces.feed(b"") if eof else b"")
            while backlog and len(started) < workers:  # the input waits on one process: fan out
                started.append(_start(render, started))
            if not piece:
                continue
            if not started:
                _print(out, b"".join(render(lines_of(piece))))
                continue
            worker = min(started, key=pending.count)
            worker.outbox.extend((memoryview(_FRAME.pack(len(piece))), memoryview(piece)))
            worker.send()
            pending.append(worker)
        finished = True
    finally:
        for worker in started:
            os.close(worker.to_worker)  # the end of its input: the worker exits
            os.close(worker.from_worker)
            # Killed after an error, ctrl+c, or when the reader of our output went away (head -1).
            end(worker.pid, kill=not finished)


def _read(fd: int, wait: float) -> tuple[bytes, bool, bool]:
    """Up to CHUNK bytes of ``fd``, ending the piece early when the input has nothing for ``wait``
    seconds: (data, the input ended, at least a pipe's worth was waiting at once)."""
    parts: list[bytes] = []
    size = 0
    backlog = False
    while size < CHUNK:
        part = os.read(fd, CHUNK - size)
        if not part:
            return b"".join(parts), True, backlog
        parts.append(part)
        size += len(part)
        backlog = backlog or len(part) >= BACKLOG
        if not select.select([fd], [], [], wait)[0]:
            break
    return b"".join(parts), False, backlog


def _print(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()  # a live stream's lines show as they come


def _read_exact(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0 and (part := os.read(fd, min(size, 1 << 20))):
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _next_frame(fd: int) -> bytes:
    head = _read_exact(fd, _FRAME.size)
    if len(head) < _FRAME.size:
        raise WorkerError(_ENDED)
    (length,) = _FRAME.unpack(head)
    data = _read_exact(fd, abs(length))
    if length < 0:
        raise WorkerError(data.decode("utf-8", "replace"))
    return data


def _start(render: Render, others: list[_Worker]) -> _Worker:
    to_read, to_write = os.pipe()
    from_read, from_write = os.pipe()
    for fd in (to_write, from_write):
        _widen(fd)
    os.set_blocking(to_write, False)
    # The other workers' pipes are closed in this one, or a worker never sees the end of its input.
    inherited = [to_write, from_read, *(fd for other in others for fd in (other.to_worker, other.from_worker))]
    pid = fork(partial(_work, to_read, from_write, render), inherited)
    os.close(to_read)
    os.close(from_write)
    return _Worker(pid, to_write, from_read)


def _widen(pipe: int) -> None:
    with suppress(OSError, AttributeError):  # over the user's pipe quota; fcntl without the constant
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


def _work(in_fd: int, out_fd: int, render: Render) -> int:
    """Render each piece that comes in, a frame back for each; the exit status."""
    with os.fdopen(in_fd, "rb") as pieces, os.fdopen(out_fd, "wb") as pipe:
        try:
            while len(head := pieces.read(_FRAME.size)) == _FRAME.size:
                (length,) = _FRAME.unpack(head)
                # A whole piece is rendered before it is sent: the parent reads one worker at a time,
                # and the others must go on working meanwhile, not wait on a full pipe.
                output = list(render(lines_of(pieces.read(length))))
                pipe.write(_FRAME.pack(sum(map(len, output))))
                pipe.writelines(output)
                pipe.flush()
        except BrokenPipeError:  # the parent stopped reading: it is ending
            return 1
        except Exception as exc:  # any failure is the parent's to report, not a traceback here
            message = (str(exc) or type(exc).__name__).encode()
            with suppress(OSError):
                pipe.write(_FRAME.pack(-len(message)) + message)
                pipe.flush()
            return 1
    return 0

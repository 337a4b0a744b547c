"""A big log file's lines through one function on every core, printed in file order.

`meshtui logs FILE -o json` spends ~10 µs of Python per line: one core parses ~70,000 lines/s.
A regular file can be cut at line ends and its pieces parsed at once. The workers are forked
(not spawned) so they start with the parser already imported, and they send back the bytes to
print, so nothing is pickled. Each worker takes every Nth chunk; the parent reads the workers'
pipes in turn, so the output keeps the file's order and at most a chunk per worker waits in memory.
"""

from __future__ import annotations

import io
import os
import signal
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from itertools import pairwise
from typing import BinaryIO

CHUNK = 1 << 20  # bytes of log per piece of work: ~3,000 access lines, ~2 MB of JSON held per worker
MAX_WORKERS = 8
_FRAME = struct.Struct(">q")  # a chunk's output length; negative: an error message of that length

Render = Callable[[Iterable[str]], Iterator[bytes]]


class WorkerError(OSError):
    """A worker could not read or render its part of the file."""


def workers_for(size: int) -> int:
    """How many processes to parse ``size`` bytes with: 1 (no fork) unless there are cores to gain."""
    if not hasattr(os, "fork") or size < 2 * CHUNK:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, size // CHUNK))


def boundaries(fd: int, size: int) -> list[int]:
    """Offsets that cut the first ``size`` bytes of ``fd`` into pieces of about CHUNK bytes, each cut
    just after a newline (a UTF-8 character and a line both end there), the first 0, the last ``size``."""
    cuts = [0]
    for at in range(CHUNK, size, CHUNK):
        cut = _line_end(fd, at, size)
        if cuts[-1] < cut < size:  # a line longer than a chunk spans several
            cuts.append(cut)
    cuts.append(size)
    return cuts


def _line_end(fd: int, at: int, size: int) -> int:
    """The offset just after the first newline at or after ``at - 1``; ``size`` if there is none."""
    at -= 1
    while at < size:
        block = os.pread(fd, min(1 << 16, size - at), at)
        if not block:
            break
        newline = block.find(b"\n")
        if newline >= 0:
            return at + newline + 1
        at += len(block)
    return size


def lines_of(data: bytes) -> io.StringIO:
    """A piece's lines as the text file the one-process path reads splits them: UTF-8, bad bytes
    replaced, universal newlines."""
    return io.StringIO(data.decode("utf-8", "replace"), newline=None)


def print_in_order(fd: int, size: int, out: BinaryIO, render: Render, workers: int) -> None:
    """Write ``render``'s output for every line in the first ``size`` bytes of the open file ``fd`` to
    ``out``, as one process would, with ``workers`` forked processes doing the rendering (a line
    appended after ``size`` is not read). Raises WorkerError if a worker fails."""
    cuts = boundaries(fd, size)
    pieces = list(pairwise(cuts))
    readers: list[BinaryIO] = []
    pids: list[int] = []
    finished = False
    try:
        for index in range(workers):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker
                status = 1
                try:
                    os.close(read_fd)
                    for reader in readers:
                        reader.close()
                    status = _work(fd, pieces[index::workers], write_fd, render)
                finally:
                    os._exit(status)  # never back into the parent's code
            os.close(write_fd)
            pids.append(pid)
            readers.append(os.fdopen(read_fd, "rb"))
        for index in range(len(pieces)):
            out.write(_next_frame(readers[index % workers]))
        finished = True
    finally:
        for reader in readers:
            reader.close()
        for pid in pids:
            if not finished:  # an error, or the reader of our output went away (head(1))
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _next_frame(reader: BinaryIO) -> bytes:
    head = reader.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise WorkerError("a worker ended without its output")
    (length,) = _FRAME.unpack(head)
    data = reader.read(abs(length))
    if length < 0:
        raise WorkerError(data.decode("utf-8", "replace"))
    return data


def _work(fd: int, pieces: list[tuple[int, int]], write_fd: int, render: Render) -> int:
    """Render ``pieces`` of ``fd`` into the pipe, a frame each; the exit status."""
    # ctrl+c reaches the whole process group: the parent alone stops, and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with os.fdopen(write_fd, "wb") as pipe:
        try:
            for start, end in pieces:
                # A whole piece is rendered before it is sent: the parent reads one worker at a time,
                # and the others must go on working meanwhile, not wait on a full pipe.
                output = list(render(lines_of(_read(fd, start, end))))
                pipe.write(_FRAME.pack(sum(map(len, output))))
                pipe.writelines(output)
                pipe.flush()
        except BrokenPipeError:  # the parent stopped reading: it is ending
            return 1
        except Exception as exc:  # any failure is the parent's to report, not a traceback here
            message = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).encode()
            with suppress(OSError):
                pipe.write(_FRAME.pack(-len(message)) + message)
                pipe.flush()
            return 1
    return 0


def _read(fd: int, start: int, end: int) -> bytes:
    parts = []
    while start < end:
        part = os.pread(fd, end - start, start)  # the fd is shared: pread moves no common offset
        if not part:
            raise WorkerError("the file became shorter while it was read")
        parts.append(part)
        start += len(part)
    return b"".join(parts)

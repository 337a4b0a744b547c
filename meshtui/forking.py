"""Forked workers for the command-line tools that spend their time in Python on every byte of their
input (`meshtui logs -o json`, `meshtui check -f`): one interpreter uses one core. Never in the
app, which has threads (cores() says 1 there).
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import cache, partial
from typing import Any, TypeVar

MAX_WORKERS = 8

T = TypeVar("T")
R = TypeVar("R")


class WorkerError(OSError):
    """A worker failed in a way its parent cannot report as the worker's own exception."""


def cores() -> int:
    """Processes worth running: the CPUs this process may use; 1 where it cannot fork, or must not
    (another thread could hold a lock the child would then wait on forever)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(count, MAX_WORKERS))


def fork(work: Callable[[], int], close: Iterable[int] = ()) -> int:
    """Run ``work`` in a forked child that closes the file descriptors ``close`` first and exits
    with ``work``'s status, never returning into the parent's code; the child's pid."""
    # ctrl+c reaches the whole process group, the workers too: only the parent may take it (and end
    # them). Blocked across the fork, it cannot interrupt a worker before the worker ignores it,
    # even inside the interpreter's own after-fork hooks; the parent takes it once unblocked.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # one pending now is dropped
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for fd in close:
                os.close(fd)
            status = work()
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return pid


def end(pid: int, *, kill: bool) -> None:
    """Wait for a worker; first ``kill`` it when the parent gives up on its work."""
    if kill:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def map_shares(function: Callable[[T], R], shares: Sequence[T]) -> list[R]:
    """``[function(share) for share in shares]``, the first share in this process and each other
    one in a forked worker. An exception raises as the list comprehension would raise it: the
    first share's in order, as long as it pickles. Results travel back pickled."""
    started: list[tuple[int, int]] = []  # (pid, the read end of its result pipe)
    finished = False
    try:
        for share in shares[1:]:
            read_end, write_end = os.pipe()
            pid = fork(partial(_send, write_end, function, share), [read_end, *(fd for _, fd in started)])
            os.close(write_end)
            started.append((pid, read_end))
        results = [function(shares[0])] if shares else []
        for _pid, read_end in started:
            # One worker at a time: the others, done, wait on their full pipes meanwhile.
            with os.fdopen(read_end, "rb", closefd=False) as pipe:
                data = pipe.read()
            if not data:
                raise WorkerError("a worker ended without its result")
            ok, value = pickle.loads(data)
            if not ok:
                raise value
            results.append(value)
        finished = True
        return results
    finally:
        for pid, read_end in started:
            os.close(read_end)
            end(pid, kill=not finished)


@cache
def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields a frozen dataclass's ``__init__`` takes, if it takes them all; else None."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return None
    fields = dataclasses.fields(cls)
    return tuple(f.name for f in fields) if all(f.init for f in fields) else None


class _Pickler(pickle.Pickler):
    """Frozen dataclasses (the model objects) travel as their class and the values for its
    ``__init__``: the standard way rebuilds them through dataclasses' own ``__setstate__``, which
    took twice as long, and the parent unpickles every worker's objects on one core."""

    def reducer_override(self, obj: Any) -> Any:
        names = _init_fields(obj.__class__)
        if names is None:
            return NotImplemented
        return type(obj), tuple(getattr(obj, name) for name in names)


def _dumps(value: Any) -> bytes:
    out = io.BytesIO()
    _Pickler(out, pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _send(fd: int, function: Callable[[T], R], share: T) -> int:
    try:
        data = _dumps((True, function(share)))
    except Exception as exc:  # the parent's to raise, in order, not a traceback here
        try:
            data = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its words, at least
            data = pickle.dumps((False, WorkerError(str(exc) or type(exc).__name__)))
    with suppress(BrokenPipeError), os.fdopen(fd, "wb") as pipe:
        pipe.write(data)
    return 0

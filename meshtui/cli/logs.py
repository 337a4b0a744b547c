"""`meshtui logs FILE|-`: open a saved istio-proxy log in the viewer, or print it parsed as JSON.

JSON output streams: one line in, one record out, so memory stays flat however long the log is.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections import deque
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TextIO

import msgspec

from meshtui import forking
from meshtui.cli import fanout
from meshtui.config import Settings
from meshtui.logs.parser import parse_documented
from meshtui.text import safe_json_bytes

EXIT_OK = 0
EXIT_ERROR = 2

AppFactory = Callable[..., Any]

DESCRIPTION = """\
Open an istio-proxy log (saved from a ticket, or piped: kubectl logs POD -c istio-proxy |
meshtui logs -) in the log viewer: columns, problem filters, search and explanations.
With --output json, print one parsed record per line instead, as it is read, with the fields
time, direction, method, path, protocol, code, flags, details, termination, transport_failure,
bytes_in, bytes_out, duration_ms, upstream_host, upstream_cluster, authority, sni, raw,
downstream_remote, downstream_local, upstream_local, route_name, request_id, user_agent,
x_forwarded_for, tls (mtls, tls or plaintext as far as the line tells), client (the pod behind
downstream_remote; null here, as a file carries no cluster to resolve it against; the
viewer's Y copies a line with it resolved)
(null when absent). See docs/logs-json.md. Exit status: 0 done, 2 the file cannot be read.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "logs", help="open a saved istio-proxy log, or print it parsed as JSON",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="log file, or - for standard input")
    parser.add_argument("--output", "-o", choices=("tui", "json"), default="tui",
                        help="tui (default): the viewer; json: one parsed record per line on stdout")


def _open(name: str, stdin: TextIO) -> TextIO:
    # errors="replace": a log with a stray binary byte is still a log worth reading.
    if name == "-":
        binary = getattr(stdin, "buffer", None)
        return stdin if binary is None else io.TextIOWrapper(binary, encoding="utf-8", errors="replace")
    return open(name, encoding="utf-8", errors="replace")


# The JSON encoder: msgspec encodes a batch of records as newline-delimited JSON in one C call;
# measured in tests/bench/bench_logs_cli.py against json and orjson, it is the fastest here.
_BATCH = 256  # records per write: a syscall per line would cost more than parsing it


def _json_lines(lines: Iterable[str]) -> Iterator[bytes]:
    """The JSON records of ``lines``, a batch at a time, safe to print on a terminal."""
    encode_lines = msgspec.json.Encoder().encode_lines
    lines = iter(lines)
    while batch := list(islice(lines, _BATCH)):
        yield safe_json_bytes(encode_lines([parse_documented(line) for line in batch]))


def _print_json(source: TextIO, stdout: TextIO) -> None:
    # Bytes straight to the binary stream when there is one (a real stdout); text otherwise.
    binary = getattr(stdout, "buffer", None)
    fd = _fileno(source)
    cores = forking.cores()
    if binary is not None and fd is not None and cores > 1:
        # Nothing has been read through ``source`` yet: its file descriptor is read directly.
        fanout.print_in_order(fd, binary, _json_lines, cores)
        return
    for data in _json_lines(source):
        _write(stdout, binary, data)


def _fileno(source: TextIO) -> int | None:
    try:
        return source.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without a file under it; a closed one
        return None


def _write(stdout: TextIO, binary: Any, data: bytes) -> None:
    if binary is None:
        stdout.write(data.decode())
    else:
        binary.write(data)


def _reattach_terminal() -> None:
    """After reading a pipe on stdin, give the viewer the terminal to read keys from."""
    fd = os.open("/dev/tty", os.O_RDONLY)
    try:
        os.dup2(fd, 0)
    finally:
        os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 lives as long as the process


def run(args: argparse.Namespace, *, app_factory: AppFactory, stdin: TextIO | None = None,
        stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    if not args.file:
        stderr.write("meshtui logs: FILE is an empty path; give a file, or - for standard input\n")
        return EXIT_ERROR
    buffer_lines = getattr(args, "log_buffer_lines", None) or Settings().log_buffer_lines
    try:
        source = _open(args.file, stdin)
    except OSError as exc:
        stderr.write(f"meshtui logs: cannot read {args.file}: {exc.strerror or exc}\n")
        return EXIT_ERROR
    try:
        if args.output == "json":
            _print_json(source, stdout)
            return EXIT_OK
        # Only the newest lines fit the viewer's buffer: only those are kept.
        lines = [line.rstrip("\r\n") for line in deque(source, maxlen=buffer_lines)]
    except (UnicodeError, forking.WorkerError) as exc:  # a strict text stdin; a worker that failed
        stderr.write(f"meshtui logs: cannot read {args.file}: {exc}\n")
        return EXIT_ERROR
    finally:
        if source is stdin:
            pass
        elif args.file == "-" and isinstance(source, io.TextIOWrapper):
            source.detach()  # stdin's own buffer stays open: the viewer may still need fd 0
        else:
            source.close()
    if args.file == "-" and not stdin.isatty():
        try:
            _reattach_terminal()
        except OSError:
            stderr.write("meshtui logs: no terminal to show the viewer on; use --output json\n")
            return EXIT_ERROR
    from meshtui.screens.logs import LogsScreen

    title = "stdin" if args.file == "-" else os.path.basename(args.file)
    screen = LogsScreen.from_lines(lines, title, Settings(log_buffer_lines=buffer_lines))
    app = app_factory(initial_screen=screen)
    app.run()
    return EXIT_OK

"""`meshtui logs FILE|-`: open a saved istio-proxy log in the viewer, or print it parsed as JSON."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, TextIO

from meshtui.config import Settings
from meshtui.logs.parser import parse_line
from meshtui.text import safe_json

EXIT_OK = 0
EXIT_ERROR = 2

AppFactory = Callable[..., Any]

DESCRIPTION = """\
Open an istio-proxy log (saved from a ticket, or piped: kubectl logs POD -c istio-proxy |
meshtui logs -) in the log viewer: columns, problem filters, search and explanations.
With --output json, print one parsed record per line instead, with the fields
time, direction, method, path, protocol, code, flags, details, termination, transport_failure,
bytes_in, bytes_out, duration_ms, upstream_host, upstream_cluster, authority, sni, raw
(null when absent). Exit status: 0 done, 2 the file cannot be read.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "logs", help="open a saved istio-proxy log, or print it parsed as JSON",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="log file, or - for standard input")
    parser.add_argument("--output", "-o", choices=("tui", "json"), default="tui",
                        help="tui (default): the viewer; json: one parsed record per line on stdout")


def _read_lines(name: str, stdin: TextIO) -> list[str]:
    if name == "-":
        return stdin.read().splitlines()
    # errors="replace": a log with a stray binary byte is still a log worth reading.
    with open(name, encoding="utf-8", errors="replace") as fh:
        return fh.read().splitlines()


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
    try:
        lines = _read_lines(args.file, stdin)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        stderr.write(f"meshtui logs: cannot read {args.file}: {reason}\n")
        return EXIT_ERROR
    if args.output == "json":
        write = stdout.write
        for line in lines:
            write(safe_json(parse_line(line).documented()) + "\n")
        return EXIT_OK
    if args.file == "-" and not stdin.isatty():
        try:
            _reattach_terminal()
        except OSError:
            stderr.write("meshtui logs: no terminal to show the viewer on; use --output json\n")
            return EXIT_ERROR
    from meshtui.screens.logs import LogsScreen

    buffer_lines = getattr(args, "log_buffer_lines", None) or Settings().log_buffer_lines
    title = "stdin" if args.file == "-" else os.path.basename(args.file)
    screen = LogsScreen.from_lines(lines, title, Settings(log_buffer_lines=buffer_lines))
    app = app_factory(initial_screen=screen)
    app.run()
    return EXIT_OK

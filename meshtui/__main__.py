"""Command line: parse flags, read the config, build the backend and the app. Nothing else."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from meshtui import __version__
from meshtui.backend.base import Backend
from meshtui.cli.options import add_cluster_options
from meshtui.config import ConfigError, Settings, build_settings, default_config_path, load_config

EXIT_USAGE = 2

DESCRIPTION = """\
meshtui: operate an Istio service mesh from the terminal — namespaces, pods, PeerAuthentication
(PERMISSIVE/STRICT per namespace, workload and port), sidecar injection and istio-proxy logs.

Without a sub-command it opens the app on the current kube context (or the simulated mesh with --demo).
"""

EPILOG = """\
sub-commands:
  check     check mTLS policies of a cluster or of manifest files (meshtui check --help)
  tls       check what the sidecars really do: plaintext callers, certificates, sync (meshtui tls --help)
  logs      open a saved istio-proxy log, or print it parsed as JSON (meshtui logs --help)
  migrate   plan or export the PERMISSIVE → STRICT migration (meshtui migrate --help)
  history   list changes meshtui applied (journal)
  undo      revert the last change meshtui applied
  demo-server  run the demo cluster's API server on 127.0.0.1 and print a kubeconfig for kubectl

config file: $XDG_CONFIG_HOME/meshtui/config.yaml (default ~/.config/meshtui/config.yaml), or --config.
"""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


# Each sub-command, in help order, and where its parser comes from: (module in meshtui.cli, its
# function adding it).
_ADDERS = {"check": ("check", "add_parser"), "tls": ("tls", "add_parser"), "migrate": ("migrate", "add_parser"),
           "logs": ("logs", "add_parser"), "history": ("history", "add_parsers"),
           "undo": ("history", "add_parsers"), "demo-server": ("demo_server", "add_parser")}
COMMANDS = tuple(_ADDERS)


def build_parser(commands: Sequence[str] = COMMANDS) -> OneLineParser:
    """The command line with these sub-commands (none: the app's options alone); a sub-command left
    out is a module not imported."""
    parser = OneLineParser(prog="meshtui", description=DESCRIPTION, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"meshtui {__version__}")
    add_cluster_options(parser)
    parser.add_argument("--config", metavar="PATH", help="config file (default: ~/.config/meshtui/config.yaml)")
    parser.add_argument("--theme", metavar="NAME|PATH",
                        help="meshtui-dark, meshtui-light, meshtui-high-contrast, or a theme YAML file")
    parser.add_argument("--keymap", metavar="NAME|PATH", help="default, vim, or a keymap YAML file")
    parser.add_argument("--read-only", action="store_true", default=None,
                        help="remove every action that changes the cluster")
    parser.add_argument("--root-namespace", metavar="NS", help="Istio root namespace (default: istio-system)")
    parser.add_argument("--log-buffer", metavar="LINES", type=int, dest="log_buffer_lines",
                        help="lines kept per log view (default: 50000)")
    parser.add_argument("--auto-rollback", action="store_true", default=None,
                        help="migration wizard: roll a step back by itself when verify sees it break clients")
    parser.add_argument("--seed", type=int, help="seed of the simulated mesh (with --demo; default 7)")

    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module, adder in dict.fromkeys(_ADDERS[command] for command in commands):
        getattr(importlib.import_module(f"meshtui.cli.{module}"), adder)(sub)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Opening the app, the usual case, builds no sub-command parser: importing them all (with the
    checks, migration and history they run) would delay the first screen. Any word that could be a
    sub-command, a help flag or an argument the app does not take goes to the full parser, so
    errors and help read the same."""
    words = list(sys.argv[1:] if argv is None else argv)
    named = {word for word in words if word in COMMANDS}
    if not named and not any(word in ("-h", "--help") for word in words):
        args, unknown = build_parser(()).parse_known_args(words)
        if not unknown:
            return args
    if len(named) == 1 and words[0] in named:
        # `meshtui logs ...`: the one sub-command alone (its own --help and errors read the same).
        return build_parser(tuple(named)).parse_args(words)
    return build_parser().parse_args(words)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Config file values, then the flags the user gave. Raises ConfigError."""
    path = Path(args.config) if getattr(args, "config", None) else default_config_path()
    file_values = load_config(path, required=bool(getattr(args, "config", None)))
    flags = {k: v for k, v in vars(args).items() if v is not None}
    if flags.get("all_namespaces"):
        flags["namespace"] = None
        file_values = {k: v for k, v in file_values.items() if k != "namespace"}
    return build_settings(file_values, flags)


def backend_from_args(args: argparse.Namespace) -> Backend:
    from meshtui.factory import make_backend

    return make_backend(settings_from_args(args))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except KeyboardInterrupt:
        # ctrl+c outside the app (check or undo waiting on a server or a credential plugin): end the
        # requests and plugins in flight so no thread or process keeps the interpreter alive.
        from meshtui.backend.deadline import abort_all
        from meshtui.backend.kube_plugin import stop_all

        stop_all()
        abort_all()
        sys.stderr.write("meshtui: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`meshtui logs -o json f | head`): stop quietly, as the Python docs
        # advise, pointing stdout at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run(argv: Sequence[str] | None) -> int:
    from meshtui.config import state_dir
    from meshtui.liblog import route_library_logging

    route_library_logging(state_dir())
    args = parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        sys.stderr.write(f"meshtui: {exc}\n")
        return EXIT_USAGE
    if args.command == "check":
        from meshtui.cli import check

        return check.run(args, backend_factory=backend_from_args)
    if args.command == "tls":
        from meshtui.cli import tls

        return tls.run(args, backend_factory=backend_from_args)
    if args.command == "migrate":
        from meshtui.cli import migrate

        return migrate.run(args, backend_factory=backend_from_args)
    if args.command in ("history", "undo"):
        from meshtui.cli import history

        args.read_only = settings.read_only  # the config file's read_only counts for undo too
        runner = history.run_history if args.command == "history" else history.run_undo
        return runner(args, backend_factory=backend_from_args)
    if args.command == "demo-server":
        from meshtui.cli import demo_server

        return demo_server.run(args, settings.seed)
    if settings.log_buffer_lines < 100:
        sys.stderr.write("meshtui: --log-buffer must be at least 100\n")
        return EXIT_USAGE
    from meshtui.factory import build_app

    if args.command == "logs":
        from meshtui.cli import logs

        return logs.run(args, app_factory=lambda **kw: build_app(settings, offline=True, **kw))
    app = build_app(settings)
    try:
        result = app.run()
    finally:
        app.shutdown()
    return result or 0


if __name__ == "__main__":
    raise SystemExit(main())

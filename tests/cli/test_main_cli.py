"""`meshtui` itself: version, help, and bad input as one line with exit code 2 (in a real subprocess)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshtui import __version__
from tests.shared_fixtures import FIXTURES


def meshtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshtui", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60, stdin=subprocess.DEVNULL)


def test_version() -> None:
    result = meshtui("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"meshtui {__version__}"


def test_help_documents_every_flag() -> None:
    result = meshtui("--help")
    assert result.returncode == 0
    for flag in ("--demo", "--kubeconfig", "--context", "--namespace", "--all-namespaces", "--config",
                 "--theme", "--keymap", "--read-only", "--root-namespace", "--log-buffer", "--seed",
                 "--version", "check", "logs", "history", "undo"):
        assert flag in result.stdout, flag


@pytest.mark.parametrize("args", [["--frobnicate"], ["--demo", "--log-buffer", "lots"], ["nosuchcommand"]])
def test_bad_flags_one_line_exit_2(args: list[str]) -> None:
    result = meshtui(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_config_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("theme: [\n")
    result = meshtui("--demo", env={"MESHTUI_CONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert str(config) in result.stderr and "invalid YAML" in result.stderr


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    result = meshtui("--config", str(tmp_path / "nope.yaml"), "--demo")
    assert result.returncode == 2 and "no such config file" in result.stderr


def test_log_buffer_too_small() -> None:
    result = meshtui("--demo", "--log-buffer", "5")
    assert result.returncode == 2 and "--log-buffer" in result.stderr


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    fixture = FIXTURES / "envoy" / "access-logs.txt"
    big = tmp_path / "big.log"
    big.write_text(fixture.read_text() * 300)  # far more output than a pipe buffers
    proc = subprocess.Popen([sys.executable, "-m", "meshtui", "logs", str(big), "-o", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 1
    assert "Traceback" not in stderr


@pytest.mark.parametrize("args", [[], ["--demo"], ["--demo", "-n", "payments", "--seed", "3"], ["-A", "--read-only"],
                                  ["--context", "check"], ["--theme=meshtui-light", "--keymap", "vim"]])
def test_the_app_parses_the_same_without_building_the_sub_commands(args: list[str]) -> None:
    from meshtui.__main__ import build_parser, parse_args

    assert parse_args(args) == build_parser().parse_args(args)
    # In a fresh interpreter: opening the app imports none of the sub-commands' modules.
    probe = ("import sys; from meshtui.__main__ import parse_args; parse_args(sys.argv[1:]); "
             "print(sorted(m for m in sys.modules if m.startswith(('meshtui.cli.', 'meshtui.migrate'))))")
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
    loaded = result.stdout.strip()
    # A value that reads like a sub-command ("--context check") takes the full parser: slower, as right.
    assert (loaded == "['meshtui.cli.options']") is ("check" not in args), (loaded, result.stderr)


@pytest.mark.parametrize("args", [["logs", "proxy.log", "-o", "json"], ["check", "-A"], ["history"],
                                  ["undo", "--yes"], ["tls", "payments"]])
def test_a_sub_command_first_parses_the_same_with_only_its_own_module(args: list[str]) -> None:
    from meshtui.__main__ import build_parser, parse_args

    assert parse_args(args) == build_parser().parse_args(args)
    probe = ("import sys; from meshtui.__main__ import parse_args; parse_args(sys.argv[1:]); "
             "print(sorted(m for m in sys.modules if m.startswith('meshtui.cli.')))")
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
    loaded = set(ast.literal_eval(result.stdout.strip() or "[]"))
    own = "meshtui.cli." + {"undo": "history"}.get(args[0], args[0])
    others = {f"meshtui.cli.{m}" for m in ("check", "tls", "migrate", "logs", "history", "demo_server")} - {own}
    assert own in loaded and not loaded & others, (loaded, result.stderr)

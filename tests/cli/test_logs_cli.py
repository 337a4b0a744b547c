"""`meshtui logs FILE|-`: JSON output, the viewer hand-off and unreadable files."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from meshtui.__main__ import main
from meshtui.cli import logs as logs_cli
from meshtui.logs.record import DOCUMENTED_FIELDS
from meshtui.screens.logs import LogsScreen
from tests.shared_fixtures import FIXTURES

FIXTURE = FIXTURES / "envoy" / "access-logs.txt"


def record_lines() -> list[str]:
    return [line for line in FIXTURE.read_text().splitlines() if line and not line.startswith("#")]


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    logs_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["logs", *argv])


class FakeApp:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.ran = False

    def run(self) -> None:
        self.ran = True


def no_app(**kwargs: Any) -> FakeApp:
    raise AssertionError("--output json must not build the app")


def test_json_output_one_record_per_line(tmp_path: Path) -> None:
    lines = [
        record_lines()[0],  # the outbound sleep → httpbin line
        "not an access log",
    ]
    path = tmp_path / "proxy.log"
    path.write_text("\n".join(lines) + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert (
        logs_cli.run(parse_args(str(path), "--output", "json"), app_factory=no_app, stdout=out, stderr=err)
        == 0
    )
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert err.getvalue() == ""
    assert [list(r) for r in records] == [list(DOCUMENTED_FIELDS)] * 2
    first = records[0]
    assert first["code"] == 418 and first["flags"] == [] and first["direction"] == "outbound"
    assert first["upstream_cluster"] == "outbound|8000||httpbin.foo.svc.cluster.local"
    assert first["sni"] is None and first["raw"] == lines[0]
    assert records[1] == {**dict.fromkeys(DOCUMENTED_FIELDS), "flags": [], "raw": "not an access log"}


def test_json_from_stdin() -> None:
    text = "\n".join(line for line in FIXTURE.read_text().splitlines() if not line.startswith("#"))
    out = io.StringIO()
    code = logs_cli.run(
        parse_args("-", "-o", "json"),
        app_factory=no_app,
        stdin=io.StringIO(text),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 16
    assert [r["code"] for r in records if r["flags"] == ["UF", "URX"]] == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("name", ["missing.log", "."])
def test_unreadable_file_is_one_line_and_exit_2(tmp_path: Path, name: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = logs_cli.run(
        parse_args(str(tmp_path / name), "-o", "json"), app_factory=no_app, stdout=out, stderr=err
    )
    assert code == 2
    assert out.getvalue() == ""
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith(f"meshtui logs: cannot read {tmp_path / name}: ")


def test_viewer_gets_a_file_mode_logs_screen(tmp_path: Path) -> None:
    path = tmp_path / "ticket-1234.log"
    path.write_text(FIXTURE.read_text())
    built: list[FakeApp] = []

    def factory(**kwargs: Any) -> FakeApp:
        built.append(FakeApp(**kwargs))
        return built[-1]

    args = parse_args(str(path))
    args.log_buffer_lines = 500
    assert logs_cli.run(args, app_factory=factory, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    (app,) = built
    screen = app.kwargs["initial_screen"]
    assert app.ran and isinstance(screen, LogsScreen)
    assert screen.file_mode and screen.log_title == "ticket-1234.log"
    assert screen.buffer.capacity == 500


def test_main_entry_point_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user config file
    path = tmp_path / "one.log"
    path.write_text(record_lines()[1] + "\n")
    assert main(["logs", "--output", "json", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["direction"] == "inbound" and record["sni"].startswith("outbound_.8000_")


def test_main_entry_point_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["logs", str(tmp_path / "nope.log")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1

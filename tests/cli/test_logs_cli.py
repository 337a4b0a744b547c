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


FIRST_FIELDS = [
    "time", "direction", "method", "path", "protocol", "code", "flags", "details", "termination",
    "transport_failure", "bytes_in", "bytes_out", "duration_ms", "upstream_host", "upstream_cluster",
    "authority", "sni", "raw",
]


def test_json_new_fields_follow_the_old_ones_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "inbound.log"
    path.write_text(record_lines()[1] + "\n" + record_lines()[11] + "\n")
    out = io.StringIO()
    assert logs_cli.run(parse_args(str(path), "-o", "json"), app_factory=no_app, stdout=out,
                        stderr=io.StringIO()) == 0
    inbound, gateway = (json.loads(line) for line in out.getvalue().splitlines())
    assert list(inbound)[: len(FIRST_FIELDS)] == FIRST_FIELDS
    assert {k: inbound[k] for k in list(inbound)[len(FIRST_FIELDS):]} == {
        "downstream_remote": "10.44.1.23:37652",
        "downstream_local": "10.44.1.27:80",
        "upstream_local": "127.0.0.1:41854",
        "route_name": "default",
        "request_id": "84961386-6d84-929d-98bd-c5aee93b5c88",
        "user_agent": "curl/7.73.0-DEV",
        "x_forwarded_for": None,
        "tls": "mtls",
        "client": None,  # a file has no cluster to resolve the address against
    }
    assert gateway["x_forwarded_for"] == "10.244.0.1" and gateway["upstream_local"] is None
    assert gateway["downstream_remote"] == "10.244.0.1:10858" and gateway["route_name"] is None


class Feed:
    """stdin that checks, as it hands out line N, how much JSON has already been printed."""

    def __init__(self, lines: list[str], out: io.StringIO) -> None:
        self.lines, self.out, self.printed_at = lines, out, {}

    def __iter__(self) -> Any:
        for i, line in enumerate(self.lines):
            self.printed_at[i] = self.out.getvalue().count("\n")
            yield line + "\n"

    def isatty(self) -> bool:
        return False


def test_json_streams_while_reading() -> None:
    out = io.StringIO()
    feed = Feed([record_lines()[0]] * 3000, out)
    assert logs_cli.run(parse_args("-", "-o", "json"), app_factory=no_app, stdin=feed,  # type: ignore[arg-type]
                        stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().count("\n") == 3000
    # Output starts long before the input ends: nothing waits for the whole log.
    assert feed.printed_at[1000] >= 512 and feed.printed_at[2999] >= 2048


def test_stray_bytes_on_stdin_are_replaced_not_fatal() -> None:
    class BinaryStdin(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    stdin = BinaryStdin(io.BytesIO(b"bad \xff byte\n" + record_lines()[0].encode() + b"\n"), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert logs_cli.run(parse_args("-", "-o", "json"), app_factory=no_app, stdin=stdin, stdout=out,
                        stderr=err) == 0
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["raw"] == "bad \ufffd byte" and second["code"] == 418 and err.getvalue() == ""

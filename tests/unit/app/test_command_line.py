"""The `:` command line: spellings, arguments and errors."""

from __future__ import annotations

import pytest

from meshtui.command_line import Command, CommandError, parse, pick


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (":ns legacy", Command("ns", "legacy")),
        ("namespace legacy", Command("ns", "legacy")),
        (":po", Command("pods")),
        (":pods tenant-a-orders", Command("pods", "tenant-a-orders")),
        (":ctx", Command("ctx")),
        (":context prod-eu", Command("ctx", "prod-eu")),
        (":findings", Command("findings")),
        (":findings MT0009 tenant", Command("findings", "MT0009 tenant")),
        (":logs", Command("logs")),
        ("  :LOGS ", Command("logs")),
        (":q", Command("quit")),
        (":help", Command("help")),
    ],
)
def test_parse(line: str, expected: Command) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [(":", "empty command"), (":deploy", "unknown command 'deploy'"), (":ns a b", "takes one name"),
     (":logs x", "takes no argument"), (":\x1b[31mx", "unknown command")],
)
def test_errors_are_one_line(line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message) as exc:
        parse(line)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("legacy", "legacy"), ("leg", "legacy"), ("tenant-a", "tenant-a-orders"), ("tenant", None),
     ("b-orders", "tenant-b-orders"), ("nope", None)],
)
def test_pick(name: str, expected: str | None) -> None:
    choices = ["legacy", "tenant-a-orders", "tenant-b-orders", "istio-system"]
    assert pick(name, choices) == expected

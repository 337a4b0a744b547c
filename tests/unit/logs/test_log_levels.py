"""Raising and restoring Envoy logger levels through the admin /logging endpoint."""

from __future__ import annotations

import pytest

from meshtui.backend.proxy_levels import raise_levels, restore_levels
from meshtui.logs.levels import logging_path, parse_levels

LISTING = """active loggers:
  admin: info
  connection: warning
  http: info
  tls: info
  upstream: info
"""


class FakeAdmin:
    """Envoy's /logging semantics: a POST with name=level pairs changes them; every answer lists all."""

    def __init__(self, levels: dict[str, str]) -> None:
        self.levels = dict(levels)
        self.requests: list[tuple[str, str, str, str]] = []

    def proxy_request(self, namespace: str, pod: str, path: str, method: str = "GET") -> str:
        self.requests.append((namespace, pod, path, method))
        _, _, query = path.partition("?")
        for pair in filter(None, query.split("&")):
            name, _, level = pair.partition("=")
            self.levels[name] = level
        return "active loggers:\n" + "".join(f"  {n}: {lvl}\n" for n, lvl in sorted(self.levels.items()))


def test_parse_levels() -> None:
    assert parse_levels(LISTING) == {
        "admin": "info",
        "connection": "warning",
        "http": "info",
        "tls": "info",
        "upstream": "info",
    }
    assert parse_levels("error: unknown logger\n") == {}


@pytest.mark.parametrize(
    ("levels", "path"),
    [
        ({}, "/logging"),
        ({"tls": "debug", "connection": "debug"}, "/logging?connection=debug&tls=debug"),
    ],
)
def test_logging_path(levels: dict[str, str], path: str) -> None:
    assert logging_path(levels) == path


def test_raise_then_restore_puts_previous_levels_back() -> None:
    admin = FakeAdmin(parse_levels(LISTING))
    previous = raise_levels(admin, "ns", "p")  # type: ignore[arg-type]
    assert previous == {"connection": "warning", "tls": "info"}
    assert admin.levels["connection"] == admin.levels["tls"] == "debug"
    assert admin.requests[0] == ("ns", "p", "/logging", "POST")
    restore_levels(admin, "ns", "p", previous)  # type: ignore[arg-type]
    assert admin.levels == parse_levels(LISTING)


def test_loggers_the_proxy_lacks_are_not_sent() -> None:
    admin = FakeAdmin({"connection": "info"})
    assert raise_levels(admin, "ns", "p") == {"connection": "info"}  # type: ignore[arg-type]
    assert admin.requests[-1][2] == "/logging?connection=debug"
    assert "tls" not in admin.levels

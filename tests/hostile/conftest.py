"""Hostile-input suite: every test counts the inputs it tried; the session prints the total.

Hypothesis example counts stay modest (CI has two cores); the figure printed at the end is the
number of hostile inputs actually fed to meshtui, deterministic cases included.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.hostile.counter import TRIED

settings.register_profile(
    "hostile", max_examples=int(os.environ.get("MESHTUI_HOSTILE_EXAMPLES", "40")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items()))
        terminalreporter.write_line(f"hostile inputs tried: {sum(TRIED.values())} ({parts})")


settings.load_profile("hostile")

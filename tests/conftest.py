"""Suite-wide: the real upstream data in ../shared/fixtures is required, never silently skipped."""

from __future__ import annotations

import pytest

from tests.shared_fixtures import FIXTURES


def pytest_sessionstart(session: pytest.Session) -> None:
    if not FIXTURES.is_dir():
        pytest.exit(f"meshtui's tests need ../shared/fixtures beside the repository (looked in {FIXTURES})",
                    returncode=2)

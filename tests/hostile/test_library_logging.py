"""Nothing a library logs reaches the terminal, and the log file has no credential in it."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui import redact
from meshtui.liblog import LOG_NAME, route_library_logging
from tests.hostile.counter import PLANTED_TOKEN, count


@pytest.fixture
def routed(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.raiseExceptions)
    logging.captureWarnings(False)  # an earlier main() in this process may have captured them already
    route_library_logging(tmp_path / "state")
    yield tmp_path / "state" / LOG_NAME
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])
    logging.raiseExceptions = saved[2]
    logging.captureWarnings(False)


def test_library_errors_and_warnings_go_to_the_file_scrubbed(routed: Path, capfd: pytest.CaptureFixture) -> None:
    redact.remember(f"{PLANTED_TOKEN}-known")
    logging.getLogger("kubernetes.config").error("exec: process returned 1. token=%s", PLANTED_TOKEN)
    logging.getLogger("urllib3").warning("retrying with %s-known", PLANTED_TOKEN)
    logging.getLogger("odd").error("bad format %s %s", "only one")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"Unverified HTTPS request; Bearer {PLANTED_TOKEN}", stacklevel=1)
    count("library log records", 4)
    out, err = capfd.readouterr()
    assert out == err == ""
    text = routed.read_text()
    assert "exec: process returned 1" in text and "retrying with ***" in text and "Unverified" in text
    assert PLANTED_TOKEN not in text


def test_an_unusable_state_dir_drops_library_logs(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    root = logging.getLogger()
    saved = list(root.handlers), logging.raiseExceptions
    try:
        route_library_logging(blocker / "state")
        logging.getLogger("kubernetes").error("token: %s", PLANTED_TOKEN)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        logging.raiseExceptions = saved[1]
        logging.captureWarnings(False)
    assert capfd.readouterr() == ("", "")

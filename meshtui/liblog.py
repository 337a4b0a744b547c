"""Library logging never reaches the terminal: it goes, scrubbed, to meshtui.log in the state directory.

The kubernetes client logs exec-plugin failures with ``logging.error`` and urllib3 warns about
retries and unverified TLS; with no handler configured Python prints these on stderr, over the TUI,
possibly with a credential in them. The file is opened only when something is logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from meshtui.redact import ScrubbingFilter

LOG_NAME = "meshtui.log"


def route_library_logging(state_dir: Path) -> None:
    handler: logging.Handler
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.FileHandler(state_dir / LOG_NAME, encoding="utf-8", delay=True)
    except OSError:
        handler = logging.NullHandler()  # an unusable state directory is reported by the journal
    handler.addFilter(ScrubbingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)  # urllib3's InsecureRequestWarning and friends, too
    # A handler that fails (disk full, file removed) must not print its own traceback on stderr.
    logging.raiseExceptions = False

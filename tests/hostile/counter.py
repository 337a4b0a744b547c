"""The tally of hostile inputs fed to meshtui, printed at the end of the session (see conftest)."""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()
# Planted in every kubeconfig, plugin output and server body the suite builds; must never be printed.
PLANTED_TOKEN = "planted-secret-6f1c2a9e"


def count(kind: str, n: int = 1) -> None:
    """Record ``n`` hostile inputs of a kind fed to meshtui (once per example, not per assertion)."""
    TRIED[kind] += n

"""Suite-wide: the real upstream data in ../shared/fixtures is required, never silently skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend, start_demo
from tests.kube_cluster import Cluster
from tests.shared_fixtures import FIXTURES


def pytest_sessionstart(session: pytest.Session) -> None:
    if not FIXTURES.is_dir():
        pytest.exit(f"meshtui's tests need ../shared/fixtures beside the repository (looked in {FIXTURES})",
                    returncode=2)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """Clusters on their own API servers (see tests/kube_cluster.py), closed after the test."""
    made: list[Cluster] = []

    def make(objects: Iterable[dict[str, Any]] = (), **kw: Any) -> Cluster:
        made.append(Cluster(objects, tmp_path / f"cluster-{len(made)}", **kw))
        return made[-1]

    yield make
    for c in made:
        c.stop()


@pytest.fixture
def demo_backend() -> Iterator[Callable[..., DemoBackend]]:
    """Demo clusters on a ManualClock, stopped at the end of the test."""
    made: list[DemoBackend] = []

    def make(clock: ManualClock | None = None, *, seed: int = 7, **kw: Any) -> DemoBackend:
        backend = start_demo(seed, clock=clock or ManualClock(), **kw)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.discard()

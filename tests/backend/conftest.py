"""Backends for the contract tests: the demo cluster, KubeBackend over HTTP against the API server
seeded with the same demo objects, and (with MESHTUI_E2E_KUBECONFIG) a real cluster."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meshtui.backend.base import Backend
from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from meshtui.demo.clock import ManualClock
from meshtui.demo.mesh import demo_objects
from meshtui.demo.session import DemoBackend, start_demo
from tests.shared_fixtures import ISTIO_CRDS

SEED = 7
START = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
TOKEN = "meshtui-test-token-do-not-print"
E2E_KUBECONFIG = os.environ.get("MESHTUI_E2E_KUBECONFIG")

Denied = set[tuple[str, str]]
BackendFactory = Callable[..., Backend]


def seeded_emulator(istio: bool = True) -> Emulator:
    emu = Emulator(istio=istio, token=TOKEN, crds=ISTIO_CRDS)
    for obj in demo_objects(START, SEED):
        api_version = obj.get("apiVersion", "")
        # Without Istio neither its kinds nor the Gateway API (ambient's waypoints) are served.
        if istio or not (".istio.io/" in api_version or api_version.startswith("gateway.networking.k8s.io/")):
            emu.add(obj)
    return emu


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = seeded_emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def kubeconfig(emulator: Emulator, tmp_path: Path) -> str:
    path = tmp_path / "kubeconfig"
    emulator.kubeconfig(str(path), context="emulator")
    return str(path)


@pytest.fixture
def kube(kubeconfig: str) -> Iterator[KubeBackend]:
    backend = KubeBackend(kubeconfig=kubeconfig, request_timeout=5.0)
    yield backend
    backend.close()


def _demo_factory() -> Iterator[BackendFactory]:
    made: list[DemoBackend] = []

    def make(denied: Denied | None = None) -> Backend:
        backend = start_demo(SEED, clock=ManualClock(START))
        for verb, resource in denied or ():
            backend.cluster.server.deny(verb, resource)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def _kube_factory(tmp_path: Path) -> Iterator[BackendFactory]:
    emu = seeded_emulator()
    emu.start()
    path = tmp_path / "kubeconfig"
    emu.kubeconfig(str(path), context="emulator")
    made: list[KubeBackend] = []

    def make(denied: Denied | None = None) -> Backend:
        for verb, resource in denied or ():
            emu.deny(verb, resource)
        backend = KubeBackend(kubeconfig=str(path), request_timeout=5.0)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()
    emu.stop()


def _e2e_factory() -> Iterator[BackendFactory]:
    if not E2E_KUBECONFIG:
        pytest.skip("set MESHTUI_E2E_KUBECONFIG to run the contract against a real cluster")
    made: list[KubeBackend] = []

    def make(denied: Denied | None = None) -> Backend:
        if denied:
            pytest.skip("a real cluster's RBAC cannot be changed by the tests")
        backend = KubeBackend(kubeconfig=E2E_KUBECONFIG)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture(params=["demo", "kube"])
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendFactory]:
    """Backends seeded with the demo mesh: full contract, mutations included."""
    if request.param == "demo":
        yield from _demo_factory()
    else:
        yield from _kube_factory(tmp_path)


@pytest.fixture(params=["demo", "kube", pytest.param("e2e", marks=pytest.mark.e2e)])
def make_any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendFactory]:
    """Also a real cluster: read-only checks and server-side dry runs only."""
    if request.param == "demo":
        yield from _demo_factory()
    elif request.param == "kube":
        yield from _kube_factory(tmp_path)
    else:
        yield from _e2e_factory()

"""Every API request has a total deadline; nothing a slow server does holds meshtui longer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.backend.base import ConnectionFailed
from meshtui.backend.deadline import abort_all
from meshtui.backend.kube import KubeBackend
from tests.hostile.counter import PLANTED_TOKEN, count
from tests.hostile.slow_server import SlowServer, elapsed, http_response, kubeconfig

VERSION = http_response(b'{"gitVersion": "v1.30.0"}')


@pytest.fixture
def slow() -> Iterator[list[SlowServer]]:
    servers: list[SlowServer] = []
    yield servers
    for s in servers:
        s.close()


def _backend(tmp_path: Path, server: SlowServer, timeout: float = 1.0) -> KubeBackend:
    return KubeBackend(kubeconfig=str(kubeconfig(tmp_path / "kc", server.url)), request_timeout=timeout)


@pytest.mark.parametrize(
    "server_args",
    [
        {"response": VERSION, "delay": 0.1},                          # drips the headers
        {"response": VERSION, "delay": 0.5, "drip_from": len(VERSION) - 20},  # drips the body
        {"hang": True},                                               # never answers
    ],
    ids=["dripping headers", "dripping body", "hanging"],
)
def test_a_slow_server_is_cut_off_at_the_deadline(tmp_path: Path, slow: list[SlowServer], server_args) -> None:
    server = SlowServer(**server_args)
    slow.append(server)
    backend = _backend(tmp_path, server)
    count("slow servers")
    took, result = elapsed(backend.connect)
    backend.close()
    assert isinstance(result, ConnectionFailed), result
    assert took < 3.0, took  # deadline 1 s, not 10 s of bytes or a read timeout per byte
    assert "did not answer" in str(result) or "timed out" in str(result)
    assert PLANTED_TOKEN not in str(result)


def test_abort_all_ends_a_request_in_flight_at_once(tmp_path: Path, slow: list[SlowServer]) -> None:
    server = SlowServer(hang=True)
    slow.append(server)
    backend = _backend(tmp_path, server, timeout=30.0)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(elapsed(backend.connect)), daemon=True)
    thread.start()
    time.sleep(0.5)
    abort_all()
    thread.join(2.0)
    count("slow servers")
    assert not thread.is_alive()
    took, result = outcome[0]  # type: ignore[misc]
    assert isinstance(result, ConnectionFailed) and "stopped" in str(result) and took < 2.0

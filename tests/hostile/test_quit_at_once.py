"""`q` and ctrl+c end the app at once while it is connecting to a server that never answers or
waiting on a credential plugin that never returns; no thread or process is left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from meshtui.backend.kube import KubeBackend
from meshtui.config import Settings
from meshtui.factory import build_app
from tests.hostile.counter import count
from tests.hostile.slow_server import SlowServer, kubeconfig
from tests.hostile.test_plugins_and_secrets import plugin


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def _quit_while_connecting(backend: KubeBackend, key: str) -> float:
    """Seconds from the key to the app gone and its sync worker's thread returned."""
    app = build_app(Settings(), backend=backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        assert app.connection_state == "connecting"
        (sync,) = [w for w in app.workers if w.group == "sync"]
        started = time.monotonic()
        await pilot.press(key)
        while app.is_running and time.monotonic() - started < 5:
            await pilot.pause(0.05)
    while not sync.is_finished and time.monotonic() - started < 5:
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_while_the_server_never_answers(tmp_path: Path, key: str) -> None:
    server = SlowServer(hang=True)
    backend = KubeBackend(kubeconfig=str(kubeconfig(tmp_path / "kc", server.url)), request_timeout=60)
    count("quit while hanging")
    try:
        took = await _quit_while_connecting(backend, key)
    finally:
        server.close()
    assert took < 2.0, took


async def test_quit_while_a_credential_plugin_waits(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    user = plugin(tmp_path, f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)")
    backend = KubeBackend(kubeconfig=str(kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", user)))
    count("quit while hanging")
    took = await _quit_while_connecting(backend, "q")
    assert took < 2.0, took
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)

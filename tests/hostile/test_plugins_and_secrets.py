"""Exec credential plugins that hang, fail or lie, and servers that echo credentials back: one line
each, no process left behind, and the planted token never in a message."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from meshtui.backend import kube_config, kube_plugin
from meshtui.backend.base import BackendError
from meshtui.backend.kube import KubeBackend
from tests.hostile.counter import PLANTED_TOKEN, count
from tests.hostile.slow_server import SlowServer, elapsed, http_response, kubeconfig

CREDENTIAL = ('{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
              f'"status": {{"token": "{PLANTED_TOKEN}-from-plugin"}}}}')


def plugin(tmp_path: Path, body: str) -> dict:
    script = tmp_path / "plugin"
    script.write_text(f"#!{sys.executable}\nimport os, sys, time\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
                     "env": [{"name": "SECRET_KEY", "value": f"{PLANTED_TOKEN}-env"}]}}


PLUGINS = {
    "hangs": ("time.sleep(60)", "did not finish within 0.5s"),
    "fails": ("print('error: key', os.environ['SECRET_KEY'], 'expired\\nsee docs', file=sys.stderr); sys.exit(3)",
              "exited with status 3: error: key *** expired"),
    "prints garbage": ("print('\\x1b[2J not json')", "printed something that is not an ExecCredential"),
    "wrong version": ("print('{\"apiVersion\": \"v0\", \"kind\": \"ExecCredential\", \"status\": {}}')",
                      "answered apiVersion 'v0'"),
    "reads stdin": ("sys.stdin.read(); sys.exit(4)", "exited with status 4"),
}


@pytest.mark.parametrize(("body", "message"), PLUGINS.values(), ids=PLUGINS.keys())
def test_plugin_failures_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str,
                                      message: str) -> None:
    monkeypatch.setattr(kube_plugin, "EXEC_PLUGIN_TIMEOUT", 0.5)
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", plugin(tmp_path, body))
    count("exec plugins")
    took, result = elapsed(kube_config.load, str(path))
    assert isinstance(result, BackendError), result
    text = str(result)
    assert message in text and "\n" not in text and PLANTED_TOKEN not in text, text
    assert took < 5


def test_quitting_kills_a_plugin_that_waits(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1",
                      plugin(tmp_path, f"import os; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
                                       "time.sleep(60)"))
    import threading

    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(elapsed(kube_config.load, str(path))), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    kube_plugin.stop_all()
    thread.join(3)
    count("exec plugins")
    assert not thread.is_alive()
    took, result = outcome[0]  # type: ignore[misc]
    assert isinstance(result, BackendError) and "was stopped" in str(result) and took < 3
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


ECHOES = {
    "status message": b'{"kind": "Status", "message": "bad request from %s"}',
    "plain text": b"invalid bearer token %s (echoed)",
    "json body": b'{"spec": {"token": "%s"}, "message": 5}',
}


@pytest.mark.parametrize("body", ECHOES.values(), ids=ECHOES.keys())
@pytest.mark.parametrize("auth", ["kubeconfig token", "plugin token", "basic auth"])
def test_a_server_echoing_credentials_never_gets_them_printed(tmp_path: Path, body: bytes, auth: str) -> None:
    secret = {"kubeconfig token": PLANTED_TOKEN, "plugin token": f"{PLANTED_TOKEN}-from-plugin",
              "basic auth": f"{PLANTED_TOKEN}-password"}[auth]
    server = SlowServer(http_response(body.replace(b"%s", secret.encode()), "400 Bad Request"), delay=0)
    user = {"kubeconfig token": {"token": secret}, "plugin token": plugin(tmp_path, f"print({CREDENTIAL!r})"),
            "basic auth": {"username": "admin", "password": secret}}[auth]
    backend = KubeBackend(kubeconfig=str(kubeconfig(tmp_path / "kc", server.url, user)), request_timeout=2)
    count("echoed credentials")
    try:
        _, result = elapsed(backend.connect)
    finally:
        backend.close()
        server.close()
    assert isinstance(result, BackendError), result
    assert secret not in str(result) and PLANTED_TOKEN not in str(result), str(result)

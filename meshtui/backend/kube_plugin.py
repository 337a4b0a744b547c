"""Exec credential plugins (aws eks get-token, gke-gcloud-auth-plugin, kubelogin...) run with a
timeout, without the terminal, and ended when the user quits.

The official client runs the plugin with no timeout, hands it the terminal's stdin and stderr when
stdout is a tty (under the TUI it would read our keys and print over the screen), and only logs
its failure. :class:`BoundedExecProvider` replaces the client's ExecProvider (the client looks the
name up at call time and offers no other hook); its failure is kept for the one-line message.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from typing import Any

from kubernetes.config import kube_config as client_kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.exec_provider import ExecProvider

from meshtui import redact

EXEC_PLUGIN_TIMEOUT = 30.0
_running: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
_local = threading.local()


def last_failure() -> str:
    """Why the last plugin run in this thread failed ("" if it did not)."""
    return getattr(_local, "failure", "")


def stop_all() -> None:
    """Kill every plugin still running (the user quits): no process is left behind."""
    with _lock:
        running = list(_running)
    for proc in running:
        _kill(proc)


def _kill(proc: subprocess.Popen[str]) -> None:
    # The plugin runs in its own session: its children (a browser login helper...) go with it.
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


class BoundedExecProvider(ExecProvider):
    def run(self, previous_response: Any = None) -> dict[str, Any]:
        _local.failure = ""
        try:
            return self._run()
        except ConfigException as exc:
            _local.failure = redact.scrub(str(exc))
            raise

    def _run(self) -> dict[str, Any]:
        name = os.path.basename(str(self.args[0]))
        spec: dict[str, Any] = {"interactive": False}
        if self.cluster:
            spec["cluster"] = self.cluster.value
        env = {**self.env, "KUBERNETES_EXEC_INFO": json.dumps(
            {"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})}
        try:
            proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self.cwd, env=env, text=True,
                                    errors="replace", start_new_session=True)
        except OSError as exc:
            raise ConfigException(f"exec plugin {name} cannot be started: {exc.strerror}") from None
        with _lock:
            _running.add(proc)
        try:
            out, err = proc.communicate(timeout=EXEC_PLUGIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            raise ConfigException(f"exec plugin {name} did not finish within {EXEC_PLUGIN_TIMEOUT:g}s") from None
        finally:
            with _lock:
                _running.discard(proc)
        if proc.returncode < 0:
            raise ConfigException(f"exec plugin {name} was stopped")
        if proc.returncode != 0:
            detail = next((line.strip() for line in err.splitlines() if line.strip()), "")
            raise ConfigException(f"exec plugin {name} exited with status {proc.returncode}"
                                  + (f": {detail}" if detail else ""))
        return self._status(name, out)

    def _status(self, name: str, out: str) -> dict[str, Any]:
        try:
            data = json.loads(out)
        except (ValueError, RecursionError):
            raise ConfigException(f"exec plugin {name} printed something that is not an ExecCredential") from None
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, dict):
            raise ConfigException(f"exec plugin {name} printed an ExecCredential without status")
        redact.remember(status.get("token"), status.get("clientKeyData"))
        if data.get("apiVersion") != self.api_version:
            raise ConfigException(f"exec plugin {name} answered apiVersion {str(data.get('apiVersion'))[:60]!r}, "
                                  f"not {self.api_version}")
        return status


def install() -> None:
    # kube_config imports ExecProvider without re-exporting it (its py.typed hides the name); the loader
    # looks the name up in that module at call time, which is what this replaces.
    client_kube_config.ExecProvider = BoundedExecProvider  # type: ignore[attr-defined]

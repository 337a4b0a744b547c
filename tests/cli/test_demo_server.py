"""`meshtui demo-server`: the demo cluster for kubectl-style clients, stopped by a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from meshtui.backend.kube import KubeBackend


def test_serves_the_demo_to_a_kubeconfig_and_stops_on_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "meshtui", "demo-server", "--write-kubeconfig", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("demo cluster at http://127.0.0.1:") and str(kubeconfig) in first
        backend = KubeBackend(kubeconfig=str(kubeconfig))
        info = backend.connect()
        snapshot = backend.snapshot()
        backend.close()
        assert info.context == "demo" and ("", "kubestock-staging") in snapshot.namespaces
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and err == ""


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "meshtui", "demo-server", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"meshtui: cannot listen on 127.0.0.1:{port}:") and done.stderr.count("\n") == 1

"""Messages that say what is really wrong: special files are inputs, an empty path is an error,
a kubeconfig's YAML error has its file and line, plain HTTP on an https:// address says so."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from meshtui.backend import kube_config
from meshtui.backend.base import BackendError
from meshtui.backend.kube import KubeBackend
from meshtui.manifests import ManifestError, load_paths
from tests.hostile.counter import count
from tests.hostile.slow_server import SlowServer, http_response, kubeconfig

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n"


def test_a_fifo_is_an_input(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(NAMESPACE,), daemon=True)
    writer.start()
    count("special inputs")
    assert list(load_paths([str(fifo)]).namespaces) == [("", "piped")]
    writer.join(2)


def test_process_substitution_and_dev_stdin_are_inputs(tmp_path: Path) -> None:
    # <(cmd) and /dev/stdin are /dev/fd/N paths: character devices or pipes, not regular files.
    script = "from meshtui.manifests import load_paths; import sys; print(list(load_paths(sys.argv[1:]).namespaces))"
    for path in ("/dev/stdin", "/dev/fd/0"):
        out = subprocess.run([sys.executable, "-c", script, path], input=NAMESPACE, capture_output=True, text=True,
                             check=True, cwd=Path(__file__).resolve().parents[2])
        count("special inputs")
        assert out.stdout.strip() == "[('', 'piped')]", out.stderr


def test_empty_and_broken_paths_are_errors(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    count("special inputs", 2)
    with pytest.raises(ManifestError, match="empty path"):
        load_paths([""], stdin=io.StringIO(""))
    with pytest.raises(ManifestError, match="broken symbolic link"):
        load_paths([str(tmp_path / "link")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nclusters: [\n", r"kubeconfig .*/kc:[23]: invalid YAML"),
        ("apiVersion: v1\nkind: Config\nusers:\n  - name: a\n    user: {token: x: y}\n", r"kubeconfig .*/kc:5:"),
        ("- a\n- b\n", r"kubeconfig .*/kc: not a kubeconfig \(a list, not a map\)"),
        ("contexts: 3\ncurrent-context: x\n", r"."),
    ],
    ids=["unclosed", "mapping in a flow", "a list", "contexts not a list"],
)
def test_a_broken_kubeconfig_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kc"
    path.write_text(text)
    count("kubeconfigs")
    with pytest.raises(BackendError, match=message) as info:
        kube_config.load(str(path))
    assert "\n" not in str(info.value)


def test_plain_http_where_https_was_expected(tmp_path: Path) -> None:
    server = SlowServer(http_response(b"{}", "400 Bad Request"), delay=0)
    backend = KubeBackend(kubeconfig=str(kubeconfig(tmp_path / "kc", f"https://127.0.0.1:{server.port}")),
                          request_timeout=3)
    count("plain HTTP servers")
    try:
        with pytest.raises(BackendError, match="answered in plain HTTP, not HTTPS"):
            backend.connect()
    finally:
        backend.close()
        server.close()


def test_logs_with_an_empty_path_is_an_error() -> None:
    from meshtui.__main__ import build_parser
    from meshtui.cli import logs

    err = io.StringIO()
    count("special inputs")
    assert logs.run(build_parser().parse_args(["logs", ""]), app_factory=None, stderr=err) == 2  # type: ignore[arg-type]
    assert err.getvalue() == "meshtui logs: FILE is an empty path; give a file, or - for standard input\n"

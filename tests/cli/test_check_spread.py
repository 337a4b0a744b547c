"""`meshtui check -f` on many files reads them on every core (meshtui.forking.map_shares): the
report, the skipped objects and the first error are those one process finds, and a worker's
failure or a ctrl+c ends in one line, not a traceback or a process left behind.

Forking runs go through a fresh interpreter: a pytest process has threads, and forking one
can copy a lock another thread holds (forking.cores() says 1 there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Three shares whatever the machine and however small the input; stderr says how many forked.
RUN = """
import os, sys
from meshtui import forking, manifests
manifests.SPREAD_BYTES = 0
forking.cores = lambda: CORES
fork = forking.fork
forking.fork = lambda *args: (sys.stderr.write("forked\\n"), fork(*args))[1]
PARENT = os.getpid()
sys.exit(__import__("meshtui.__main__").__main__.main(sys.argv[1:]))
"""


def check(directory: Path, *, cores: int = 3, patch: str = "", **popen: object) -> subprocess.Popen[bytes]:
    script = RUN.replace("CORES", str(cores)).replace("PARENT = os.getpid()\n", f"PARENT = os.getpid()\n{patch}")
    return subprocess.Popen([sys.executable, "-c", script, "check", "-f", str(directory), "-o", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload]


def deployment(name: str, namespace: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: main, image: example/{name}:1, ports: [{{containerPort: 8080}}]}}]}}
"""


def strict(name: str, namespace: str) -> str:
    return f"""\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{selector: {{matchLabels: {{app: {name}}}}}, mtls: {{mode: STRICT}}}}
"""


def write_files(root: Path, texts: list[str]) -> list[Path]:
    paths = []
    for index, text in enumerate(texts):
        paths.append(root / f"m-{index:02d}.yaml")
        paths[-1].write_text(text)
    return paths


def test_the_report_is_the_one_a_single_process_writes(tmp_path: Path) -> None:
    # The namespace that turns injection on comes last: the workloads read before it, in the
    # parent's share, must still be predicted with a sidecar. A malformed object sits in between.
    files = [deployment(f"app-{i}", "shop") + "---\n" + strict(f"app-{i}", "shop") for i in range(6)]
    files.insert(3, "apiVersion: v1\nkind: Service\nmetadata: {name: broken, namespace: shop}\nspec: {ports: 7}\n")
    files.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled}}\n")
    write_files(tmp_path, files)
    one = check(tmp_path, cores=1)
    spread = check(tmp_path)
    one_out, one_err = one.communicate(timeout=60)
    out, err = spread.communicate(timeout=60)
    assert err == b"forked\n" * 2 + one_err and out == one_out and spread.returncode == one.returncode == 2
    assert b"skipped" in err and b"m-03.yaml: document 1" in err
    assert b'"sidecar": true' in out and b'"sidecar": false' not in out


@pytest.mark.parametrize(("broken", "named"), [((1, 4), 1), ((3, 5), 3), ((5,), 5)])
def test_the_first_error_in_file_order_is_reported(tmp_path: Path, broken: tuple[int, ...], named: int) -> None:
    texts = [strict(f"p-{i}", "shop") for i in range(6)]  # shares: files 0-1 here, 2-3 and 4-5 in workers
    for index in broken:
        texts[index] = texts[index].replace("spec: {", "spec: [{")  # an unclosed bracket
    paths = write_files(tmp_path, texts)
    child = check(tmp_path)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 2 and out == b""
    lines = err.decode().splitlines()
    assert lines[:2] == ["forked", "forked"] and len(lines) == 3
    assert lines[2].startswith(f"meshtui check: {paths[named]}:5:1: ")


@pytest.mark.parametrize(("failure", "message"), [
    # An exception that cannot travel back pickled: its words do.
    ("class Odd(Exception):\n    def __init__(self):\n        super().__init__('odd failure')\n"
     "        self.hook = lambda: None\ndef fail(raw):\n    raise Odd()\n", "odd failure"),
    ("def fail(raw):\n    os._exit(3)\n", "a worker ended without its result"),
])
def test_a_failing_worker_is_one_line_and_exit_2(tmp_path: Path, failure: str, message: str) -> None:
    write_files(tmp_path, [strict(f"p-{i}", "shop") for i in range(6)])
    patch = (f"{failure}from meshtui.model import convert\nfrom_k8s = convert.from_k8s\n"
             "convert.from_k8s = lambda raw: from_k8s(raw) if os.getpid() == PARENT else fail(raw)\n")
    child = check(tmp_path, patch=patch)
    out, err = child.communicate(timeout=60)
    assert (child.returncode, out, err) == (2, b"", f"forked\nforked\nmeshtui check: {message}\n".encode())


def test_ctrl_c_ends_the_workers_without_a_traceback(tmp_path: Path) -> None:
    write_files(tmp_path, [strict(f"p-{i}", "shop") for i in range(6)])
    patch = ("import time\nfrom meshtui.model import convert\nfrom_k8s = convert.from_k8s\n"
             "convert.from_k8s = lambda raw: from_k8s(raw) if os.getpid() == PARENT else time.sleep(600)\n")
    child = check(tmp_path, patch=patch, start_new_session=True)
    assert child.stderr is not None
    assert child.stderr.readline() + child.stderr.readline() == b"forked\nforked\n"
    time.sleep(0.5)  # the parent is done with its share and waits for the workers'
    os.killpg(child.pid, signal.SIGINT)  # the terminal sends it to the whole foreground group
    out, err = child.communicate(timeout=30)
    assert (child.returncode, out, err) == (130, b"", b"meshtui: interrupted\n")
    with pytest.raises(ProcessLookupError):  # no worker left behind in the session
        os.killpg(child.pid, 0)

"""`meshtui check -f` input: 10,000 small documents (Deployments, their Services and
PeerAuthentications) in 1,000 files, loaded into a snapshot with libyaml's C loader (meshtui.yamlfile,
limits checked first): in one process, on every core (as `check -f` does), and for comparison with the
pure-Python loader; then the whole `meshtui check -f DIR` in a child process.

Run:  python tests/bench/bench_manifests.py   (target: under 1.5 s with the C loader)
One process is timed in CPU seconds (on the shared machine wall time mostly measures the
neighbours); every core and the command in wall seconds, with the load average.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui import forking, manifests, yamlfile

FILES = 1000
PER_FILE = 10
RUNS = 3


def document(i: int) -> str:
    ns = f"team-{i // 3 % 50:02d}"  # a Deployment, its Service and its policy share a namespace
    kind = i % 3
    if kind == 0:
        return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
  labels: {{app: app-{i}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}, version: v1}}
    spec:
      containers:
      - name: app
        image: example/app:1.{i % 9}
        ports:
        - containerPort: 8080
          name: http
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
"""
    if kind == 1:
        return f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i - 1}
  namespace: {ns}
spec:
  selector: {{app: app-{i - 1}}}
  ports:
  - port: 80
    targetPort: http
    name: http
"""
    return f"""apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: app-{i - 2}
  namespace: {ns}
spec:
  selector:
    matchLabels: {{app: app-{i - 2}}}
  mtls: {{mode: STRICT}}
  portLevelMtls:
    8080: {{mode: PERMISSIVE}}
"""


def timed_load(root: str, workers: int = 1) -> float:
    """CPU seconds in one process; wall seconds with workers."""
    clock = time.process_time if workers == 1 else time.perf_counter
    started = clock()
    snapshot = manifests.load_paths([root], None, workers=workers)
    elapsed = clock() - started
    assert len(snapshot.peer_authentications) == FILES * PER_FILE // 3, len(snapshot.peer_authentications)
    return elapsed


def timed_check(root: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "meshtui", "check", "-f", root, "--fail-on", "never"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def figures(label: str, runs: list[float], unit: str) -> None:
    print(f"  {label:34}: {min(runs):.2f}-{max(runs):.2f} {unit} (median {statistics.median(runs):.2f})")


def main() -> None:
    cores = forking.cores()
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(FILES):
            docs = [document(f * PER_FILE + d) for d in range(PER_FILE)]
            (Path(tmp) / f"m-{f:04d}.yaml").write_text("---\n".join(docs))
        one = [timed_load(tmp) for _ in range(RUNS)]
        spread = [timed_load(tmp, cores) for _ in range(RUNS)]
        command = [timed_check(tmp) for _ in range(RUNS)]
        chosen = yamlfile.Loader
        yamlfile.Loader = yaml.SafeLoader
        try:
            slow = [timed_load(tmp)]
        finally:
            yamlfile.Loader = chosen
    n = FILES * PER_FILE
    print(f"{n:,} documents in {FILES:,} files → snapshot, {RUNS} runs, load average {os.getloadavg()[0]:.2f}")
    figures(f"{chosen.__name__}, one process", one, "s CPU")
    figures(f"{chosen.__name__}, {cores} processes", spread, "s wall")
    figures("meshtui check -f DIR (the command)", command, "s wall")
    figures("SafeLoader, one process", slow, "s CPU")


if __name__ == "__main__":
    main()

"""`meshtui check -f` input: 10,000 small documents (Deployments, Services, PeerAuthentications) in
1,000 files, loaded into a snapshot with libyaml's C loader (meshtui.yamlfile, limits checked first) and,
for comparison, the pure-Python one.

Run:  python tests/bench/bench_manifests.py   (target: under 1.5 s with the C loader)
Figures are CPU seconds of this process: wall time on the shared machine mostly measures the neighbours.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from meshtui import manifests, yamlfile

FILES = 1000
PER_FILE = 10
RUNS = 2


def document(i: int) -> str:
    ns = f"team-{i % 50:02d}"
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


def timed_load(root: str) -> float:
    started = time.process_time()
    snapshot = manifests.load_paths([root], None)
    elapsed = time.process_time() - started
    assert len(snapshot.peer_authentications) == FILES * PER_FILE // 3, len(snapshot.peer_authentications)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(FILES):
            docs = [document(f * PER_FILE + d) for d in range(PER_FILE)]
            (Path(tmp) / f"m-{f:04d}.yaml").write_text("---\n".join(docs))
        fast = [timed_load(tmp) for _ in range(RUNS)]
        chosen = yamlfile.Loader
        yamlfile.Loader = yaml.SafeLoader
        try:
            slow = [timed_load(tmp) for _ in range(RUNS)]
        finally:
            yamlfile.Loader = chosen
    n = FILES * PER_FILE
    print(f"{n:,} documents in {FILES:,} files → snapshot, {RUNS} runs")
    print(f"  {chosen.__name__:12}: {min(fast):.2f}-{max(fast):.2f} s (median {statistics.median(fast):.2f})")
    print(f"  SafeLoader  : {min(slow):.2f}-{max(slow):.2f} s (median {statistics.median(slow):.2f})")


if __name__ == "__main__":
    main()

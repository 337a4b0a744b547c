"""`meshtui demo-server`: the demo cluster on a loopback port, for kubectl and scripts to look at."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("demo-server", help="run the demo cluster's API server and print a kubeconfig",
                            description="Run the simulated mesh's Kubernetes API server on 127.0.0.1 until "
                                        "interrupted, and write a kubeconfig for it (kubectl --kubeconfig ...).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--write-kubeconfig", metavar="PATH", help="where to write the kubeconfig "
                        "(default: a new temporary directory)")


def run(args: argparse.Namespace, seed: int) -> int:
    from meshtui.demo.cluster import DemoCluster

    if not 0 <= args.port <= 65535:
        sys.stderr.write(f"meshtui: --port {args.port} is not a port number\n")
        return 2
    cluster = DemoCluster(seed)
    try:
        url = cluster.start(args.port)
    except OSError as exc:
        sys.stderr.write(f"meshtui: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}\n")
        return 2
    path = Path(args.write_kubeconfig) if args.write_kubeconfig else \
        Path(tempfile.mkdtemp(prefix="meshtui-demo-server-")) / "kubeconfig"
    try:
        cluster.kubeconfig(path)
    except OSError as exc:
        cluster.stop()
        sys.stderr.write(f"meshtui: cannot write the kubeconfig to {path}: {exc.strerror or exc}\n")
        return 2
    print(f"demo cluster at {url} (context demo); kubeconfig: {path}", flush=True)
    print(f"  kubectl --kubeconfig {path} get pods -A", flush=True)
    print("  Ctrl+C stops it.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0

"""``meshtui tls``: what the sidecars really do — plaintext callers, certificates, config sync.

Exit codes: 0 nothing at or above ``--fail-on``, 1 a verdict at or above it, 2 unusable input
(bad flags, no cluster, unknown pod or workload). The JSON/YAML shape is documented in docs/tls.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from typing import Any, Callable, Protocol, TextIO

import yaml

from meshtui.backend.base import BackendError, Forbidden
from meshtui.bulk_gc import kept_to_the_end
from meshtui.cli.options import add_cluster_options
from meshtui.model.snapshot import Snapshot
from meshtui.text import safe_line as printable
from meshtui.tls.check import DEFAULT_WINDOW_S, Progress, Scope, TlsSource, run_check
from meshtui.tls.report import VERDICTS, TlsReport, to_data
from meshtui.tls.summary import cert_cell, clients_cell, sync_cell

OUTPUTS = ("table", "json", "yaml")
FAIL_ON = (*(v.lower().replace(" ", "-") for v in VERDICTS), "never")
DEFAULT_FAIL_ON = "rejecting"
MAX_WINDOW_S = 600.0
EXIT_INTERRUPTED = 130
WORKLOAD_PREFIXES = {"deploy": "Deployment", "deployment": "Deployment", "sts": "StatefulSet",
                     "statefulset": "StatefulSet", "ds": "DaemonSet", "daemonset": "DaemonSet"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")


class UsageError(Exception):
    pass


class CheckBackend(TlsSource, Protocol):
    def connect(self) -> Any: ...

    def snapshot(self) -> Snapshot: ...


def window_seconds(text: str) -> float:
    m = _DURATION.match(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"invalid window {text!r}: use e.g. 10s, 500ms or 1m")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[m.group(2)]
    if not 0 < value <= MAX_WINDOW_S:
        raise argparse.ArgumentTypeError(f"window {text!r} must be more than 0 and at most 10m")
    return value


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "tls",
        help="check what the sidecars really do: plaintext callers, certificates, config sync",
        description="Read every sidecar in scope twice, a window apart (metrics, access log, /certs) and "
        "istiod's syncz, and give a verdict per workload port: OK, PLAINTEXT, SAFE, REJECTING, NO TRAFFIC, "
        "NO DATA or MISMATCH. Reads only.",
    )
    add_cluster_options(p, sub_command=True)
    p.add_argument("target", nargs="?", metavar="POD|deploy/NAME",
                   help="one pod, or a workload (deploy/, sts/, ds/); needs -n (default: namespace 'default')")
    p.add_argument("--window", type=window_seconds, default=DEFAULT_WINDOW_S, metavar="DURATION",
                   help="time between the two samples, e.g. 10s, 500ms, 1m (default: 10s)")
    p.add_argument("-o", "--output", choices=OUTPUTS, default="table", help="output format")
    p.add_argument("--fail-on", choices=FAIL_ON, default=DEFAULT_FAIL_ON,
                   help=f"exit 1 when a verdict at or above this one exists (default: {DEFAULT_FAIL_ON})")


def scope_from_args(args: argparse.Namespace, snapshot: Snapshot) -> Scope:
    namespace = getattr(args, "namespace", None)
    target = args.target
    if not target:
        return Scope("namespace", namespace) if namespace and not getattr(args, "all_namespaces", None) \
            else Scope("mesh")
    if getattr(args, "all_namespaces", None):
        raise UsageError(f"{target}: a pod or workload needs -n NAMESPACE, not -A")
    namespace = namespace or "default"
    prefix, slash, name = target.partition("/")
    if slash:
        kind = WORKLOAD_PREFIXES.get(prefix.lower())
        if kind is None:
            raise UsageError(f"unknown kind {prefix!r} in {target!r}: use deploy/, sts/ or ds/")
        if (namespace, f"{kind}/{name}") not in snapshot.workloads:
            raise UsageError(f"{kind} {namespace}/{name} not found")
        return Scope("workload", namespace, name)
    if (namespace, target) not in snapshot.pods:
        raise UsageError(f"pod {namespace}/{target} not found")
    return Scope("pod", namespace, target)


def _connect(args: argparse.Namespace,
             backend_factory: Callable[[argparse.Namespace], CheckBackend]) -> tuple[CheckBackend, Snapshot]:
    """Callers are named from every pod's address, so read the whole cluster when RBAC allows it;
    -n then only narrows what is checked."""
    if getattr(args, "namespace", None):
        wide = argparse.Namespace(**{**vars(args), "namespace": None, "all_namespaces": True})
        try:
            backend = backend_factory(wide)
            backend.connect()
            return backend, _snapshot(backend)
        except Forbidden:
            pass
    backend = backend_factory(args)
    backend.connect()
    return backend, _snapshot(backend)


def _snapshot(backend: CheckBackend) -> Snapshot:
    with kept_to_the_end():  # the snapshot lives as long as this command (meshtui/bulk_gc.py)
        return backend.snapshot()


def run(args: argparse.Namespace, *, backend_factory: Callable[[argparse.Namespace], CheckBackend],
        stdout: TextIO | None = None, stderr: TextIO | None = None,
        cancel: threading.Event | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        backend, snapshot = _connect(args, backend_factory)
        scope = scope_from_args(args, snapshot)
    except (BackendError, UsageError) as exc:
        print(f"meshtui tls: {exc}", file=err)
        return 2

    def progress(p: Progress) -> None:
        if err.isatty():
            err.write(f"\r{scope.describe()}: {p.done}/{p.total} pods, {p.phase}…\x1b[K")
            err.flush()

    stop = cancel or threading.Event()
    reports: list[TlsReport] = []
    failures: list[Exception] = []

    finished = threading.Event()

    def check() -> None:
        try:
            reports.append(run_check(backend, snapshot, scope, window_s=args.window, progress=progress,
                                     cancel=stop))
        except Exception as exc:  # a bug must end in one line, not a thread's traceback
            failures.append(exc)
        finally:
            finished.set()

    threading.Thread(target=check, name="tls-check", daemon=True).start()
    interrupted = False
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        # Ctrl-C stops the check; what was read so far is still printed.
        interrupted = True
        stop.set()
        finished.wait()
    if failures or not reports:
        print(f"meshtui tls: the check failed: {failures[0] if failures else 'no result'}", file=err)
        return 2
    report = reports[0]
    if err.isatty():
        err.write("\r\x1b[K")
    data = to_data(report)
    if args.output == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    elif args.output == "yaml":
        out.write(yaml.safe_dump(data, sort_keys=False))
    else:
        out.write(render_table(report, scope))
    return EXIT_INTERRUPTED if interrupted else exit_code(report, args.fail_on)


def exit_code(report: TlsReport, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = FAIL_ON.index(fail_on)
    verdicts = [p.verdict for w in report.workloads for p in w.ports]
    return 1 if any(VERDICTS.index(v) >= threshold for v in verdicts) else 0


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_table(report: TlsReport, scope: Scope) -> str:
    lines = [f"TLS check of {scope.describe()}: metrics sampled {report.window_s:g}s apart, access log of that "
             f"window, /certs, istiod syncz"]
    rows = [["NAMESPACE", "WORKLOAD", "PORT", "MODE", "VERDICT", "CLIENTS", "CERT", "SYNC"]]
    for w in report.workloads:
        for p in w.ports:
            rows.append([w.namespace, w.workload, str(p.port or "?"), p.mode, p.verdict, clients_cell(p),
                         cert_cell(w), sync_cell(w)])
    lines += _columns(rows) if len(rows) > 1 else ["No pods in scope."]
    notes = [(w, p) for w in report.workloads for p in w.ports if p.verdict not in ("OK", "NO TRAFFIC")]
    if notes:
        lines.append("")
    for w, p in notes:
        lines.append(f"{p.verdict:<10} {w.namespace}/{w.workload}:{p.port or '?'}  {p.why}")
        if p.fix:
            lines.append(f"{'':<10} fix: {p.fix}")
    if report.errors:
        lines += ["", "Could not read:"] + [f"  {e.pod}: {e.message}" for e in report.errors]
    if report.cancelled:
        lines.append(f"Cancelled: {report.pods_done}/{report.pods_total} pods checked.")
    # Workload names and callers come from pods' labels and logs: nothing in them may drive the terminal.
    return "\n".join(printable(line) for line in lines) + "\n"

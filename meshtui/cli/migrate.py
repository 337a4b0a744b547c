"""``meshtui migrate``: the PERMISSIVE → STRICT migration without the TUI.

``--plan`` prints the preflight findings, the plaintext callers seen in one window (the TLS check's
evidence; pods whose metrics could not be read are listed as unknown) and the ordered steps,
changing nothing; ``--export DIR`` writes the steps as numbered PeerAuthentication
manifests. Exit codes: 0 ready, 1 blockers remain or callers unknown, 2 unusable input. JSON: docs/migrate.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TextIO

import yaml

from meshtui.backend.base import Backend, BackendError
from meshtui.bulk_gc import kept_to_the_end
from meshtui.change.plan import PlanError
from meshtui.cli.options import add_cluster_options
from meshtui.migrate import export
from meshtui.migrate.observe import Observation, observe
from meshtui.migrate.preflight import preflight
from meshtui.migrate.report import render_table, to_data
from meshtui.migrate.scope import PortException, Scope

OUTPUTS = ("table", "json", "yaml")
DEFAULT_WINDOW = 10.0
_EXCEPTION = re.compile(r"^([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*):(\d{1,5})$")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "migrate",
        help="plan (or export) the PERMISSIVE → STRICT migration of namespaces or the mesh",
        description="Preflight findings, observed plaintext callers and the ordered steps to take the "
        "namespaces (or the mesh) to STRICT mTLS. Nothing is changed; the app's wizard (M) applies them.",
    )
    add_cluster_options(p, sub_command=True, scope=False)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("-n", "--namespace", action="append", dest="migrate_namespaces", metavar="NS",
                        help="a namespace to migrate; repeatable")
    target.add_argument("--mesh", action="store_true", help="migrate the whole mesh (root namespace last)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", action="store_true", help="print findings and steps; change nothing")
    what.add_argument("--export", metavar="DIR", help="write the steps as numbered manifests into DIR")
    p.add_argument("-o", "--output", choices=OUTPUTS, default="table", help="output format of --plan")
    p.add_argument("--window", type=float, default=DEFAULT_WINDOW, metavar="SECONDS",
                   help=f"observe plaintext callers over this window (default {DEFAULT_WINDOW:g}; 0: skip)")
    p.add_argument("--exception", action="append", default=[], metavar="NS/WORKLOAD:PORT",
                   help="accept a port-level PERMISSIVE exception for that container port; repeatable")
    p.add_argument("--root-namespace", help="Istio root namespace (default: istio-system)")


def parse_exception(text: str) -> PortException:
    m = _EXCEPTION.match(text.strip())
    if m is None or not 0 < int(m.group(3)) < 65536:
        raise ValueError(f"--exception {text!r}: expected NAMESPACE/WORKLOAD:PORT, e.g. shop/frontend:3000")
    return PortException(m.group(1), m.group(2), int(m.group(3)), "accepted on the command line")


def run(args: argparse.Namespace, *, backend_factory: Callable[[argparse.Namespace], Backend],
        stdout: TextIO | None = None, stderr: TextIO | None = None,
        now: Callable[[], datetime] | None = None, pass_window: Callable[[float], bool] | None = None) -> int:
    """``now`` and ``pass_window`` are the observe window's clock (see meshtui.tls.check.run_check)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        exceptions = [parse_exception(e) for e in args.exception]
    except ValueError as exc:
        print(f"meshtui migrate: {exc}", file=err)
        return 2
    if args.window < 0:
        print("meshtui migrate: --window must be 0 or more seconds", file=err)
        return 2
    scope = Scope.of(args.migrate_namespaces or (), mesh=bool(args.mesh))
    try:
        backend = backend_factory(args)
        backend.connect()
        with kept_to_the_end():  # the snapshot lives as long as this command (meshtui/bulk_gc.py)
            snapshot = backend.snapshot()
        if args.root_namespace:
            snapshot = snapshot.with_mesh(replace(snapshot.mesh, root_namespace=args.root_namespace))
        missing = [ns for ns in scope.namespaces if ("", ns) not in snapshot.namespaces]
        if missing:
            print(f"meshtui migrate: no namespace {', '.join(missing)} in the cluster", file=err)
            return 2
        seen = Observation((), (), 0.0)
        if args.window > 0:
            seen = observe(backend, snapshot, scope, args.window, now=now, pass_window=pass_window)
        report = preflight(snapshot, scope, exceptions, seen.callers)
    except (BackendError, PlanError) as exc:
        print(f"meshtui migrate: {exc}", file=err)
        return 2
    data = to_data(report, seen)
    if args.export:
        paths = export.write(report.steps, scope, Path(args.export))
        for path in paths:
            print(path, file=out)
        if not paths:
            print("nothing to export: the scope is already STRICT", file=out)
    elif args.output == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    elif args.output == "yaml":
        out.write(yaml.safe_dump(data, sort_keys=False))
    else:
        out.write(render_table(data, args.window))
    if not data["ready"] and args.export:
        unknown = f", callers of {len(seen.unread)} pod(s) unknown" if seen.unread else ""
        print(f"meshtui migrate: {len(report.blockers)} blocker(s) remain{unknown} (see --plan)", file=err)
    return 0 if data["ready"] else 1

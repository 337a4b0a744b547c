"""The mesh report of a snapshot: every pod's mode, the namespace and mesh summaries, the findings.

Assembled here, above the engine, because the findings are built on the engine's analysis: the
engine assembling them itself would import what imports it.
"""

from __future__ import annotations

from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import Analysis, analyze, summarize_mesh, summarize_namespaces
from meshtui.policy.findings import find_all
from meshtui.policy.recent import Recent
from meshtui.policy.report import MeshReport


def report_of(analysis: Analysis) -> MeshReport:
    snapshot = analysis.snapshot
    pods = {key: analysis.pod(pod) for key, pod in sorted(snapshot.pods.items())}
    namespaces = summarize_namespaces(snapshot, analysis.policies, pods)
    mesh = summarize_mesh(analysis.policies, namespaces, snapshot)
    return MeshReport(pods, namespaces, mesh, find_all(analysis))


_reports: Recent[Snapshot, MeshReport] = Recent()


def evaluate(snapshot: Snapshot) -> MeshReport:
    """The report of a snapshot, shared by every caller asking about the same snapshot object."""
    return _reports.get(snapshot, lambda s: report_of(analyze(s)))

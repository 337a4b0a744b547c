"""Namespace and mesh summaries (requirement 3)."""

from __future__ import annotations

import pytest
from policy_factories import ns, pa, pod, snap

from meshtui.model.snapshot import ModelObject
from meshtui.policy.evaluate import evaluate

WEB = {"app": "web"}

# (id, objects, namespace mtls, namespace source level, mesh mtls)
CASES = [
    ("nothing: PERMISSIVE by default", [pod("shop", "web-1", WEB)], "PERMISSIVE", "default", "PERMISSIVE"),
    (
        "namespace STRICT",
        [pod("shop", "web-1", WEB), pa("shop", "ns", "STRICT")],
        "STRICT",
        "namespace",
        "MIXED",
    ),
    (
        "mesh STRICT everywhere",
        [pod("shop", "web-1", WEB), pa("istio-system", "m", "STRICT")],
        "STRICT",
        "mesh",
        "STRICT",
    ),
    (
        "workload exception makes it MIXED",
        [
            pod("shop", "web-1", WEB),
            pod("shop", "api-1", {"app": "api"}),
            pa("shop", "ns", "STRICT"),
            pa("shop", "wl", "PERMISSIVE", WEB),
        ],
        "MIXED",
        "namespace",
        "MIXED",
    ),
    (
        "port exception makes it MIXED",
        [
            pod("shop", "web-1", WEB),
            pa("shop", "ns", "STRICT"),
            pa("shop", "wl", None, WEB, {8080: "DISABLE"}),
        ],
        "MIXED",
        "namespace",
        "MIXED",
    ),
    (
        "workload policy agreeing with the namespace is not an exception",
        [pod("shop", "web-1", WEB), pa("shop", "ns", "STRICT"), pa("shop", "wl", "STRICT", WEB)],
        "STRICT",
        "namespace",
        "MIXED",
    ),
    (
        "pods without sidecar are counted, not an exception",
        [pod("shop", "web-1", WEB, sidecar=False), pa("shop", "ns", "STRICT")],
        "STRICT",
        "namespace",
        "MIXED",
    ),
]


@pytest.mark.parametrize(("objs", "mtls", "level", "mesh"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_summary(objs: list[ModelObject], mtls: str, level: str, mesh: str) -> None:
    report = evaluate(snap(*objs))
    summary = report.namespaces["shop"]
    assert (summary.mtls, summary.source.level, report.mesh.mtls) == (mtls, level, mesh)


def test_counts() -> None:
    objs = [
        ns("shop", **{"istio-injection": "enabled"}),
        ns("empty"),
        pod("shop", "web-1", WEB, ports=(8080, 9090)),
        pod("shop", "old-1", {"app": "old"}, sidecar=False),
        pa("shop", "ns", "STRICT"),
        pa("shop", "wl", None, WEB, {9090: "PERMISSIVE"}),
    ]
    report = evaluate(snap(*objs))
    shop = report.namespaces["shop"]
    assert (shop.injection, shop.pods, shop.without_sidecar) == ("enabled", 2, 1)
    assert shop.port_counts == {"STRICT": 1, "PERMISSIVE": 1, "NONE": 1}
    assert report.namespaces["empty"].pods == 0
    assert (report.mesh.namespaces, report.mesh.pods, report.mesh.without_sidecar) == (2, 2, 1)
    assert report.mesh.port_counts == {"STRICT": 1, "PERMISSIVE": 1, "NONE": 1}

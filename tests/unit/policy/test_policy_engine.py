"""Server-side mode rules (requirement 1), one table row per Istio rule."""

from __future__ import annotations

import pytest
from policy_factories import T0, pa, pod, snap, svc

from meshtui.model import convert
from meshtui.model.objects import PeerAuthentication
from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import PortMtls, Source, port_mode
from meshtui.policy.evaluate import evaluate

ROOT = "istio-system"
WEB = {"app": "web"}

# (id, policies, port asked, expected mode, expected source level, expected source name)
RULES = [
    ("no policy is PERMISSIVE", [], 8080, "PERMISSIVE", "default", ""),
    ("mesh policy", [pa(ROOT, "mesh", "STRICT")], 8080, "STRICT", "mesh", "mesh"),
    (
        "namespace overrides mesh",
        [pa(ROOT, "mesh", "STRICT"), pa("shop", "ns", "PERMISSIVE")],
        8080,
        "PERMISSIVE",
        "namespace",
        "ns",
    ),
    (
        "workload overrides namespace",
        [pa("shop", "ns", "STRICT"), pa("shop", "wl", "DISABLE", WEB)],
        8080,
        "DISABLE",
        "workload",
        "wl",
    ),
    (
        "port overrides workload",
        [pa("shop", "wl", "STRICT", WEB, {8080: "DISABLE"})],
        8080,
        "DISABLE",
        "port",
        "wl",
    ),
    (
        "port level only for its port",
        [pa("shop", "wl", "STRICT", WEB, {9090: "DISABLE"})],
        8080,
        "STRICT",
        "workload",
        "wl",
    ),
    (
        "oldest namespace-wide wins",
        [pa("shop", "new", "STRICT", age=5), pa("shop", "old", "PERMISSIVE", age=1)],
        8080,
        "PERMISSIVE",
        "namespace",
        "old",
    ),
    (
        "same age: name ascending wins",
        [pa("shop", "b", "STRICT"), pa("shop", "a", "DISABLE")],
        8080,
        "DISABLE",
        "namespace",
        "a",
    ),
    (
        "oldest mesh policy UNSET masks a newer one",
        [pa(ROOT, "a", "UNSET"), pa(ROOT, "b", "STRICT", age=1)],
        8080,
        "PERMISSIVE",
        "default",
        "",
    ),
    (
        "namespace UNSET inherits mesh",
        [pa(ROOT, "mesh", "STRICT"), pa("shop", "ns", "UNSET")],
        8080,
        "STRICT",
        "mesh",
        "mesh",
    ),
    (
        "namespace without mtls inherits mesh",
        [pa(ROOT, "mesh", "DISABLE"), pa("shop", "ns", None)],
        8080,
        "DISABLE",
        "mesh",
        "mesh",
    ),
    (
        "workload UNSET inherits namespace",
        [pa("shop", "ns", "STRICT"), pa("shop", "wl", "UNSET", WEB)],
        8080,
        "STRICT",
        "namespace",
        "ns",
    ),
    (
        "port UNSET inherits workload",
        [pa("shop", "wl", "DISABLE", WEB, {8080: "UNSET"})],
        8080,
        "DISABLE",
        "workload",
        "wl",
    ),
    (
        "port without mode inherits workload",
        [pa("shop", "wl", "STRICT", WEB, {8080: None})],
        8080,
        "STRICT",
        "workload",
        "wl",
    ),
    (
        "port and workload UNSET inherit namespace",
        [pa("shop", "ns", "STRICT"), pa("shop", "wl", "UNSET", WEB, {8080: "UNSET"})],
        8080,
        "STRICT",
        "namespace",
        "ns",
    ),
    (
        "workload UNSET keeps its port levels",
        [pa("shop", "ns", "STRICT"), pa("shop", "wl", "UNSET", WEB, {8080: "PERMISSIVE"})],
        8080,
        "PERMISSIVE",
        "port",
        "wl",
    ),
    (
        "selector policy in root namespace is ignored",
        [pa(ROOT, "rootsel", "STRICT", WEB)],
        8080,
        "PERMISSIVE",
        "default",
        "",
    ),
    (
        "selector policy of another namespace does not apply",
        [pa("other", "wl", "STRICT", WEB)],
        8080,
        "PERMISSIVE",
        "default",
        "",
    ),
    (
        "selector not matching the pod",
        [pa("shop", "wl", "STRICT", {"app": "api"})],
        8080,
        "PERMISSIVE",
        "default",
        "",
    ),
    (
        "selector needs every label",
        [pa("shop", "wl", "STRICT", {"app": "web", "version": "v2"})],
        8080,
        "PERMISSIVE",
        "default",
        "",
    ),
    (
        "oldest matching workload policy wins",
        [
            pa("shop", "young", "STRICT", {"app": "web"}, age=9),
            pa("shop", "elder", "DISABLE", {"tier": "front"}, age=2),
        ],
        8080,
        "DISABLE",
        "workload",
        "elder",
    ),
    (
        "oldest workload policy wins even when UNSET",
        [
            pa("shop", "ns", "PERMISSIVE"),
            pa("shop", "elder", "UNSET", WEB, age=1),
            pa("shop", "young", "STRICT", {"tier": "front"}, age=2),
        ],
        8080,
        "PERMISSIVE",
        "namespace",
        "ns",
    ),
    (
        "portLevelMtls without selector is ignored",
        [pa("shop", "ns", "STRICT", None, {8080: "DISABLE"})],
        8080,
        "STRICT",
        "namespace",
        "ns",
    ),
]


def _web(**kw: object):
    return pod("shop", "web-1", {"app": "web", "tier": "front"}, **kw)


@pytest.mark.parametrize(
    ("policies", "port", "mode", "level", "name"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_precedence(policies: list[PeerAuthentication], port: int, mode: str, level: str, name: str) -> None:
    web = _web()
    result = port_mode(snap(web, *policies), web, port)
    assert (result.mode, result.source.level, result.source.name) == (mode, level, name)
    if name:
        assert result.source.kind == "PeerAuthentication"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"selector": {}, "mtls": {"mode": "STRICT"}}, "namespace"),
        ({"selector": {"matchLabels": {}}, "mtls": {"mode": "STRICT"}}, "namespace"),
        ({"selector": {"matchLabels": {"app": "other"}}, "mtls": {"mode": "STRICT"}}, "default"),
    ],
    ids=["selector {}", "empty matchLabels", "real selector"],
)
def test_empty_selector_is_namespace_wide(spec: dict, expected: str) -> None:
    obj = convert.from_k8s(
        {"kind": "PeerAuthentication", "metadata": {"name": "p", "namespace": "shop"}, "spec": spec}
    )
    web = _web()
    assert port_mode(snap(web, obj), web, 8080).source.level == expected


def test_empty_selector_mapping_built_directly_is_namespace_wide() -> None:
    web = _web()
    policy = PeerAuthentication("shop", "p", T0, selector={}, mode="STRICT")
    assert port_mode(snap(web, policy), web, 8080) == PortMtls(
        8080, "STRICT", Source("PeerAuthentication", "shop", "p", "namespace")
    )


def test_port_level_keys_on_container_port_not_service_port() -> None:
    web = _web()
    service = svc("shop", "web", WEB, ports=((80, 8080),))
    on_service_port = snap(web, service, pa("shop", "wl", "STRICT", WEB, {80: "DISABLE"}))
    on_target_port = snap(web, service, pa("shop", "wl", "STRICT", WEB, {8080: "DISABLE"}))
    assert port_mode(on_service_port, web, 8080).mode == "STRICT"
    assert port_mode(on_target_port, web, 8080).mode == "DISABLE"


@pytest.mark.parametrize(
    ("sidecar", "native", "mode"),
    [(False, False, "NONE"), (True, False, "STRICT"), (True, True, "STRICT")],
    ids=["no sidecar", "sidecar container", "native sidecar"],
)
def test_sidecar_presence(sidecar: bool, native: bool, mode: str) -> None:
    web = _web(sidecar=sidecar, native=native)
    report = evaluate(snap(web, pa("shop", "ns", "STRICT")))
    pm = report.pods[("shop", "web-1")]
    assert (pm.sidecar, pm.mode, pm.ports[0].mode) == (sidecar, mode, mode)


@pytest.mark.parametrize(
    ("root", "pod_ns", "policy_ns", "level"),
    [
        ("mesh-root", "shop", "mesh-root", "mesh"),
        ("mesh-root", "shop", "istio-system", "default"),
        ("mesh-root", "istio-system", "istio-system", "namespace"),
        ("istio-system", "istio-system", "istio-system", "mesh"),
    ],
    ids=[
        "custom root is mesh",
        "istio-system is an ordinary namespace",
        "policy in its own namespace",
        "pod in the root namespace gets the mesh policy",
    ],
)
def test_root_namespace(root: str, pod_ns: str, policy_ns: str, level: str) -> None:
    p = pod(pod_ns, "x")
    result = port_mode(snap(p, pa(policy_ns, "default", "STRICT"), root=root), p, 8080)
    assert result.source.level == level


def test_ports_include_service_target_ports_and_named_target_ports() -> None:
    web = pod("shop", "web-1", WEB, ports=((8080, "http"),))
    services = [svc("shop", "web", WEB, ports=((80, "http"), (9000, 9090)))]
    report = evaluate(snap(web, *services, pa("shop", "wl", "STRICT", WEB, {9090: "PERMISSIVE"})))
    ports = report.pods[("shop", "web-1")].ports
    assert [(p.port, p.mode, p.source.level) for p in ports] == [
        (8080, "STRICT", "workload"),
        (9090, "PERMISSIVE", "port"),
    ]


def test_undeclared_port_gets_the_policy_that_would_apply() -> None:
    web = _web()
    s = snap(web, pa("shop", "wl", "STRICT", WEB, {7000: "DISABLE"}))
    assert port_mode(s, web, 7000).mode == "DISABLE"
    assert port_mode(s, web, 7001).mode == "STRICT"


def test_evaluate_is_recomputed_for_a_new_snapshot() -> None:
    web = _web()
    first = snap(web, pa("shop", "ns", "STRICT"))
    second = first.apply([])  # same object: cached
    assert evaluate(second) is evaluate(first)
    changed = Snapshot.build([web, pa("shop", "ns", "DISABLE")])
    assert evaluate(changed).pods[("shop", "web-1")].mode == "DISABLE"
    assert evaluate(first).pods[("shop", "web-1")].mode == "STRICT"

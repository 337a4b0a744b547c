"""Ambient mode in the engine: who ztunnel captures, what it enforces, and mixed meshes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from policy_factories import dr, ns, pa, pod, snap, svc

from meshtui.model.objects import Pod, Waypoint
from meshtui.policy.ambient import waypoints_for_pod, waypoints_serving_namespace
from meshtui.policy.clients import predict
from meshtui.policy.engine import port_mode
from meshtui.policy.evaluate import evaluate

AMBIENT_NS = {"istio.io/dataplane-mode": "ambient"}
REDIRECTED = {"ambient.istio.io/redirection": "enabled"}
HOST_SVC = svc("shop", "web")


def ambient_pod(namespace: str, name: str, labels: dict[str, str] | None = None, **kw: object) -> Pod:
    return pod(namespace, name, labels, sidecar=False, annotations=dict(REDIRECTED), **kw)


def shop(*extra: object, labels: dict[str, str] | None = None):
    return snap(ns("shop", **(labels if labels is not None else AMBIENT_NS)), ns("front"),
                HOST_SVC, *extra)  # type: ignore[arg-type]


# (id, namespace labels, pod labels, annotations, sidecar, expected dataplane, captured)
DATAPLANE = [
    ("namespace label, redirected", AMBIENT_NS, {}, REDIRECTED, False, "ambient", True),
    ("namespace label, redirection not active yet", AMBIENT_NS, {}, {}, False, "ambient", False),
    ("pod opts out with none", AMBIENT_NS, {"istio.io/dataplane-mode": "none"}, {}, False, "none", False),
    ("pod opts in without namespace label", {}, {"istio.io/dataplane-mode": "ambient"}, REDIRECTED, False,
     "ambient", True),
    ("a sidecar wins over ambient", AMBIENT_NS, {}, REDIRECTED, True, "sidecar", False),
    ("no label at all", {}, {}, {}, False, "none", False),
]


@pytest.mark.parametrize(("ns_labels", "pod_labels", "annotations", "sidecar", "dataplane", "captured"),
                         [c[1:] for c in DATAPLANE], ids=[c[0] for c in DATAPLANE])
def test_dataplane_as_istio_decides_it(ns_labels, pod_labels, annotations, sidecar, dataplane, captured):
    p = pod("shop", "web-1", {"app": "web", **pod_labels}, sidecar=sidecar, annotations=dict(annotations))
    report = evaluate(shop(p, labels=ns_labels))
    pm = report.pods[p.key]
    assert (pm.dataplane, pm.captured) == (dataplane, captured)
    assert pm.in_mesh == (sidecar or captured)


def test_ambient_pods_are_not_counted_as_missing_a_proxy():
    pods = [ambient_pod("shop", f"web-{i}", {"app": "web"}) for i in range(3)]
    summary = evaluate(shop(*pods)).namespaces["shop"]
    assert summary.dataplane == "ambient"
    assert (summary.without_sidecar, summary.ambient) == (0, 3)


@pytest.mark.parametrize(("mode", "expected"), [
    ("STRICT", "STRICT"), ("PERMISSIVE", "PERMISSIVE"), (None, "PERMISSIVE"),
    # DISABLE is not supported in ambient: ztunnel still accepts both, as PERMISSIVE.
    ("DISABLE", "PERMISSIVE"),
])
def test_ztunnel_enforces_peer_authentication(mode, expected):
    p = ambient_pod("shop", "web-1", {"app": "web"})
    objs = [pa("shop", "default", mode)] if mode else []
    pm = evaluate(shop(p, *objs)).pods[p.key]
    assert pm.mode == expected
    assert pm.port(8080).mode == expected


def test_port_level_mtls_applies_in_ambient():
    p = ambient_pod("shop", "web-1", {"app": "web"}, ports=(8080, 9090))
    policy = pa("shop", "web", "STRICT", selector={"app": "web"}, ports={9090: "PERMISSIVE"})
    snapshot = shop(p, policy)
    assert port_mode(snapshot, p, 8080).mode == "STRICT"
    assert port_mode(snapshot, p, 9090).mode == "PERMISSIVE"


def test_redirection_not_active_means_no_enforcement():
    p = pod("shop", "web-1", {"app": "web"}, sidecar=False)
    pm = evaluate(shop(p, pa("shop", "default", "STRICT"))).pods[p.key]
    assert pm.mode == "NONE"
    assert not pm.in_mesh


# Mixed meshes: (id, client kind, server kind, server namespace mode, sends, outcome)
MIXED = [
    ("sidecar client to ambient STRICT", "sidecar", "ambient", "STRICT", "ISTIO_MUTUAL", "mtls"),
    ("ambient client to sidecar STRICT", "ambient", "sidecar", "STRICT", "ISTIO_MUTUAL", "mtls"),
    ("ambient client to ambient STRICT", "ambient", "ambient", "STRICT", "ISTIO_MUTUAL", "mtls"),
    ("no-mesh client to ambient STRICT fails", "none", "ambient", "STRICT", "DISABLE", "fail"),
    ("no-mesh client to ambient PERMISSIVE", "none", "ambient", "PERMISSIVE", "DISABLE", "plaintext"),
    ("ambient client to a pod outside the mesh", "ambient", "none", "STRICT", "DISABLE", "plaintext"),
]


def _party(kind: str, namespace: str, name: str) -> Pod:
    if kind == "ambient":
        return pod(namespace, name, {"app": name, "istio.io/dataplane-mode": "ambient"}, sidecar=False,
                   annotations=dict(REDIRECTED))
    return pod(namespace, name, {"app": name}, sidecar=kind == "sidecar")


@pytest.mark.parametrize(("client_kind", "server_kind", "mode", "sends", "outcome"),
                         [c[1:] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_mesh_predictions(client_kind, server_kind, mode, sends, outcome):
    client = _party(client_kind, "front", "client")
    server = _party(server_kind, "shop", "web")
    snapshot = shop(client, server, pa("shop", "default", mode), labels={})
    pred = predict(snapshot, client, HOST_SVC, 80)
    assert (pred.sends, pred.outcome) == (sends, outcome)
    if client_kind == "ambient":
        assert pred.sends_source == "ztunnel (HBONE)"


def test_ambient_client_ignores_destination_rules():
    client = _party("ambient", "front", "client")
    server = _party("sidecar", "shop", "web")
    rule = dr("front", "plain", "web.shop.svc.cluster.local", "DISABLE")
    pred = predict(shop(client, server, rule, pa("shop", "default", "STRICT"), labels={}), client, HOST_SVC, 80)
    assert (pred.sends, pred.outcome, pred.rule) == ("ISTIO_MUTUAL", "mtls", None)


def _codes(snapshot) -> list[tuple[str, str]]:
    return [(f.code, f.name) for f in evaluate(snapshot).findings]


def test_disable_on_ambient_pods_is_a_finding():
    p = ambient_pod("shop", "web-1", {"app": "web"})
    assert ("MT0021", "default") in _codes(shop(p, pa("shop", "default", "DISABLE")))
    sidecar = pod("shop", "web-1", {"app": "web"})
    assert all(code != "MT0021" for code, _ in _codes(shop(sidecar, pa("shop", "default", "DISABLE"))))


def test_enrolled_pod_without_redirection_is_a_finding():
    p = pod("shop", "web-1", {"app": "web"}, sidecar=False)
    assert ("MT0022", "web-1") in _codes(shop(p))
    assert all(code != "MT0022" for code, _ in _codes(shop(ambient_pod("shop", "web-1", {"app": "web"}))))


def test_ambient_pods_are_never_reported_missing_a_proxy():
    p = ambient_pod("shop", "web-1", {"app": "web"})
    codes = {code for code, _ in _codes(shop(p, pa("shop", "web", "STRICT", selector={"app": "web"})))}
    assert not codes & {"IST0103", "MT0010", "MT0004"}


def waypoint(namespace: str, name: str) -> Waypoint:
    return Waypoint(namespace, name)


def test_waypoint_served_by_namespace_label_and_service_label_wins():
    p = ambient_pod("shop", "web-1", {"app": "web"})
    labelled = replace(svc("shop", "web"), labels={"istio.io/use-waypoint": "web-wp"})
    snapshot = snap(ns("shop", **AMBIENT_NS, **{"istio.io/use-waypoint": "waypoint"}), p,
                    waypoint("shop", "waypoint"), waypoint("shop", "web-wp"))
    uses = waypoints_for_pod(snapshot, p)
    assert [(u.waypoint.name, u.via) for u in uses] == [("waypoint", "namespace")]
    snapshot = snap(*snapshot.objects(), labelled)
    assert [(u.waypoint.name, u.via) for u in waypoints_for_pod(snapshot, p)] == [("web-wp", "service web")]


def test_missing_waypoint_is_a_finding_and_listed():
    snapshot = snap(ns("shop", **AMBIENT_NS, **{"istio.io/use-waypoint": "gone"}))
    uses = waypoints_serving_namespace(snapshot, "shop")
    assert [(u.waypoint, u.missing) for u in uses] == [(None, "shop/gone")]
    assert ("MT0023", "shop") in _codes(snapshot)


def test_explain_says_ztunnel_enforces_and_that_disable_acts_as_permissive():
    from meshtui.policy.explain import explain

    p = ambient_pod("shop", "web-1", {"app": "web"})
    ex = explain(shop(p, pa("shop", "default", "DISABLE")), p, 8080)
    assert ex.mode == "PERMISSIVE" and ex.sidecar  # "sidecar" here means: a proxy enforces the mode
    assert [s.level for s in ex.levels][-1] == "ztunnel"
    assert "DISABLE is not supported in ambient" in ex.levels[-1].note
    strict = explain(shop(p, pa("shop", "default", "STRICT")), p, 8080)
    assert "ztunnel enforces this mode" in strict.levels[-1].note


@pytest.mark.parametrize(("body", "expected"), [
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
      "metadata": {"name": "waypoint", "namespace": "pay", "labels": {"istio.io/waypoint-for": "all"}},
      "spec": {"gatewayClassName": "istio-waypoint"}}, ("pay", "waypoint", "all")),
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
      "metadata": {"name": "waypoint", "namespace": "pay"}, "spec": {"gatewayClassName": "istio-waypoint"}},
     ("pay", "waypoint", "service")),
    # An ingress Gateway of the Gateway API, and Istio's own Gateway kind: not waypoints.
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "web"},
      "spec": {"gatewayClassName": "istio"}}, None),
    ({"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "public"},
      "spec": {"selector": {"istio": "ingressgateway"}}}, None),
])
def test_only_istio_waypoint_gateways_become_waypoints(body, expected):
    from meshtui.model.convert import from_k8s

    found = from_k8s(body)
    assert (None if found is None else (found.namespace, found.name, found.traffic_for)) == expected

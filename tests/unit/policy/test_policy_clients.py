"""Client-side rules (requirement 2): what a client sends and the predicted outcome."""

from __future__ import annotations

import pytest
from policy_factories import dr, pa, pod, snap, svc

from meshtui.model.snapshot import ModelObject
from meshtui.policy.clients import predict

ROOT = "istio-system"
HOST = "web.shop.svc.cluster.local"
STRICT_NS = pa("shop", "ns", "STRICT")
PERMISSIVE_NS = pa("shop", "ns", "PERMISSIVE")
DISABLE_NS = pa("shop", "ns", "DISABLE")

# (id, extra objects, client sidecar, server sidecar, auto-mTLS,
#  expected sends, sends_source, server_mode, outcome)
CASES = [
    ("auto-mTLS to STRICT", [STRICT_NS], True, True, True, "ISTIO_MUTUAL", "auto-mTLS", "STRICT", "mtls"),
    (
        "auto-mTLS to PERMISSIVE",
        [PERMISSIVE_NS],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "PERMISSIVE",
        "mtls",
    ),
    (
        "auto-mTLS to DISABLE sends plaintext",
        [DISABLE_NS],
        True,
        True,
        True,
        "DISABLE",
        "auto-mTLS",
        "DISABLE",
        "plaintext",
    ),
    (
        "auto-mTLS to a pod without sidecar",
        [STRICT_NS],
        True,
        False,
        True,
        "DISABLE",
        "auto-mTLS",
        "NONE",
        "plaintext",
    ),
    (
        "auto-mTLS off, no rule: plaintext to STRICT",
        [STRICT_NS],
        True,
        True,
        False,
        "DISABLE",
        "no DestinationRule (auto-mTLS off)",
        "STRICT",
        "fail",
    ),
    (
        "client without sidecar to STRICT",
        [STRICT_NS],
        False,
        True,
        True,
        "DISABLE",
        "no sidecar",
        "STRICT",
        "fail",
    ),
    (
        "client without sidecar to PERMISSIVE",
        [PERMISSIVE_NS],
        False,
        True,
        True,
        "DISABLE",
        "no sidecar",
        "PERMISSIVE",
        "plaintext",
    ),
    (
        "client without sidecar ignores rules",
        [STRICT_NS, dr("front", "r", HOST, "ISTIO_MUTUAL")],
        False,
        True,
        True,
        "DISABLE",
        "no sidecar",
        "STRICT",
        "fail",
    ),
    (
        "rule DISABLE to STRICT",
        [STRICT_NS, dr("front", "r", HOST, "DISABLE")],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/r",
        "STRICT",
        "fail",
    ),
    (
        "rule ISTIO_MUTUAL to pod without sidecar",
        [dr("front", "r", HOST, "ISTIO_MUTUAL")],
        True,
        False,
        True,
        "ISTIO_MUTUAL",
        "DestinationRule front/r",
        "NONE",
        "fail",
    ),
    (
        "rule ISTIO_MUTUAL to DISABLE",
        [DISABLE_NS, dr("front", "r", HOST, "ISTIO_MUTUAL")],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "DestinationRule front/r",
        "DISABLE",
        "fail",
    ),
    (
        "rule SIMPLE to STRICT",
        [STRICT_NS, dr("front", "r", HOST, "SIMPLE")],
        True,
        True,
        True,
        "SIMPLE",
        "DestinationRule front/r",
        "STRICT",
        "fail",
    ),
    (
        "rule MUTUAL to PERMISSIVE",
        [PERMISSIVE_NS, dr("front", "r", HOST, "MUTUAL")],
        True,
        True,
        True,
        "MUTUAL",
        "DestinationRule front/r",
        "PERMISSIVE",
        "fail",
    ),
    (
        "rule SIMPLE to a pod without sidecar",
        [dr("front", "r", HOST, "SIMPLE")],
        True,
        False,
        True,
        "SIMPLE",
        "DestinationRule front/r",
        "NONE",
        "plaintext",
    ),
    (
        "rule without TLS leaves auto-mTLS",
        [STRICT_NS, dr("front", "r", HOST)],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "client namespace before service namespace",
        [STRICT_NS, dr("front", "mine", HOST, "DISABLE"), dr("shop", "theirs", HOST, "ISTIO_MUTUAL")],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/mine",
        "STRICT",
        "fail",
    ),
    (
        "service namespace before root",
        [dr("shop", "theirs", HOST, "DISABLE"), dr(ROOT, "mesh", "*.local", "SIMPLE")],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule shop/theirs",
        "PERMISSIVE",
        "plaintext",
    ),
    (
        "root namespace last",
        [STRICT_NS, dr(ROOT, "mesh", "*.local", "DISABLE")],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule istio-system/mesh",
        "STRICT",
        "fail",
    ),
    (
        "exportTo '.' hides a service-namespace rule",
        [STRICT_NS, dr("shop", "private", HOST, "DISABLE", export_to=(".",))],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "exportTo naming the client namespace",
        [STRICT_NS, dr("shop", "r", HOST, "DISABLE", export_to=("front",))],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule shop/r",
        "STRICT",
        "fail",
    ),
    (
        "a rule exported elsewhere only is hidden in its own namespace",
        [STRICT_NS, dr("front", "r", HOST, "DISABLE", export_to=("shop",))],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "exportTo '~' hides a rule",
        [STRICT_NS, dr("front", "r", HOST, "DISABLE", export_to=("~",))],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "short host is relative to the rule's namespace",
        [STRICT_NS, dr("front", "r", "web", "DISABLE")],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "short host in the service namespace",
        [STRICT_NS, dr("shop", "r", "web", "DISABLE")],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule shop/r",
        "STRICT",
        "fail",
    ),
    (
        "exact host beats wildcard",
        [
            STRICT_NS,
            dr("front", "wild", "*.shop.svc.cluster.local", "DISABLE"),
            dr("front", "exact", HOST, "ISTIO_MUTUAL"),
        ],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "DestinationRule front/exact",
        "STRICT",
        "mtls",
    ),
    (
        "longer wildcard beats shorter",
        [
            STRICT_NS,
            dr("front", "short", "*.svc.cluster.local", "ISTIO_MUTUAL"),
            dr("front", "long", "*.shop.svc.cluster.local", "DISABLE"),
        ],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/long",
        "STRICT",
        "fail",
    ),
    (
        "portLevelSettings on the service port override",
        [STRICT_NS, dr("front", "r", HOST, "ISTIO_MUTUAL", ports={80: "DISABLE"})],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/r",
        "STRICT",
        "fail",
    ),
    (
        "portLevelSettings on the container port do not apply",
        [STRICT_NS, dr("front", "r", HOST, "ISTIO_MUTUAL", ports={8080: "DISABLE"})],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "DestinationRule front/r",
        "STRICT",
        "mtls",
    ),
    (
        "workloadSelector rule for this client",
        [STRICT_NS, dr("front", "r", HOST, "DISABLE", selector={"app": "client"})],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/r",
        "STRICT",
        "fail",
    ),
    (
        "workloadSelector rule for another client",
        [STRICT_NS, dr("front", "r", HOST, "DISABLE", selector={"app": "x"})],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "auto-mTLS",
        "STRICT",
        "mtls",
    ),
    (
        "workloadSelector rule beats the namespace rule",
        [
            STRICT_NS,
            dr("front", "all", HOST, "ISTIO_MUTUAL"),
            dr("front", "sel", HOST, "DISABLE", selector={"app": "client"}),
        ],
        True,
        True,
        True,
        "DISABLE",
        "DestinationRule front/sel",
        "STRICT",
        "fail",
    ),
    (
        "oldest rule for a host wins",
        [
            STRICT_NS,
            dr("front", "young", HOST, "DISABLE", age=5),
            dr("front", "old", HOST, "ISTIO_MUTUAL", age=1),
        ],
        True,
        True,
        True,
        "ISTIO_MUTUAL",
        "DestinationRule front/old",
        "STRICT",
        "mtls",
    ),
]


@pytest.mark.parametrize(
    ("extra", "client_sidecar", "server_sidecar", "auto", "sends", "source", "server_mode", "outcome"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_prediction(
    extra: list[ModelObject],
    client_sidecar: bool,
    server_sidecar: bool,
    auto: bool,
    sends: str,
    source: str,
    server_mode: str,
    outcome: str,
) -> None:
    client = pod("front", "client-1", {"app": "client"}, sidecar=client_sidecar)
    server = pod("shop", "web-1", {"app": "web"}, sidecar=server_sidecar)
    service = svc("shop", "web", ports=((80, 8080),))
    result = predict(snap(client, server, service, *extra, auto_mtls=auto), client, service, 80)
    assert (result.sends, result.sends_source, result.server_mode, result.outcome) == (
        sends,
        source,
        server_mode,
        outcome,
    )
    assert result.client == client.ref and result.server == server.ref and result.target_port == 8080


def test_named_target_port_maps_to_the_container_port() -> None:
    client = pod("front", "client-1", {"app": "client"}, sidecar=False)
    server = pod("shop", "web-1", {"app": "web"}, ports=((3001, "http"), (9000, "admin")))
    service = svc("shop", "web", ports=((80, "http"),))
    exception = pa("shop", "wl", "STRICT", {"app": "web"}, {9000: "PERMISSIVE"})
    result = predict(snap(client, server, service, exception), client, service, 80)
    assert (result.target_port, result.server_mode, result.outcome) == (3001, "STRICT", "fail")
    assert result.reason == "plaintext to STRICT port 3001"


def test_worst_endpoint_decides() -> None:
    client = pod("front", "client-1", {"app": "client"})
    meshed = pod("shop", "web-1", {"app": "web"})
    bare = pod("shop", "web-2", {"app": "web"}, sidecar=False)
    service = svc("shop", "web")
    result = predict(
        snap(client, meshed, bare, service, dr("front", "r", HOST, "ISTIO_MUTUAL")), client, service, 80
    )
    assert (result.outcome, result.server) == ("fail", bare.ref)


def test_service_without_endpoints() -> None:
    client = pod("front", "client-1", {"app": "client"})
    service = svc("shop", "web")
    result = predict(snap(client, service), client, service, 80)
    assert result.outcome == "fail" and "no endpoints" in result.reason


def test_unknown_service_port_is_an_error() -> None:
    client = pod("front", "client-1")
    service = svc("shop", "web")
    with pytest.raises(ValueError, match="no port 81"):
        predict(snap(client, service), client, service, 81)

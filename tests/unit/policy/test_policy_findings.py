"""Every finding code: one snapshot that raises it and one close variant that must not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from policy_factories import ap, dr, ns, pa, pod, snap, svc

from meshtui.model.convert import from_k8s
from meshtui.model.objects import Pod, Waypoint
from meshtui.model.snapshot import ModelObject
from meshtui.policy.evaluation import evaluate

HOST = "web.shop.svc.cluster.local"
WEB = {"app": "web"}
SHOP = ns("shop", **{"istio-injection": "enabled"})


def _rs_pod(name: str, sidecar: bool) -> Pod:
    return pod(
        "shop",
        f"{name}-7d9f-abcde",
        {"app": name, "pod-template-hash": "7d9f"},
        sidecar=sidecar,
        owner_kind="ReplicaSet",
        owner_name=f"{name}-7d9f",
    )


# (code, objects that raise it, expected (kind, namespace, name), objects that must not)
AMBIENT = ns("pay", **{"istio.io/dataplane-mode": "ambient"})
REDIRECTED = {"ambient.istio.io/redirection": "enabled"}


def _raw_pa(name: str, mode: object) -> dict:
    return {"kind": "PeerAuthentication", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"mtls": {"mode": mode}}}


CASES: list[tuple[str, list[ModelObject], tuple[str, str, str], list[ModelObject]]] = [
    ("IST0102", [ns("bar")], ("Namespace", "", "bar"), [ns("bar", **{"istio-injection": "disabled"})]),
    (
        "IST0103",
        [SHOP, pod("shop", "plain", sidecar=False)],
        ("Pod", "shop", "plain"),
        [SHOP, pod("shop", "plain", sidecar=False, annotations={"sidecar.istio.io/inject": "false"})],
    ),
    (
        "IST0123",
        [ns("busted", **{"istio-injection": "enabled", "istio.io/rev": "canary"})],
        ("Namespace", "", "busted"),
        [ns("fine", **{"istio.io/rev": "canary"})],
    ),
    (
        "IST0128",
        [dr("shop", "db", HOST, "SIMPLE")],
        ("DestinationRule", "shop", "db"),
        [dr("shop", "db", HOST, "SIMPLE", ca="/etc/certs/root.pem")],
    ),
    (
        "IST0129",
        [dr("shop", "db", HOST, ports={443: "MUTUAL"})],
        ("DestinationRule", "shop", "db"),
        [dr("shop", "db", HOST, ports={443: "MUTUAL"}, credential="db", selector={"app": "c"})],
    ),
    (
        "MT0001",
        [
            pod("shop", "web-1", WEB),
            svc("shop", "web"),
            pa("shop", "ns", "STRICT"),
            dr("shop", "plain", HOST, "DISABLE"),
        ],
        ("DestinationRule", "shop", "plain"),
        [
            pod("shop", "web-1", WEB),
            svc("shop", "web"),
            pa("shop", "ns", "PERMISSIVE"),
            dr("shop", "plain", HOST, "DISABLE"),
        ],
    ),
    (
        "MT0002",
        [pod("shop", "web-1", WEB), svc("shop", "web"), dr("shop", "tls", HOST, "SIMPLE", ca="/ca.pem")],
        ("DestinationRule", "shop", "tls"),
        [
            pod("shop", "web-1", WEB, sidecar=False),
            svc("shop", "web"),
            dr("shop", "tls", HOST, "SIMPLE", ca="/ca.pem"),
        ],
    ),
    (
        "MT0003",
        [
            pod("shop", "web-1", WEB, sidecar=False),
            svc("shop", "web"),
            dr("shop", "mtls", HOST, "ISTIO_MUTUAL"),
        ],
        ("DestinationRule", "shop", "mtls"),
        [pod("shop", "web-1", WEB), svc("shop", "web"), dr("shop", "mtls", HOST, "ISTIO_MUTUAL")],
    ),
    (
        "MT0004",
        [pod("shop", "web-1", WEB, sidecar=False), pa("shop", "wl", "STRICT", WEB)],
        ("PeerAuthentication", "shop", "wl"),
        [pod("shop", "web-1", WEB), pa("shop", "wl", "STRICT", WEB)],
    ),
    (
        "MT0005",
        [pa("shop", "ns", "STRICT", None, {8080: "DISABLE"})],
        ("PeerAuthentication", "shop", "ns"),
        [pod("shop", "web-1", WEB), pa("shop", "ns", "STRICT", WEB, {8080: "DISABLE"})],
    ),
    (
        "MT0006",
        [pod("shop", "web-1", WEB), pa("shop", "wl", "STRICT", {"app": "wbe"})],
        ("PeerAuthentication", "shop", "wl"),
        [pod("shop", "web-1", WEB), pa("shop", "wl", "STRICT", WEB)],
    ),
    (
        "MT0007",
        [pa("shop", "a", "STRICT", age=1), pa("shop", "b", "PERMISSIVE", age=2)],
        ("PeerAuthentication", "shop", "b"),
        [pa("shop", "a", "STRICT", age=1), pa("shop", "b", "PERMISSIVE", WEB)],
    ),
    (
        "MT0008",
        [pod("shop", "web-1", WEB), svc("shop", "web", type="NodePort"), pa("shop", "ns", "STRICT")],
        ("Service", "shop", "web"),
        [
            pod("shop", "web-1", WEB),
            svc("shop", "web", type="NodePort"),
            pa("shop", "ns", "STRICT"),
            pa("shop", "open", None, WEB, {8080: "PERMISSIVE"}),
        ],
    ),
    (
        "MT0009",
        [
            pod("shop", "web-1", WEB),
            ap("shop", "allow", WEB, source={"principals": ["cluster.local/ns/a/sa/b"]}),
        ],
        ("AuthorizationPolicy", "shop", "allow"),
        [
            pod("shop", "web-1", WEB),
            pa("shop", "ns", "STRICT"),
            ap("shop", "allow", WEB, source={"principals": ["cluster.local/ns/a/sa/b"]}),
        ],
    ),
    (
        "MT0010",
        [SHOP, _rs_pod("cart", sidecar=False)],
        ("Deployment", "shop", "cart"),
        [SHOP, _rs_pod("cart", sidecar=True)],
    ),
    (
        "MT0013",
        [SHOP, pa("shop", "default", "STRICT"), pod("shop", "web-1", WEB),
         pod("shop", "plain", {"app": "plain"}, sidecar=False)],
        ("PeerAuthentication", "shop", "default"),
        [SHOP, pa("shop", "default", "PERMISSIVE"), pod("shop", "web-1", WEB),
         pod("shop", "plain", {"app": "plain"}, sidecar=False)],
    ),
    (
        "MT0011",
        [pod("istio-system", "x", WEB), pa("istio-system", "sel", "STRICT", WEB)],
        ("PeerAuthentication", "istio-system", "sel"),
        [pod("istio-system", "x", WEB), pa("istio-system", "d", "STRICT")],
    ),
    # Ambient (meshtui.policy.ambient): the pods carry istio-cni's redirection annotation once captured.
    (
        "MT0021",
        [AMBIENT, pod("pay", "web-1", WEB, sidecar=False, annotations=REDIRECTED), pa("pay", "default", "DISABLE")],
        ("PeerAuthentication", "pay", "default"),
        [AMBIENT, pod("pay", "web-1", WEB, sidecar=False, annotations=REDIRECTED), pa("pay", "default", "PERMISSIVE")],
    ),
    # ztunnel enforces STRICT for the pods it captures; a pod opted out of ambient takes plaintext.
    (
        "MT0013",
        [AMBIENT, pa("pay", "default", "STRICT"), pod("pay", "web-1", WEB, sidecar=False, annotations=REDIRECTED),
         pod("pay", "batch", {"app": "batch", "istio.io/dataplane-mode": "none"}, sidecar=False)],
        ("PeerAuthentication", "pay", "default"),
        [AMBIENT, pa("pay", "default", "STRICT"), pod("pay", "web-1", WEB, sidecar=False, annotations=REDIRECTED)],
    ),
    (
        "MT0022",
        [AMBIENT, pod("pay", "web-1", WEB, sidecar=False)],
        ("Pod", "pay", "web-1"),
        [AMBIENT, pod("pay", "web-1", WEB, sidecar=False, annotations=REDIRECTED)],
    ),
    (
        "MT0023",
        [ns("pay", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "gone"})],
        ("Namespace", "", "pay"),
        [ns("pay", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "wp"}), Waypoint("pay", "wp")],
    ),
    (
        "MT0012",
        [pod("shop", "web-1", WEB), from_k8s(_raw_pa("bad", "strict"))],
        ("PeerAuthentication", "shop", "bad"),
        [pod("shop", "web-1", WEB), from_k8s(_raw_pa("bad", "STRICT"))],
    ),
]


def _refs(objs: list[ModelObject], code: str) -> set[tuple[str, str, str]]:
    return {(f.kind, f.namespace, f.name) for f in evaluate(snap(*objs)).findings if f.code == code}


@pytest.mark.parametrize(("code", "objs", "ref"), [c[:3] for c in CASES], ids=[c[0] for c in CASES])
def test_raised(code: str, objs: list[ModelObject], ref: tuple[str, str, str]) -> None:
    assert _refs(objs, code) == {ref}
    finding = next(f for f in evaluate(snap(*objs)).findings if f.code == code)
    assert finding.severity in ("error", "warning", "info") and finding.message and finding.fix


@pytest.mark.parametrize(("code", "objs"), [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_not_raised(code: str, objs: list[ModelObject]) -> None:
    assert _refs(objs, code) == set()


@pytest.mark.parametrize(
    ("labels", "annotations", "expected"),
    [
        ({"sidecar.istio.io/inject": "false"}, {}, False),
        ({}, {"sidecar.istio.io/inject": "false"}, False),
        ({"sidecar.istio.io/inject": "true"}, {}, True),
        ({}, {}, True),
    ],
    ids=["label opts out", "annotation opts out", "label opts in", "namespace default"],
)
def test_restart_needed_follows_injection(labels: dict, annotations: dict, expected: bool) -> None:
    p = pod("shop", "x", {"app": "x", **labels}, sidecar=False, annotations=annotations)
    assert bool(_refs([SHOP, p], "MT0010")) is expected


@pytest.mark.parametrize(
    ("namespace", "labels"),
    [("istio-system", {"app": "istiod", "istio": "pilot", "istio.io/rev": "canary"}),
     ("istio-canary", {"app": "istiod", "istio.io/rev": "canary"})],
    ids=["istiod in the root namespace", "revisioned istiod elsewhere"],
)
def test_control_plane_needs_no_restart(namespace: str, labels: dict[str, str]) -> None:
    istiod = pod(namespace, "istiod-canary-1", labels, sidecar=False)
    assert _refs([ns(namespace), istiod], "MT0010") == set()


@pytest.mark.parametrize(
    ("code", "objs", "about"),
    [
        ("MT0010", [SHOP, _rs_pod("cart", sidecar=False)], {("Pod", "shop", "cart-7d9f-abcde")}),
        ("MT0009", [pod("shop", "web-1", WEB), pod("shop", "other", {"app": "other"}),
                    ap("shop", "allow", WEB, source={"principals": ["cluster.local/ns/a/sa/b"]})],
         {("Pod", "shop", "web-1")}),
    ],
    ids=["MT0010 names its pods", "MT0009 names the open pod only"],
)
def test_findings_name_the_objects_they_are_about(code: str, objs: list[ModelObject],
                                                 about: set[tuple[str, str, str]]) -> None:
    (finding,) = [f for f in evaluate(snap(*objs)).findings if f.code == code]
    assert {(r.kind, r.namespace, r.name) for r in finding.about} == about


def test_host_network_pod_is_not_missing_a_proxy() -> None:
    p = pod("shop", "hostnet", sidecar=False, host_network=True)
    assert _refs([SHOP, p], "IST0103") == set()


def test_gateway_behind_load_balancer_is_not_flagged() -> None:
    gw = pod("shop", "gw-1", {"istio": "ingressgateway"})
    objs: list[ModelObject] = [
        gw,
        svc("shop", "gw", {"istio": "ingressgateway"}, type="LoadBalancer"),
        pa("shop", "ns", "STRICT"),
    ]
    assert _refs(objs, "MT0008") == set()


def test_shadowed_rule_is_not_blamed() -> None:
    # The exact-host rule in the client namespace wins, so the wildcard DISABLE rule never applies.
    objs: list[ModelObject] = [
        pod("shop", "web-1", WEB),
        svc("shop", "web"),
        pa("shop", "ns", "STRICT"),
        dr("shop", "wild", "*.shop.svc.cluster.local", "DISABLE"),
        dr("shop", "exact", HOST, "ISTIO_MUTUAL"),
    ]
    assert _refs(objs, "MT0001") == set()


def test_findings_are_sorted_by_severity() -> None:
    objs: list[ModelObject] = [
        ns("bar"),
        pa("shop", "ns", "STRICT", None, {1: "DISABLE"}),
        pa("shop", "b", "STRICT", age=3),
    ]
    severities = [f.severity for f in evaluate(snap(*objs)).findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert severities[0] == "error" and severities[-1] == "info"


def test_every_code_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "findings.md").read_text()
    documented = set(re.findall(r"^### ((?:IST|MT)\d{4})(?: / (IST\d{4}))?", docs, re.M))
    codes = {c for pair in documented for c in pair if c}
    assert codes == {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        (_raw_pa("lower", "strict"), "spec.mtls.mode: Unsupported value: 'strict'"),
        (_raw_pa("number", 1), "spec.mtls.mode: Unsupported value: 1"),
        ({"kind": "PeerAuthentication", "metadata": {"name": "port", "namespace": "shop"},
          "spec": {"selector": {"matchLabels": WEB}, "portLevelMtls": {"8080": {"mode": "OFF"}}}},
         "spec.portLevelMtls[8080].mode: Unsupported value: 'OFF'"),
        ({"kind": "DestinationRule", "metadata": {"name": "tls", "namespace": "shop"},
          "spec": {"host": HOST, "trafficPolicy": {"tls": {"mode": "ISTIO"}}}},
         "spec.trafficPolicy.tls.mode: Unsupported value: 'ISTIO': supported values: DISABLE, SIMPLE"),
    ],
    ids=["lowercase mode", "number", "port-level", "DestinationRule tls"],
)
def test_an_invalid_enum_is_an_error_and_never_a_mode(obj: dict, where: str) -> None:
    report = evaluate(snap(pod("shop", "web-1", WEB), svc("shop", "web"), from_k8s(obj)))
    (finding,) = [f for f in report.findings if f.code == "MT0012"]
    assert finding.severity == "error" and where in finding.message and "API server rejects" in finding.message
    modes = {p.mode for pm in report.pods.values() for p in pm.ports} | {pm.mode for pm in report.pods.values()}
    assert modes == {"PERMISSIVE"}  # the rejected policy takes no effect; 'strict' is never shown as a mode


def test_unread_namespace_and_mesh_give_unknown_and_no_findings() -> None:
    from dataclasses import replace

    from meshtui.model.objects import DeniedRead

    objs: list[ModelObject] = [ns("shop"), pod("shop", "web-1", WEB), _rs_pod("cart", sidecar=False)]
    denied = (DeniedRead("Namespace", "shop"), DeniedRead("PeerAuthentication", "istio-system"))
    base = snap(*objs)
    report = evaluate(base.with_mesh(replace(base.mesh, denied=denied)))
    # Labels never read are not "not injected": no IST0102, and no IST0103/MT0010 resting on them.
    assert not {f.code for f in report.findings} & {"IST0102", "IST0103", "IST0123", "MT0010"}
    shop = report.namespaces["shop"]
    assert shop.injection == "unknown"
    assert shop.provisional == ("injection unknown: cannot read Namespace shop",
                                "mode assumes no mesh-wide policy: cannot read PeerAuthentications in istio-system")
    assert report.mesh.provisional and report.mesh.unknown == ("Namespace shop", "PeerAuthentications in istio-system")
    assert report.pods[("shop", "web-1")].provisional and not report.pods[("shop", "cart-7d9f-abcde")].provisional
    # the same snapshot read in full: IST0102 is a real finding then
    assert "IST0102" in {f.code for f in evaluate(base).findings}

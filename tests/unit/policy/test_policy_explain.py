"""explain(): the chain of levels and the clients that would fail."""

from __future__ import annotations

from policy_factories import ap, dr, pa, pod, snap, svc

from meshtui.model import convert
from meshtui.policy.explain import explain

WEB = {"app": "web"}


def test_chain_marks_the_deciding_level_and_ignored_policies() -> None:
    web = pod("shop", "web-1", WEB)
    mesh_raw = {
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}},
    }
    s = snap(
        web,
        convert.from_k8s(mesh_raw),
        pa("shop", "old", "STRICT", age=1),  # type: ignore[arg-type]
        pa("shop", "new", "DISABLE", age=2),
        pa("shop", "wl", "UNSET", WEB, {8080: "UNSET"}),
    )
    ex = explain(s, web, 8080)
    assert (ex.mode, ex.source.level, ex.source.name) == ("STRICT", "namespace", "old")
    rows = [
        (step.level, step.policy.name if step.policy else None, step.mode, step.decided) for step in ex.levels
    ]
    assert rows == [
        ("mesh", "default", "PERMISSIVE", False),
        ("namespace", "old", "STRICT", True),
        ("workload", "wl", "UNSET", False),
        ("port", "wl", "UNSET", False),
    ]
    assert ex.levels[0].raw == mesh_raw
    assert [r.name for r in ex.levels[1].ignored] == ["new"]


def test_default_and_no_sidecar_steps() -> None:
    web = pod("shop", "web-1", WEB)
    assert explain(snap(web), web, None).levels[-1].note.startswith("no policy decides")
    bare = pod("shop", "bare-1", {"app": "bare"}, sidecar=False)
    ex = explain(snap(bare, pa("shop", "ns", "STRICT")), bare, 8080)
    assert ex.mode == "NONE" and not ex.sidecar
    assert [s.decided for s in ex.levels] == [False, False, False, False, True]


def test_failing_clients_against_this_pod_and_port() -> None:
    web = pod("shop", "web-1", WEB, ports=(8080, 9090))
    meshed = pod("front", "ok-1", {"app": "ok"})
    bare = pod("front", "legacy-1", {"app": "legacy"}, sidecar=False)
    pinned = pod("front", "pinned-1", {"app": "pinned"})
    s = snap(
        web,
        meshed,
        bare,
        pinned,
        svc("shop", "web", WEB, ports=((80, 8080), (90, 9090))),
        pa("shop", "wl", "STRICT", WEB, {9090: "PERMISSIVE"}),
        dr("front", "pin", "web.shop.svc.cluster.local", "DISABLE", selector={"app": "pinned"}),
    )
    failing = explain(s, web, 8080).failing_clients
    assert sorted(p.client.name for p in failing) == ["legacy-1", "pinned-1"]
    assert all(p.port == 80 and p.reason == "plaintext to STRICT port 8080" for p in failing)
    assert explain(s, web, 9090).failing_clients == ()


def test_seen_clients_first_then_could_call_without_istiod() -> None:
    web = pod("shop", "web-1", WEB, ports=(8080,))
    bare = pod("front", "legacy-1", {"app": "legacy"}, sidecar=False, owner_kind="ReplicaSet",
               owner_name="legacy-5d8f")
    other = pod("front", "cron-1", {"app": "cron"}, sidecar=False)
    istiod = pod("istio-system", "istiod-1", {"app": "istiod", "istio": "pilot"}, sidecar=False)
    s = snap(web, bare, other, istiod, svc("shop", "web", WEB, ports=((80, 8080),)), pa("shop", "ns", "STRICT"),
             dr("shop", "web", "web", "ISTIO_MUTUAL"), ap("shop", "allow", WEB, source={"namespaces": ["front"]}))
    seen = [(f"Deployment front/{bare.workload_name}", "shop", "web", 80)]
    ex = explain(s, web, None, seen, "test logs, last 5 min")
    assert [(str(p.client), p.outcome) for p in ex.seen_clients] == [("Deployment front/legacy", "fail")]
    could = {p.client.name for p in ex.failing_clients if p.client}
    assert could == {"cron-1"}  # legacy was seen (listed above), istiod never calls application ports
    assert ex.seen_source == "test logs, last 5 min"
    kinds = [r.ref.kind for r in ex.related]
    assert kinds == ["Service", "DestinationRule", "AuthorizationPolicy"]
    assert "ISTIO_MUTUAL" in ex.related[1].summary and "selects this pod" in ex.related[2].summary


def test_without_traffic_source_nothing_is_seen() -> None:
    web = pod("shop", "web-1", WEB)
    ex = explain(snap(web), web, None)
    assert ex.seen_clients == () and ex.seen_source == ""

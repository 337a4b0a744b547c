"""Incremental evaluation: update() after any batch of events equals a full evaluate() of the result,
sidecar and ambient namespaces alike."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from meshtui.model.objects import REDIRECTION_ANNOTATION, Pod, Waypoint
from meshtui.model.snapshot import COLLECTION, ChangeEvent, ModelObject, Snapshot
from meshtui.policy.evaluation import evaluate, touched_namespaces, update
from tests.unit.policy.policy_factories import ap, dr, ns, pa, pod, snap, svc

ROOT = "istio-system"
NAMESPACES = ("istio-system", "shop", "pay", "edge", "legacy")
APPS = ("web", "api", "db")
MODES = (None, "UNSET", "STRICT", "PERMISSIVE", "DISABLE")
AMBIENT = {"istio.io/dataplane-mode": "ambient"}
NAMESPACE_LABELS = ({}, {"istio-injection": "enabled"}, {"istio.io/rev": "canary"}, {"istio-injection": "disabled"},
                    AMBIENT, {**AMBIENT, "istio.io/use-waypoint": "wp"},
                    {**AMBIENT, "istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": "edge"})


def random_pod(rng: random.Random, where: str, app: str) -> ModelObject:
    labels = {"app": app}
    if rng.random() < 0.2:
        labels["istio.io/dataplane-mode"] = rng.choice(("ambient", "none"))
    redirected = {REDIRECTION_ANNOTATION: "enabled"} if rng.random() < 0.7 else {}
    return pod(where, f"{app}-{rng.randrange(4)}", labels, sidecar=rng.random() < 0.6,
               ports=rng.choice(((8080,), (8080, 9090), ((8080, "http"),))), annotations=redirected,
               phase="Running")


def random_object(rng: random.Random) -> ModelObject:
    """One object from a small name space, so that events often modify or delete existing ones."""
    where = rng.choice(NAMESPACES)
    app = rng.choice(APPS)
    kind = rng.choice(("pod", "pod", "pod", "pa", "ns", "svc", "dr", "ap", "waypoint"))
    if kind == "pod":
        return random_pod(rng, where, app)
    if kind == "waypoint":
        return Waypoint(where, "wp")
    if kind == "pa":
        selector = {"app": app} if rng.random() < 0.5 else None
        ports = {rng.choice((8080, 9090)): rng.choice(MODES)} if selector and rng.random() < 0.5 else None
        return pa(where, f"pa-{rng.randrange(3)}", rng.choice(MODES), selector, ports, age=rng.randrange(5))
    if kind == "ns":
        return ns(where, **rng.choice(NAMESPACE_LABELS))
    if kind == "svc":
        return svc(where, app, {"app": app}, ports=((80, rng.choice((8080, 9090, "http"))),),
                   type=rng.choice(("ClusterIP", "NodePort")))
    if kind == "dr":
        host = rng.choice((app, f"{app}.{rng.choice(NAMESPACES)}.svc.cluster.local", "*.svc.cluster.local"))
        return dr(where, f"dr-{rng.randrange(3)}", host, rng.choice((None, "DISABLE", "ISTIO_MUTUAL", "SIMPLE")))
    source = rng.choice(({"principals": ["cluster.local/ns/shop/sa/web"]}, {"namespaces": ["pay"]}, None))
    selector = {"app": app} if rng.random() < 0.5 else None
    return ap(where, f"ap-{rng.randrange(2)}", selector, source=source)


def random_batch(rng: random.Random, current: Snapshot, size: int) -> list[ChangeEvent]:
    events = []
    for _ in range(size):
        existing = list(current.objects())
        if existing and rng.random() < 0.25:
            events.append(ChangeEvent("DELETED", rng.choice(existing)))
        else:
            obj = random_object(rng)
            events.append(ChangeEvent("ADDED", obj))
    return events


def initial(rng: random.Random) -> Snapshot:
    objs = [ns(n) for n in NAMESPACES] + [random_object(rng) for _ in range(40)]
    return snap(*objs, root=ROOT)


@pytest.mark.parametrize("seed", range(60))
def test_update_equals_full_evaluation(seed: int) -> None:
    rng = random.Random(seed)
    current = initial(rng)
    report = evaluate(current)
    for _ in range(15):
        events = random_batch(rng, current, rng.choice((1, 1, 2, 5)))
        nxt = current.apply(events)
        report = update(current, report, nxt, events)
        fresh = Snapshot.build(nxt.objects(), nxt.mesh)  # a new object: no shared cache
        full = evaluate(fresh)
        assert list(report.pods.items()) == list(full.pods.items())
        assert list(report.namespaces.items()) == list(full.namespaces.items())
        assert report.mesh == full.mesh
        assert report.findings == full.findings
        # The namespace indexes apply() carried over are the ones the new snapshot would build.
        for name in COLLECTION.values():
            assert nxt.by_namespace(name) == fresh.by_namespace(name)
        current = nxt


def with_status(rng: random.Random, obj: ModelObject) -> ModelObject:
    """The same pod with other container readiness, restarts and state: what a kubelet reports."""
    assert isinstance(obj, Pod)
    containers = tuple(replace(c, ready=rng.random() < 0.5, restarts=c.restarts + rng.randrange(2),
                               state=rng.choice(("Running", "Waiting", "")),
                               reason=rng.choice(("", "CrashLoopBackOff"))) for c in obj.containers)
    return replace(obj, containers=containers, resource_version=str(rng.randrange(1000)))


@pytest.mark.parametrize("seed", range(20))
def test_status_only_pod_events_equal_full_evaluation(seed: int) -> None:
    rng = random.Random(seed)
    current = initial(rng)
    report = evaluate(current)
    for _ in range(10):
        pods = sorted(current.pods.values(), key=lambda p: p.key)
        events = [ChangeEvent("MODIFIED", with_status(rng, rng.choice(pods))) for _ in range(rng.choice((1, 3)))]
        if rng.random() < 0.3:
            events.append(random_batch(rng, current, 1)[0])
        nxt = current.apply(events)
        report = update(current, report, nxt, events)
        full = evaluate(Snapshot.build(nxt.objects(), nxt.mesh))
        assert list(report.pods.items()) == list(full.pods.items())
        assert all(report.pods[k].pod is p for k, p in nxt.pods.items())
        assert list(report.namespaces.items()) == list(full.namespaces.items())
        assert report.mesh == full.mesh
        assert report.findings == full.findings
        current = nxt


def test_a_status_only_pod_event_re_evaluates_nothing() -> None:
    before = snap(ns("shop"), pod("shop", "web-1"), pod("shop", "web-2"), pa("shop", "d", "STRICT"))
    report = evaluate(before)
    events = [ChangeEvent("MODIFIED", with_status(random.Random(1), before.pods[("shop", "web-1")]))]
    after = before.apply(events)
    updated = update(before, report, after, events)
    assert updated.pods[("shop", "web-1")].pod is after.pods[("shop", "web-1")]
    assert updated.pods[("shop", "web-2")] is report.pods[("shop", "web-2")]
    assert updated.namespaces is report.namespaces and updated.findings is report.findings


def test_a_pod_event_touches_only_its_namespace() -> None:
    events = [ChangeEvent("MODIFIED", pod("shop", "web-1"))]
    assert touched_namespaces(events, ROOT) == ({"shop"}, set())


def test_a_policy_event_re_evaluates_its_namespace_pods() -> None:
    events = [ChangeEvent("ADDED", pa("shop", "default", "STRICT")), ChangeEvent("ADDED", pod("pay", "a"))]
    assert touched_namespaces(events, ROOT) == ({"shop", "pay"}, {"shop"})


def test_a_root_namespace_peer_authentication_re_evaluates_everything() -> None:
    events = [ChangeEvent("ADDED", pod("shop", "web-1")), ChangeEvent("ADDED", pa(ROOT, "default", "STRICT"))]
    assert touched_namespaces(events, ROOT) is None


def test_update_keeps_untouched_namespaces_results() -> None:
    before = snap(ns("shop"), ns("pay"), pod("shop", "web-1"), pod("pay", "api-1"), pa("pay", "d", "STRICT"))
    report = evaluate(before)
    events = [ChangeEvent("ADDED", pod("shop", "web-2"))]
    after = before.apply(events)
    updated = update(before, report, after, events)
    assert updated.pods[("pay", "api-1")] is report.pods[("pay", "api-1")]
    assert updated.namespaces["pay"] is report.namespaces["pay"]
    assert updated.namespaces["shop"].pods == 2

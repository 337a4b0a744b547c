from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from meshtui.change.apply import apply_plan
from meshtui.change.impact_view import impact_lines, plan_impact
from meshtui.change.plan import MtlsScope, mtls_plan, restart_plan, workloads_to_restart
from meshtui.change.ports import port_choices
from meshtui.change.rollout import rollout_state
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.model.convert import from_k8s
from meshtui.model.snapshot import Snapshot
from tests.objects import deployment, namespace, peer_auth, pod

WEB = {"app": "web"}


def web_pod(
    name: str,
    *,
    sidecar: bool = True,
    phase: str = "Running",
    node: str = "n1",
    waiting: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A pod of web; ``waiting`` maps container name → waiting reason (others run ready)."""
    p = pod("shop", name, WEB, sidecar=sidecar)
    names = [c["name"] for c in p["spec"]["containers"]]
    waiting = waiting or {}
    p["spec"]["nodeName"] = node
    p["status"] = {
        "phase": phase,
        "containerStatuses": [
            {
                "name": n,
                "ready": n not in waiting,
                "state": {"waiting": {"reason": waiting[n]}} if n in waiting else {"running": {}},
            }
            for n in names
        ],
    }
    return p


def snap_with(*pods: dict[str, Any], replicas: int = 2) -> Snapshot:
    d = deployment("shop", "web", WEB)
    d["spec"]["replicas"] = replicas
    return Snapshot.build([from_k8s(o) for o in (namespace("shop"), d, *pods)])


# pods, want_sidecar, (good, pending, done, reason)
ROLLOUTS = [
    ([web_pod("a"), web_pod("b")], True, (2, 0, True, "")),
    ([web_pod("a"), web_pod("b", sidecar=False)], True, (1, 1, False, "")),
    ([web_pod("a", sidecar=False), web_pod("b", sidecar=False)], False, (2, 0, True, "")),
    (
        [web_pod("a"), web_pod("b", phase="Pending", waiting={"app": "ImagePullBackOff"})],
        True,
        (1, 1, False, "ImagePullBackOff (b/app)"),
    ),
    (
        [web_pod("a"), web_pod("b", waiting={"app": "CrashLoopBackOff"})],
        True,
        (1, 1, False, "CrashLoopBackOff (b/app)"),
    ),
    (
        [web_pod("a"), web_pod("b", phase="Pending", waiting={"istio-proxy": "ContainerCreating"})],
        True,
        (1, 1, False, ""),
    ),
    (
        [web_pod("a"), web_pod("b", phase="Pending", node="")],
        True,
        (1, 1, False, "Pending: not scheduled yet"),
    ),
    (
        [web_pod("a")],
        True,
        (1, 0, False, "1/2 pods created: check the ReplicaSet's events (quota, admission)"),
    ),
]


@pytest.mark.parametrize(("pods", "want", "expected"), ROLLOUTS)
def test_rollout_state(pods, want: bool, expected) -> None:
    s = snap_with(*pods)
    state = rollout_state(s, s.workloads[("shop", "Deployment/web")], want_sidecar=want)
    assert (state.good, state.pending, state.done, state.reason) == expected
    assert state.stuck == expected[3].startswith(("ImagePullBackOff", "CrashLoopBackOff"))


def test_restart_on_the_demo_completes_with_sidecars(demo_backend: Callable[..., DemoBackend]) -> None:
    demo = demo_backend(ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)))
    s = demo.snapshot()
    (worker,) = workloads_to_restart(s, "researchflow", want_sidecar=True)
    assert not rollout_state(s, worker, want_sidecar=True).done
    assert apply_plan(demo, restart_plan(s, [worker]), dry_run=False).ok
    demo.cluster.advance(120)
    assert rollout_state(demo.snapshot(), worker, want_sidecar=True).done


def test_port_choices_name_the_services_and_current_mode() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": WEB,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"port": 9090, "targetPort": 9090}],
        },
    }
    p = web_pod("a")
    p["spec"]["containers"][0]["ports"] = [
        {"containerPort": 8080, "name": "http"},
        {"containerPort": 8443, "name": "https"},
    ]
    s = Snapshot.build(
        [from_k8s(o) for o in (namespace("shop"), svc, p, peer_auth("shop", "default", mode="STRICT"))]
    )
    choices = port_choices(s, s.pods[("shop", "a")])
    assert [(c.port, c.name, c.services, c.mode) for c in choices] == [
        (8080, "http", ("web:80 (http)",), "STRICT"),
        (8443, "https", (), "STRICT"),
        (9090, "", ("web:9090",), "STRICT"),
    ]
    assert choices[0].source == "namespace: PeerAuthentication shop/default"


def test_impact_lines_put_breakage_first_and_cap_long_sections(demo_backend: Callable[..., DemoBackend]) -> None:
    demo = demo_backend(ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)))
    demo.cluster.advance(120)
    plan = mtls_plan(demo.snapshot(), MtlsScope.mesh(), "STRICT")
    lines = impact_lines(plan_impact(plan, demo.cluster.observed_plaintext()))
    # Calls seen in the traffic come first, one a line; possible callers are one line per client.
    assert lines[0].startswith("FAILS Pod legacy/batch-reporter → Service kubestock-staging/ms-inventory:3001")
    could = [line for line in lines if line.startswith("FAILS if it calls: ")]
    assert len(could) == 3 and all("and 10 more" in line for line in could)
    assert lines[-1].startswith("… and ")
    assert lines[-2].endswith("PERMISSIVE → STRICT")
    assert impact_lines(plan_impact(mtls_plan(demo.snapshot(), MtlsScope.mesh(), "UNSET"))) == []

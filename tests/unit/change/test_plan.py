from datetime import UTC, datetime
from typing import Any

import pytest

from meshtui.change.plan import (
    MtlsScope,
    PlanError,
    injection_plan,
    mtls_plan,
    redundant_port_entries,
    restart_plan,
    revisions_in_use,
    workloads_to_restart,
)
from meshtui.model.convert import from_k8s
from meshtui.model.objects import MeshSettings, Workload
from meshtui.model.snapshot import Snapshot
from tests.objects import deployment, namespace, peer_auth, pod

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WEB_LABELS = {"app": "web", "version": "v1"}


def snap(*objs: dict[str, Any], mesh: MeshSettings | None = None) -> Snapshot:
    return Snapshot.build([from_k8s(o) for o in objs], mesh)


BASE = (namespace("istio-system"), namespace("shop"), deployment("shop", "web", WEB_LABELS))


def web(s: Snapshot) -> Workload:
    return s.workloads[("shop", "Deployment/web")]


def scope_for(level: str, s: Snapshot) -> MtlsScope:
    return {
        "mesh": MtlsScope.mesh(),
        "namespace": MtlsScope.of_namespace("shop"),
        "workload": MtlsScope.of_workload(web(s)),
        "port": MtlsScope.of_port(web(s), 8080),
    }[level]


def summary(plan) -> list[tuple[str, str, str, Any]]:
    """(op, namespace, name, spec after) per change: what a plan does, in one comparable value."""
    return [(c.op, c.namespace, c.name, (c.after or {}).get("spec")) for c in plan.changes]


WL_SEL = {"selector": {"matchLabels": WEB_LABELS}}

# level, mode, existing policies, expected summary
CASES = [
    # Nothing holds the scope yet: a new policy, named as Istio users expect.
    ("mesh", "STRICT", [], [("create", "istio-system", "default", {"mtls": {"mode": "STRICT"}})]),
    ("mesh", "PERMISSIVE", [], [("create", "istio-system", "default", {"mtls": {"mode": "PERMISSIVE"}})]),
    ("mesh", "DISABLE", [], [("create", "istio-system", "default", {"mtls": {"mode": "DISABLE"}})]),
    ("mesh", "UNSET", [], []),
    ("namespace", "STRICT", [], [("create", "shop", "default", {"mtls": {"mode": "STRICT"}})]),
    ("namespace", "UNSET", [], []),
    ("workload", "STRICT", [], [("create", "shop", "web-mtls", {**WL_SEL, "mtls": {"mode": "STRICT"}})]),
    ("workload", "DISABLE", [], [("create", "shop", "web-mtls", {**WL_SEL, "mtls": {"mode": "DISABLE"}})]),
    (
        "port",
        "STRICT",
        [],
        [("create", "shop", "web-mtls", {**WL_SEL, "portLevelMtls": {"8080": {"mode": "STRICT"}}})],
    ),
    ("port", "UNSET", [], []),
    # An existing holder is patched, never joined by a competing policy.
    (
        "mesh",
        "STRICT",
        [peer_auth("istio-system", "mesh", mode="PERMISSIVE")],
        [("patch", "istio-system", "mesh", {"mtls": {"mode": "STRICT"}})],
    ),
    (
        "namespace",
        "PERMISSIVE",
        [peer_auth("shop", "default", mode="STRICT")],
        [("patch", "shop", "default", {"mtls": {"mode": "PERMISSIVE"}})],
    ),
    ("namespace", "STRICT", [peer_auth("shop", "default", mode="STRICT")], []),
    # Of two namespace-wide policies Istio uses the oldest; that is the one to change.
    (
        "namespace",
        "STRICT",
        [
            peer_auth("shop", "default", mode="PERMISSIVE", created="2025-01-01T00:00:00Z"),
            peer_auth("shop", "legacy", mode="DISABLE", created="2023-01-01T00:00:00Z"),
        ],
        [("patch", "shop", "legacy", {"mtls": {"mode": "STRICT"}})],
    ),
    (
        "workload",
        "STRICT",
        [
            peer_auth(
                "shop", "web-old", mode="PERMISSIVE", selector={"app": "web"}, created="2022-01-01T00:00:00Z"
            ),
            peer_auth("shop", "web-new", mode="DISABLE", selector={"app": "web"}),
        ],
        [
            (
                "patch",
                "shop",
                "web-old",
                {"selector": {"matchLabels": {"app": "web"}}, "mtls": {"mode": "STRICT"}},
            )
        ],
    ),
    # A policy selecting another workload does not hold this scope.
    (
        "workload",
        "STRICT",
        [peer_auth("shop", "api", mode="PERMISSIVE", selector={"app": "api"})],
        [("create", "shop", "web-mtls", {**WL_SEL, "mtls": {"mode": "STRICT"}})],
    ),
    (
        "port",
        "PERMISSIVE",
        [peer_auth("shop", "w", mode="STRICT", selector={"app": "web"})],
        [
            (
                "patch",
                "shop",
                "w",
                {
                    "selector": {"matchLabels": {"app": "web"}},
                    "mtls": {"mode": "STRICT"},
                    "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}},
                },
            )
        ],
    ),
    (
        "port",
        "UNSET",
        [
            peer_auth(
                "shop",
                "w",
                mode="STRICT",
                selector={"app": "web"},
                ports={"8080": "PERMISSIVE", "9090": "DISABLE"},
            )
        ],
        [
            (
                "patch",
                "shop",
                "w",
                {
                    "selector": {"matchLabels": {"app": "web"}},
                    "mtls": {"mode": "STRICT"},
                    "portLevelMtls": {"9090": {"mode": "DISABLE"}},
                },
            )
        ],
    ),
    (
        "workload",
        "UNSET",
        [peer_auth("shop", "w", mode="STRICT", selector={"app": "web"}, ports={"8080": "PERMISSIVE"})],
        [
            (
                "patch",
                "shop",
                "w",
                {
                    "selector": {"matchLabels": {"app": "web"}},
                    "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}},
                },
            )
        ],
    ),
    # Emptied policies are deleted.
    (
        "mesh",
        "UNSET",
        [peer_auth("istio-system", "default", mode="STRICT")],
        [("delete", "istio-system", "default", None)],
    ),
    (
        "namespace",
        "UNSET",
        [peer_auth("shop", "default", mode="DISABLE")],
        [("delete", "shop", "default", None)],
    ),
    (
        "workload",
        "UNSET",
        [peer_auth("shop", "w", mode="STRICT", selector={"app": "web"})],
        [("delete", "shop", "w", None)],
    ),
    (
        "port",
        "UNSET",
        [peer_auth("shop", "w", selector={"app": "web"}, ports={"8080": "STRICT"})],
        [("delete", "shop", "w", None)],
    ),
    (
        "port",
        "UNSET",
        [peer_auth("shop", "w", mode="UNSET", selector={"app": "web"}, ports={"8080": "STRICT"})],
        [("delete", "shop", "w", None)],
    ),
]


@pytest.mark.parametrize(("level", "mode", "existing", "expected"), CASES)
def test_mtls_plan(level: str, mode: str, existing: list[dict[str, Any]], expected: list) -> None:
    s = snap(*BASE, *existing)
    plan = mtls_plan(s, scope_for(level, s), mode, now=NOW)
    assert summary(plan) == expected


@pytest.mark.parametrize(
    ("scope", "mode", "typed"),
    [
        (MtlsScope.mesh(), "STRICT", True),
        (MtlsScope.of_namespace("istio-system"), "STRICT", True),
        (MtlsScope.mesh(), "PERMISSIVE", False),
        (MtlsScope.of_namespace("shop"), "STRICT", False),
    ],
)
def test_mesh_wide_strict_needs_typed_confirmation(scope: MtlsScope, mode: str, typed: bool) -> None:
    assert mtls_plan(snap(*BASE), scope, mode, now=NOW).needs_typed_confirmation is typed


def test_predicted_snapshot_holds_the_new_policy_as_the_youngest() -> None:
    s = snap(*BASE)
    plan = mtls_plan(s, MtlsScope.of_port(web(s), 8080), "STRICT", now=NOW)
    pa = plan.predicted.peer_authentications[("shop", "web-mtls")]
    assert (pa.selector, pa.mode, dict(pa.port_level), pa.created) == (
        WEB_LABELS,
        None,
        {8080: "STRICT"},
        NOW,
    )
    assert plan.before is s and not s.peer_authentications


def test_predicted_snapshot_drops_a_deleted_policy() -> None:
    plan = mtls_plan(
        snap(*BASE, peer_auth("shop", "default", mode="STRICT")),
        MtlsScope.of_namespace("shop"),
        "UNSET",
        now=NOW,
    )
    assert ("shop", "default") not in plan.predicted.peer_authentications


@pytest.mark.parametrize(
    ("objs", "scope_of", "message"),
    [
        (
            (namespace("istio-system"), deployment("istio-system", "gw", {"app": "gw"})),
            lambda s: MtlsScope.of_workload(s.workloads[("istio-system", "Deployment/gw")]),
            "root namespace",
        ),
        (
            (*BASE, peer_auth("shop", "web-mtls", mode="STRICT", selector={"app": "other"})),
            lambda s: MtlsScope.of_workload(web(s)),
            "does not hold",
        ),
        (
            (namespace("shop"), deployment("shop", "bare", {})),
            lambda s: MtlsScope.of_workload(s.workloads[("shop", "Deployment/bare")]),
            "no pod-template labels",
        ),
    ],
)
def test_mtls_plan_refuses(objs, scope_of, message: str) -> None:
    s = snap(*objs)
    with pytest.raises(PlanError, match=message):
        mtls_plan(s, scope_of(s), "STRICT", now=NOW)


def test_workload_plan_notes_other_workloads_sharing_the_policy() -> None:
    s = snap(
        *BASE,
        deployment("shop", "web-canary", {"app": "web", "version": "v2"}),
        peer_auth("shop", "w", mode="PERMISSIVE", selector={"app": "web"}),
    )
    plan = mtls_plan(s, MtlsScope.of_workload(web(s)), "STRICT", now=NOW)
    assert plan.notes == ("w also selects web-canary",)


def labels_after(plan) -> dict[str, str] | None:
    (change,) = plan.changes
    assert change.op == "label"
    return change.after["metadata"]["labels"]


# labels on the namespace, mesh revisions, other namespaces, enabled, revision, expected labels
INJECTION = [
    ({}, (), (), True, None, {"istio-injection": "enabled"}),
    ({"team": "a"}, (), (), False, None, {"team": "a", "istio-injection": "disabled"}),
    ({}, ("canary",), (), True, "canary", {"istio.io/rev": "canary"}),
    ({}, (), (namespace("other", **{"istio.io/rev": "1-30"}),), True, "1-30", {"istio.io/rev": "1-30"}),
    # Switching from one scheme to the other removes the old label: never both.
    ({"istio-injection": "enabled"}, ("canary",), (), True, "canary", {"istio.io/rev": "canary"}),
    ({"istio.io/rev": "old"}, (), (), True, "old", {"istio.io/rev": "old"}),
    (
        {"istio.io/rev": "old", "istio-injection": "enabled"},
        (),
        (),
        False,
        None,
        {"istio-injection": "disabled"},
    ),
    ({"istio.io/rev": "a", "istio-injection": "disabled"}, ("a", "b"), (), True, "b", {"istio.io/rev": "b"}),
]


@pytest.mark.parametrize(("labels", "revisions", "others", "enabled", "revision", "expected"), INJECTION)
def test_injection_plan(labels, revisions, others, enabled, revision, expected) -> None:
    s = snap(namespace("shop", **labels), *others, mesh=MeshSettings(revisions=revisions))
    plan = injection_plan(s, "shop", enabled=enabled, revision=revision, now=NOW)
    if expected == labels:
        assert plan.empty
    else:
        assert labels_after(plan) == expected
        assert dict(plan.predicted.namespaces[("", "shop")].labels) == expected


def test_injection_plan_with_revisions_needs_a_revision_chosen() -> None:
    s = snap(namespace("shop"), namespace("b", **{"istio.io/rev": "blue"}))
    assert revisions_in_use(s) == ("blue",)
    with pytest.raises(PlanError, match="blue"):
        injection_plan(s, "shop", enabled=True)


def test_injection_plan_already_enabled_is_empty() -> None:
    s = snap(namespace("shop", **{"istio-injection": "enabled"}))
    assert injection_plan(s, "shop", enabled=True).empty


@pytest.mark.parametrize(("want", "expected"), [(True, ["bare", "mixed"]), (False, ["meshed", "mixed"])])
def test_workloads_to_restart(want: bool, expected: list[str]) -> None:
    s = snap(
        namespace("shop"),
        deployment("shop", "bare", {"app": "bare"}),
        pod("shop", "bare-1", {"app": "bare"}, sidecar=False),
        deployment("shop", "meshed", {"app": "meshed"}),
        pod("shop", "meshed-1", {"app": "meshed"}, sidecar=True),
        deployment("shop", "mixed", {"app": "mixed"}),
        pod("shop", "mixed-1", {"app": "mixed"}, sidecar=True),
        pod("shop", "mixed-2", {"app": "mixed"}, sidecar=False),
        deployment(
            "shop", "optout", {"app": "optout"}, template_annotations={"sidecar.istio.io/inject": "false"}
        ),
        pod("shop", "optout-1", {"app": "optout"}, sidecar=False),
        deployment("shop", "idle", {"app": "idle"}),
    )
    assert [w.name for w in workloads_to_restart(s, "shop", want_sidecar=want)] == expected


def test_restart_plan_restarts_each_workload_and_predicts_no_policy_change() -> None:
    s = snap(*BASE)
    plan = restart_plan(s, [web(s)], now=NOW)
    assert [(c.op, c.kind, c.namespace, c.name) for c in plan.changes] == [
        ("restart", "Deployment", "shop", "web")
    ]
    assert plan.predicted == s


def test_new_workload_policy_selects_with_the_workloads_selector_and_is_labelled() -> None:
    dep = deployment("shop", "api", {"app": "api"})
    dep["spec"]["template"]["metadata"]["labels"] = {"app": "api", "version": "v7", "team": "x"}
    s = snap(namespace("shop"), dep)
    plan = mtls_plan(s, MtlsScope.of_port(s.workloads[("shop", "Deployment/api")], 8080), "PERMISSIVE", now=NOW)
    (change,) = plan.changes
    assert change.after is not None
    assert change.after["spec"]["selector"] == {"matchLabels": {"app": "api"}}  # not version/team
    assert change.after["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "meshtui"}


def test_port_entry_equal_to_the_workload_mode_is_offered_for_removal() -> None:
    s = snap(*BASE, peer_auth("shop", "w", mode="STRICT", selector={"app": "web"},
                              ports={"8080": "STRICT", "9090": "PERMISSIVE"}))
    assert redundant_port_entries(s, web(s)) == {8080: "STRICT"}
    plan = mtls_plan(s, MtlsScope.of_workload(web(s)), "PERMISSIVE", now=NOW)
    # after the change 9090's PERMISSIVE is the workload's mode: the plan says so
    assert any("9090 (PERMISSIVE)" in n and "change nothing" in n for n in plan.notes)
    assert redundant_port_entries(plan.predicted, web(s)) == {9090: "PERMISSIVE"}


@pytest.mark.parametrize(
    ("istiod", "labelled", "offered"),
    [
        ((), (), ()),
        (("default",), ("pidgeon",), ()),  # istiod runs without revisions: plain istio-injection
        (("1-24",), ("pidgeon",), ("1-24",)),  # pidgeon names no running istiod: not offered
        (("canary", "default"), (), ("canary", "default")),
        ((), ("blue",), ("blue",)),  # istiod not readable: the revisions namespaces use
    ],
)
def test_revisions_offered_are_those_istiod_runs_with(istiod, labelled, offered) -> None:
    others = [namespace(f"ns-{r}", **{"istio.io/rev": r}) for r in labelled]
    s = snap(namespace("shop"), *others, mesh=MeshSettings(revisions=istiod))
    assert revisions_in_use(s) == offered
    if "default" in offered or not offered:
        assert labels_after(injection_plan(s, "shop", enabled=True, now=NOW)) == {"istio-injection": "enabled"}

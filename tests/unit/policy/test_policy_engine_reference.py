"""The indexed engine against a direct transcription of istiod's ComposePeerAuthentication, which
scans every policy for every pod: any difference is an indexing or precedence bug."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_factories import at, snap

from meshtui.model.objects import Container, ContainerPort, PeerAuthentication, Pod
from meshtui.policy.evaluate import evaluate

ROOT = "istio-system"
NAMESPACES = ("istio-system", "a", "b")
LABELS = st.dictionaries(st.sampled_from(("app", "tier")), st.sampled_from(("x", "y")), max_size=2)
MODES = st.sampled_from((None, "UNSET", "STRICT", "PERMISSIVE", "DISABLE"))
PORTS = (80, 81)

policies = st.builds(
    lambda ns, name, age, selector, mode, ports: PeerAuthentication(
        ns, name, at(age), selector=selector or None, mode=mode, port_level=ports
    ),
    st.sampled_from(NAMESPACES),
    st.sampled_from(("p", "q", "r", "s")),
    st.integers(0, 2),
    LABELS,
    MODES,
    st.dictionaries(st.sampled_from(PORTS), MODES, max_size=2),
)
pods = st.builds(
    lambda ns, i, labels, sidecar: Pod(
        ns,
        f"pod-{i}",
        labels=labels,
        containers=(
            Container("app", ports=tuple(ContainerPort(p) for p in PORTS)),
            *((Container("istio-proxy"),) if sidecar else ()),
        ),
    ),
    st.sampled_from(NAMESPACES),
    st.integers(0, 5),
    LABELS,
    st.booleans(),
)


def reference(pod: Pod, pas: list[PeerAuthentication], port: int) -> str:
    if not pod.has_sidecar:
        return "NONE"
    mesh = ns_cfg = wl = None
    # istiod sorts by creation time, then name, then namespace, and keeps the first strictly older one.
    for cfg in sorted(pas, key=lambda p: (p.created, p.name, p.namespace)):
        if not cfg.selector:
            if cfg.namespace == ROOT:
                mesh = mesh or cfg
            elif cfg.namespace == pod.namespace:
                ns_cfg = ns_cfg or cfg
        elif (
            cfg.namespace == pod.namespace
            and cfg.namespace != ROOT
            and all(pod.labels.get(k) == v for k, v in cfg.selector.items())
        ):
            wl = wl or cfg
    mode = "PERMISSIVE"
    for cfg in (mesh, ns_cfg, wl):
        if cfg is not None and cfg.mode not in (None, "UNSET"):
            mode = cfg.mode
    if wl is not None and port in wl.port_level and wl.port_level[port] not in (None, "UNSET"):
        return str(wl.port_level[port])
    return mode


@settings(max_examples=300, deadline=None)
@given(
    st.lists(policies, max_size=8, unique_by=lambda p: (p.namespace, p.name)),
    st.lists(pods, min_size=1, max_size=6, unique_by=lambda p: (p.namespace, p.name)),
)
def test_engine_matches_reference(pas: list[PeerAuthentication], pod_list: list[Pod]) -> None:
    report = evaluate(snap(*pas, *pod_list))
    for p in pod_list:
        got = {pm.port: pm.mode for pm in report.pods[p.key].ports}
        assert got == {port: reference(p, pas, port) for port in PORTS}

"""Sidecar injection prediction, as the injector webhooks and the injector decide it."""

from __future__ import annotations

import pytest
from policy_factories import ns

from meshtui.model.objects import Namespace
from meshtui.policy.injection import would_inject

INJECT = "sidecar.istio.io/inject"
ENABLED = ns("shop", **{"istio-injection": "enabled"})
DISABLED = ns("shop", **{"istio-injection": "disabled"})
REV = ns("shop", **{"istio.io/rev": "canary"})
PLAIN = ns("shop")

# (id, namespace, pod labels, pod annotations, known revisions, host network, expected)
CASES = [
    ("enabled namespace", ENABLED, {}, {}, (), False, True),
    ("enabled namespace, label false", ENABLED, {INJECT: "false"}, {}, (), False, False),
    ("enabled namespace, annotation false", ENABLED, {}, {INJECT: "false"}, (), False, False),
    ("label wins over annotation", ENABLED, {INJECT: "false"}, {INJECT: "true"}, (), False, False),
    ("label true wins over annotation false", ENABLED, {INJECT: "true"}, {INJECT: "false"}, (), False, True),
    ("unrecognised value means no", ENABLED, {}, {INJECT: "maybe"}, (), False, False),
    ("yaml yes", ENABLED, {}, {INJECT: "yes"}, (), False, True),
    ("disabled namespace, label true", DISABLED, {INJECT: "true"}, {}, (), False, False),
    ("revision namespace", REV, {}, {}, (), False, True),
    ("revision namespace, known revision", REV, {}, {}, ("canary",), False, True),
    ("revision namespace, unknown revision", REV, {}, {}, ("stable",), False, False),
    ("unlabelled namespace", PLAIN, {}, {}, (), False, False),
    ("unlabelled namespace, label true", PLAIN, {INJECT: "true"}, {}, (), False, True),
    ("unlabelled namespace, annotation true only", PLAIN, {}, {INJECT: "true"}, (), False, False),
    ("unlabelled namespace, pod revision label", PLAIN, {"istio.io/rev": "canary"}, {}, (), False, True),
    ("no namespace object", None, {INJECT: "true"}, {}, (), False, True),
    ("host network", ENABLED, {}, {}, (), True, False),
    (
        "kube-system is never injected",
        ns("kube-system", **{"istio-injection": "enabled"}),
        {},
        {},
        (),
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("namespace", "labels", "annotations", "revisions", "host_network", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_would_inject(
    namespace: Namespace | None,
    labels: dict,
    annotations: dict,
    revisions: tuple,
    host_network: bool,
    expected: bool,
) -> None:
    assert (
        would_inject(namespace, labels, annotations, host_network=host_network, revisions=revisions)
        is expected
    )

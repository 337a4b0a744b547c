from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshtui.backend.base import merge_patch
from meshtui.change.bodies import clean, label_delta, merge_diff, peer_authentication_body
from meshtui.change.diff import change_diff, yaml_diff
from meshtui.change.plan import ObjectChange
from meshtui.model.convert import peer_authentication
from tests.objects import namespace, peer_auth

# JSON-like values without nulls: merge patch cannot express a null value, only a removal.
json_values = st.recursive(
    st.one_of(st.booleans(), st.integers(), st.text(max_size=4)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@given(json_objects, json_objects)
def test_merge_diff_is_the_inverse_of_merge_patch(source: dict[str, Any], target: dict[str, Any]) -> None:
    assert merge_patch(source, merge_diff(source, target)) == target


@pytest.mark.parametrize(
    ("before", "after", "delta"),
    [
        ({"a": "1"}, {"a": "1"}, {}),
        ({"a": "1"}, {"a": "2", "b": "3"}, {"a": "2", "b": "3"}),
        (
            {"istio-injection": "enabled"},
            {"istio.io/rev": "x"},
            {"istio-injection": None, "istio.io/rev": "x"},
        ),
    ],
)
def test_label_delta(before: dict[str, str], after: dict[str, str], delta: dict[str, str | None]) -> None:
    assert label_delta(namespace("n", **before), namespace("n", **after)) == delta


def test_clean_drops_server_noise_only() -> None:
    body = peer_auth("shop", "default", mode="STRICT")
    body["metadata"].update(
        resourceVersion="7",
        uid="u",
        managedFields=[{"manager": "kubectl"}],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "team-a"},
    )
    body["status"] = {"conditions": []}
    assert clean(body) == {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "shop", "annotations": {"owner": "team-a"}},
        "spec": {"mtls": {"mode": "STRICT"}},
    }


def test_rebuilt_policy_body_round_trips_through_the_converter() -> None:
    raw = peer_auth("shop", "w", mode="STRICT", selector={"app": "web"}, ports={"8080": "PERMISSIVE"})
    model = peer_authentication(raw)
    rebuilt = peer_authentication(
        peer_authentication_body(
            type(model)(
                **{
                    f: getattr(model, f)
                    for f in ("namespace", "name", "created", "selector", "mode", "port_level")
                }
            )
        )
    )
    assert rebuilt == model


def test_yaml_diff_shows_the_change_without_resource_version_noise() -> None:
    before = peer_auth("shop", "default", mode="PERMISSIVE")
    before["metadata"]["resourceVersion"] = "41"
    after = peer_auth("shop", "default", mode="STRICT")
    after["metadata"]["resourceVersion"] = "42"
    diff = yaml_diff(before, after, label="PeerAuthentication shop/default")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-    mode: PERMISSIVE", "+    mode: STRICT"]
    assert "resourceVersion" not in diff


def test_created_object_diff_is_all_additions() -> None:
    change = ObjectChange(
        "PeerAuthentication", "shop", "default", None, peer_auth("shop", "default", mode="STRICT"), "create"
    )
    body = change_diff(change).splitlines()[3:]
    assert body and all(line.startswith("+") for line in body)

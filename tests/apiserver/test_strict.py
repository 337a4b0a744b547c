"""Where kube-apiserver is strict, the in-process server is too: each case with the server's own words."""

from __future__ import annotations

from typing import Any

import pytest

from meshtui.demo.apiserver import Emulator
from meshtui.demo.apiserver import store as store_module
from tests.apiserver.conftest import Http, namespace, peer_authentication

PA = "/apis/security.istio.io/v1/namespaces/shop/peerauthentications"
NS = "/api/v1/namespaces"


def test_create_with_a_resource_version_is_refused(api: Http) -> None:
    body = peer_authentication("shop", "p")
    body["metadata"]["resourceVersion"] = "42"
    response = api.request("POST", PA, body)
    assert response.status == 500
    assert response.json()["message"] == "resourceVersion should not be set on objects to be created"
    assert api.request("POST", PA, {**body, "metadata": {**body["metadata"], "resourceVersion": ""}}).status == 201


def test_put_of_a_custom_resource_must_name_its_resource_version(api: Http) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "p")).json()
    unconditional = {**created, "metadata": {k: v for k, v in created["metadata"].items() if k != "resourceVersion"}}
    response = api.request("PUT", f"{PA}/p", unconditional)
    assert response.status == 422
    assert response.json()["message"] == ('peerauthentications.security.istio.io "p" is invalid: '
                                          "metadata.resourceVersion: Invalid value: 0x0: must be specified for an "
                                          "update")
    # Built-in kinds allow unconditional updates.
    namespace_body = api.get(f"{NS}/legacy").json()
    del namespace_body["metadata"]["resourceVersion"]
    assert api.request("PUT", f"{NS}/legacy", namespace_body).status == 200


@pytest.mark.parametrize(("api_version", "kind", "status", "message"), [
    ("networking.istio.io/v1", "PeerAuthentication", 400,
     "the API version in the data (networking.istio.io/v1) does not match the expected API version "
     "(security.istio.io/v1)"),
    ("security.istio.io/v9", "PeerAuthentication", 400,
     "the API version in the data (security.istio.io/v9) does not match the expected API version "
     "(security.istio.io/v1)"),
    ("security.istio.io/v1", "AuthorizationPolicy", 422,
     'PeerAuthentication.security.istio.io "p" is invalid: kind: Invalid value: "AuthorizationPolicy": '
     "must be PeerAuthentication"),
])
def test_a_body_of_another_type_is_refused(api: Http, api_version: str, kind: str, status: int,
                                           message: str) -> None:
    body = {**peer_authentication("shop", "p"), "apiVersion": api_version, "kind": kind}
    response = api.request("POST", PA, body)
    assert (response.status, response.json()["message"]) == (status, message)
    # An older served version of the same group is accepted, as the server converts it.
    assert api.request("POST", PA, {**body, "apiVersion": "security.istio.io/v1beta1",
                                    "kind": "PeerAuthentication"}).status == 201


@pytest.mark.parametrize(("labels", "field", "fragment"), [
    ({"bad key": "x"}, "metadata.labels", 'Invalid value: "bad key": name part must consist of'),
    ({"app": "not ok!"}, "metadata.labels", 'Invalid value: "not ok!": a valid label must be an empty string'),
    ({"app": "x" * 64}, "metadata.labels", "must be no more than 63 characters"),
    ({"Example.COM/app": "x"}, "metadata.labels", "prefix part a lowercase RFC 1123 subdomain"),
])
def test_invalid_labels_are_422(api: Http, labels: dict[str, str], field: str, fragment: str) -> None:
    response = api.request("POST", NS, namespace("team", **labels))
    assert response.status == 422
    causes = response.json()["details"]["causes"]
    assert any(c["field"] == field and fragment in c["message"] for c in causes), causes


@pytest.mark.parametrize("value", [1, ["a"], {"a": "b"}, True])
def test_labels_of_another_type_do_not_decode(api: Http, value: Any) -> None:
    body = namespace("team")
    body["metadata"]["labels"] = {"app": value}
    response = api.request("POST", NS, body)
    assert response.status == 400
    assert response.json()["message"].startswith('Namespace in version "v1" cannot be handled as a Namespace: '
                                                 "json: cannot unmarshal")


def test_a_patch_that_renames_is_refused(api: Http) -> None:
    api.request("POST", PA, peer_authentication("shop", "p"))
    response = api.request("PATCH", f"{PA}/p", {"metadata": {"name": "q"}},
                           content_type="application/merge-patch+json")
    assert response.status == 400
    assert response.json()["message"] == "the name of the object (q) does not match the name on the URL (p)"


def test_watch_history_is_compacted_by_size(api: Http, emulator: Emulator,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "HISTORY_EVENTS", 5)
    start = emulator.resource_version
    for n in range(10):
        emulator.add(namespace(f"n{n}"))
    response = api.get(f"{NS}?watch=1&resourceVersion={start}&timeoutSeconds=1")
    event = response.json()
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
    recent = api.get(f"{NS}?watch=1&resourceVersion={emulator.resource_version - 2}&timeoutSeconds=1")
    assert recent.status == 200 and b'"ADDED"' in recent.body

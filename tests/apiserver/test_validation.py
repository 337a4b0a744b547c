"""Custom resource validation from the Istio CRDs: OpenAPI schema, CEL rules, pruning, names."""

from __future__ import annotations

from typing import Any

import pytest

from meshtui.demo.apiserver import Emulator, cel
from meshtui.demo.apiserver.resources import load_crds
from tests.apiserver.conftest import Http, peer_authentication
from tests.shared_fixtures import ISTIO_CRDS

PA = "/apis/security.istio.io/v1/namespaces/shop/peerauthentications"
NEEDS_SELECTOR = 'spec: Invalid value: "object": portLevelMtls requires selector'


@pytest.mark.parametrize(("spec", "detail"), [
    ({"mtls": {"mode": "STRICT"}, "portLevelMtls": {"8080": {"mode": "DISABLE"}}}, NEEDS_SELECTOR),
    ({"selector": {"matchLabels": {}}, "portLevelMtls": {"8080": {"mode": "DISABLE"}}}, NEEDS_SELECTOR),
    ({"mtls": {"mode": "NOPE"}},
     'spec.mtls.mode: Unsupported value: "NOPE": supported values: "UNSET", "DISABLE", "PERMISSIVE", '
     '"STRICT"'),
    ({"mtls": "STRICT"},
     'spec.mtls: Invalid value: "string": spec.mtls in body must be of type object: "string"'),
    ({"selector": {"matchLabels": {"app": "web"}}, "portLevelMtls": {"70000": {"mode": "DISABLE"}}},
     'spec.portLevelMtls: Invalid value: "object": port must be between 1-65535'),
    ({"selector": {"matchLabels": {"app": "web*"}}},
     'spec.selector.matchLabels[app]: Invalid value: "string": wildcard not allowed in label value match'),
    ({"selector": {"matchLabels": {"ap*": "web"}}},
     'spec.selector.matchLabels: Invalid value: "object": wildcard not allowed in label key match'),
    ({"portLevelMtls": {}},
     "[spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at least 1 properties, "
     f"{NEEDS_SELECTOR}]"),
])
def test_invalid_peer_authentications_get_the_apiservers_422(api: Http, spec: dict[str, Any],
                                                             detail: str) -> None:
    body = {**peer_authentication("shop", "x"), "spec": spec}
    response = api.request("POST", PA, body)
    assert response.status == 422
    status = response.json()
    assert status["message"] == f'PeerAuthentication.security.istio.io "x" is invalid: {detail}'
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "PeerAuthentication"
    assert status["details"]["group"] == "security.istio.io"
    causes = ", ".join(f"{c['field']}: {c['message']}" for c in status["details"]["causes"])
    assert causes == detail.strip("[]")


def test_valid_port_level_mtls_with_a_selector_is_stored(api: Http) -> None:
    body = peer_authentication("shop", "x", selector={"matchLabels": {"app": "web"}},
                               portLevelMtls={"8080": {"mode": "DISABLE"}})
    assert api.request("POST", PA, body).status == 201


def test_unknown_fields_are_pruned_with_a_warning(api: Http, emulator: Emulator) -> None:
    body = peer_authentication("shop", "x", extra=True)
    response = api.request("POST", PA, body)
    assert response.status == 201
    assert response.headers["Warning"] == '299 - "unknown field \\"spec.extra\\""'
    assert "extra" not in emulator.get("PeerAuthentication", "shop", "x")["spec"]


def test_strict_field_validation_rejects_unknown_fields(api: Http) -> None:
    response = api.request("POST", f"{PA}?fieldValidation=Strict", peer_authentication("shop", "x", extra=1))
    assert response.status == 400
    assert response.json()["message"] == (
        'PeerAuthentication in version "v1" cannot be handled as a PeerAuthentication: strict decoding '
        'error: unknown field "spec.extra"')


def test_status_is_kept_as_given_because_it_preserves_unknown_fields(api: Http) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "x")).json()
    body = {**created, "status": {"anything": 1}}
    updated = api.request("PUT", f"{PA}/x", body).json()
    assert "status" not in updated  # the status subresource owns it: main-resource writes ignore it


@pytest.mark.parametrize(("path", "body", "message"), [
    (PA, peer_authentication("shop", "Bad_Name"),
     'PeerAuthentication.security.istio.io "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
     "a lowercase RFC 1123 subdomain must consist of"),
    ("/api/v1/namespaces", {"metadata": {"name": "has.dot"}},
     'Namespace "has.dot" is invalid: metadata.name: Invalid value: "has.dot": a lowercase RFC 1123 label'),
    ("/api/v1/namespaces", {"metadata": {}},
     'Namespace "" is invalid: metadata.name: Required value: name or generateName is required'),
])
def test_names_are_validated(api: Http, path: str, body: dict[str, Any], message: str) -> None:
    response = api.request("POST", path, body)
    assert response.status == 422
    assert response.json()["message"].startswith(message)


@pytest.mark.parametrize(("timeout", "valid"), [("10s", True), ("1h30m", True), ("500us", False),
                                               ("soon", False)])
def test_destination_rule_durations_use_the_cel_duration_rule(api: Http, timeout: str, valid: bool) -> None:
    rule = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "r"},
            "spec": {"host": "web", "subsets": [{"name": "v1", "trafficPolicy": {
                "connectionPool": {"http": {"idleTimeout": timeout}}}}]}}
    response = api.request("POST", "/apis/networking.istio.io/v1/namespaces/shop/destinationrules", rule)
    assert response.status == (201 if valid else 422)
    if not valid:
        assert response.json()["details"]["causes"][0]["field"] == \
            "spec.subsets[0].trafficPolicy.connectionPool.http.idleTimeout"


@pytest.mark.parametrize(("plural", "all_supported"), [
    ("peerauthentications", True), ("destinationrules", True), ("serviceentries", False)])
def test_unsupported_cel_rules_are_reported(plural: str, all_supported: bool) -> None:
    rt = next(rt for rt in load_crds(ISTIO_CRDS) if rt.plural == plural)
    assert rt.schemas is not None
    assert (cel.unsupported_rules(rt.schemas["v1"]) == set()) is all_supported

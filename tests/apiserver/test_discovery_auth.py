"""Discovery documents, authentication and the failure knobs, over raw HTTP."""

from __future__ import annotations

import pytest

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http


def test_version_reports_a_1_30_server(api: Http) -> None:
    body = api.get("/version").json()
    assert (body["major"], body["minor"]) == ("1", "30")


def test_core_discovery_lists_v1_and_its_resources(api: Http) -> None:
    assert api.get("/api").json()["versions"] == ["v1"]
    core = api.get("/api/v1").json()
    assert "apiVersion" not in core  # the core group's list has none, unlike named groups
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["pods"]["kind"] == "Pod" and "watch" in by_name["pods"]["verbs"]
    assert {"pods/log", "pods/exec", "pods/proxy"} <= by_name.keys()


@pytest.mark.parametrize(("group", "preferred", "versions"), [
    ("apps", "v1", ["v1"]),
    ("security.istio.io", "v1", ["v1", "v1beta1"]),
    ("networking.istio.io", "v1", ["v1", "v1beta1", "v1alpha3"]),
])
def test_group_list_gives_served_versions_preferred_first(api: Http, group: str, preferred: str,
                                                          versions: list[str]) -> None:
    groups = {g["name"]: g for g in api.get("/apis").json()["groups"]}
    assert groups[group]["preferredVersion"]["version"] == preferred
    assert [v["version"] for v in groups[group]["versions"]] == versions


@pytest.mark.parametrize(("path", "kind", "namespaced"), [
    ("/apis/security.istio.io/v1", "PeerAuthentication", True),
    ("/apis/security.istio.io/v1beta1", "AuthorizationPolicy", True),
    ("/apis/networking.istio.io/v1", "DestinationRule", True),
    ("/apis/networking.istio.io/v1alpha3", "Sidecar", True),
    ("/apis/apps/v1", "Deployment", True),
])
def test_resource_lists_come_from_the_crds(api: Http, path: str, kind: str, namespaced: bool) -> None:
    body = api.get(path).json()
    entry = next(r for r in body["resources"] if r["kind"] == kind and "/" not in r["name"])
    assert body["apiVersion"] == "v1" and body["groupVersion"] == path.removeprefix("/apis/")
    assert entry["namespaced"] is namespaced
    assert set(entry["verbs"]) >= {"get", "list", "watch", "create", "update", "patch", "delete"}


@pytest.mark.parametrize("path", ["/apis/security.istio.io", "/apis/security.istio.io/v1",
                                  "/apis/networking.istio.io/v1/namespaces/shop/virtualservices"])
def test_without_istio_the_groups_are_absent(path: str) -> None:
    with Emulator(istio=False) as emu:
        api = Http(emu)
        assert api.get(path).status == 404
        names = {g["name"] for g in api.get("/apis").json()["groups"]}
        assert not any(name.endswith("istio.io") for name in names)
        assert api.get("/api/v1/namespaces").status == 200


def test_unknown_resource_in_a_served_group_is_a_status_404(api: Http) -> None:
    response = api.get("/api/v1/widgets")
    assert response.status == 404
    assert response.json()["reason"] == "NotFound"


@pytest.mark.parametrize("token", ["", "expired-token"])
def test_a_wrong_token_gets_401_status(api: Http, token: str) -> None:
    response = api.get("/api/v1/pods", token=token)
    assert response.status == 401
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_requests_are_logged_without_the_authorization_header(api: Http, emulator: Emulator) -> None:
    api.get("/api/v1/namespaces?limit=5&labelSelector=a%3Db")
    last = emulator.requests[-1]
    assert (last.method, last.path, last.query) == ("GET", "/api/v1/namespaces", {"limit": "5",
                                                                                 "labelSelector": "a=b"})
    assert not any(k.lower() == "authorization" for k in last.headers)


@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable"),
                                              (429, "TooManyRequests")])
def test_fail_next_fails_exactly_n_requests(api: Http, emulator: Emulator, code: int, reason: str) -> None:
    emulator.fail_next(2, code)
    assert [api.get("/api/v1/namespaces").status for _ in range(3)] == [code, code, 200]
    emulator.fail_next(1, code)
    assert api.get("/api/v1/namespaces").json()["reason"] == reason


@pytest.mark.parametrize(("verb", "resource", "namespace", "method", "path", "body", "message"), [
    ("patch", "namespaces", None, "PATCH", "/api/v1/namespaces/shop", {},
     'namespaces "shop" is forbidden: User "tester" cannot patch resource "namespaces" in API group "" '
     'in the namespace "shop"'),
    ("list", "pods", None, "GET", "/api/v1/pods", None,
     'pods is forbidden: User "tester" cannot list resource "pods" in API group "" at the cluster scope'),
    ("delete", "peerauthentications", "shop", "DELETE",
     "/apis/security.istio.io/v1/namespaces/shop/peerauthentications/default", None,
     'peerauthentications.security.istio.io "default" is forbidden: User "tester" cannot delete resource '
     '"peerauthentications" in API group "security.istio.io" in the namespace "shop"'),
    ("get", "pods/log", "shop", "GET", "/api/v1/namespaces/shop/pods/web/log", None,
     'pods "web" is forbidden: User "tester" cannot get resource "pods/log" in API group "" in the '
     'namespace "shop"'),
])
def test_deny_answers_403_with_the_rbac_message(api: Http, emulator: Emulator, verb: str, resource: str,
                                                namespace: str | None, method: str, path: str,
                                                body: dict | None, message: str) -> None:
    emulator.deny(verb, resource, namespace)
    response = api.request(method, path, body, content_type="application/merge-patch+json")
    assert response.status == 403
    status = response.json()
    assert (status["reason"], status["message"]) == ("Forbidden", message)


def test_deny_in_one_namespace_leaves_the_others_alone(api: Http, emulator: Emulator) -> None:
    emulator.deny("list", "pods", "shop")
    assert api.get("/api/v1/namespaces/shop/pods").status == 403
    assert api.get("/api/v1/namespaces/legacy/pods").status == 200


@pytest.mark.parametrize(("attributes", "allowed"), [
    ({"verb": "patch", "resource": "namespaces"}, False),
    ({"verb": "get", "resource": "namespaces"}, True),
    ({"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "shop"}, False),
    ({"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "legacy"}, True),
])
def test_self_subject_access_review_follows_deny(api: Http, emulator: Emulator, attributes: dict,
                                                 allowed: bool) -> None:
    emulator.deny("patch", "namespaces")
    emulator.deny("create", "pods/exec", "shop")
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": attributes}}
    response = api.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert response.status == 201
    assert response.json()["status"]["allowed"] is allowed


def test_allow_all_lifts_every_denial(api: Http, emulator: Emulator) -> None:
    emulator.deny("list", "pods")
    emulator.allow_all()
    assert api.get("/api/v1/pods").status == 200

"""Create / replace / patch / delete semantics and their Status errors, over raw HTTP."""

from __future__ import annotations

import pytest

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http, peer_authentication

PA = "/apis/security.istio.io/v1/namespaces/shop/peerauthentications"


def test_create_assigns_identity_and_the_next_global_resource_version(api: Http, emulator: Emulator) -> None:
    before = emulator.resource_version
    response = api.request("POST", f"{PA}?fieldManager=meshtui", peer_authentication("shop", "default"))
    assert response.status == 201
    meta = response.json()["metadata"]
    assert meta["resourceVersion"] == str(before + 1)
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert [(m["manager"], m["operation"]) for m in meta["managedFields"]] == [("meshtui", "Update")]
    assert emulator.get("PeerAuthentication", "shop", "default") is not None


def test_create_of_an_existing_name_is_already_exists(api: Http) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("POST", PA, peer_authentication("shop", "default"))
    assert response.status == 409
    assert response.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'peerauthentications.security.istio.io "default" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "default", "group": "security.istio.io", "kind": "peerauthentications"},
        "code": 409}


def test_create_in_a_missing_namespace_is_namespace_not_found(api: Http) -> None:
    response = api.request("POST", PA.replace("shop", "nowhere"), peer_authentication("nowhere", "x"))
    assert response.status == 404
    assert response.json()["message"] == 'namespaces "nowhere" not found'


def test_get_of_a_missing_object_is_not_found(api: Http) -> None:
    response = api.get(f"{PA}/ghost")
    assert response.status == 404
    assert response.json()["message"] == 'peerauthentications.security.istio.io "ghost" not found'
    assert response.json()["details"] == {"name": "ghost", "group": "security.istio.io",
                                          "kind": "peerauthentications"}


def test_put_with_a_stale_resource_version_is_a_conflict(api: Http) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "default")).json()
    fresh = api.request("PUT", f"{PA}/default", {**created, "spec": {"mtls": {"mode": "PERMISSIVE"}}})
    assert fresh.status == 200
    assert int(fresh.json()["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert fresh.json()["metadata"]["generation"] == 2
    stale = api.request("PUT", f"{PA}/default", {**created, "spec": {"mtls": {"mode": "DISABLE"}}})
    assert stale.status == 409
    assert stale.json()["message"] == (
        'Operation cannot be fulfilled on peerauthentications.security.istio.io "default": the object has '
        "been modified; please apply your changes to the latest version and try again")


def test_put_of_a_missing_object_is_not_found(api: Http) -> None:
    assert api.request("PUT", f"{PA}/ghost", peer_authentication("shop", "ghost")).status == 404


@pytest.mark.parametrize(("content_type", "patch", "mode"), [
    ("application/merge-patch+json", {"spec": {"mtls": {"mode": "PERMISSIVE"}}}, "PERMISSIVE"),
    ("application/json-patch+json", [{"op": "replace", "path": "/spec/mtls/mode", "value": "DISABLE"}],
     "DISABLE"),
])
def test_patch_formats(api: Http, content_type: str, patch: object, mode: str) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("PATCH", f"{PA}/default", patch, content_type=content_type)
    assert response.status == 200
    assert response.json()["spec"]["mtls"]["mode"] == mode


def test_strategic_merge_patch_is_unsupported_for_custom_resources(api: Http) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("PATCH", f"{PA}/default", {"spec": {}},
                           content_type="application/strategic-merge-patch+json")
    assert response.status == 415
    assert response.json()["reason"] == "UnsupportedMediaType"


def test_strategic_merge_patch_labels_a_namespace(api: Http, emulator: Emulator) -> None:
    response = api.request("PATCH", "/api/v1/namespaces/legacy?fieldManager=meshtui",
                           {"metadata": {"labels": {"istio-injection": "enabled"}}},
                           content_type="application/strategic-merge-patch+json")
    assert response.status == 200
    labels = emulator.get("Namespace", "", "legacy")["metadata"]["labels"]
    assert labels == {"kubernetes.io/metadata.name": "legacy", "istio-injection": "enabled"}


def test_merge_patch_with_null_removes_a_label(api: Http, emulator: Emulator) -> None:
    api.request("PATCH", "/api/v1/namespaces/shop", {"metadata": {"labels": {"istio-injection": None}}},
                content_type="application/merge-patch+json")
    assert "istio-injection" not in emulator.get("Namespace", "", "shop")["metadata"]["labels"]


def test_patch_carrying_a_stale_resource_version_is_a_conflict(api: Http) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("PATCH", f"{PA}/default", {"metadata": {"resourceVersion": "1"}},
                           content_type="application/merge-patch+json")
    assert response.status == 409


def test_a_no_op_patch_keeps_the_resource_version(api: Http, emulator: Emulator) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "default")).json()
    same = api.request("PATCH", f"{PA}/default", {"spec": {"mtls": {"mode": "STRICT"}}},
                       content_type="application/merge-patch+json").json()
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.parametrize(("method", "path_suffix", "body", "content_type", "code"), [
    ("POST", "", peer_authentication("shop", "new"), "application/json", 201),
    ("PUT", "/default", None, "application/json", 200),
    ("PATCH", "/default", {"spec": {"mtls": {"mode": "DISABLE"}}}, "application/merge-patch+json", 200),
    ("DELETE", "/default", None, "application/json", 200),
])
def test_dry_run_validates_answers_and_stores_nothing(api: Http, emulator: Emulator, method: str,
                                                      path_suffix: str, body: dict | None,
                                                      content_type: str, code: int) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "default")).json()
    stored = emulator.get("PeerAuthentication", "shop", "default")
    rv = emulator.resource_version
    if method == "PUT":
        body = {**created, "spec": {"mtls": {"mode": "DISABLE"}}}
    response = api.request(method, f"{PA}{path_suffix}?dryRun=All&fieldManager=meshtui", body,
                           content_type=content_type)
    assert response.status == code
    assert emulator.resource_version == rv
    assert emulator.get("PeerAuthentication", "shop", "default") == stored
    assert emulator.get("PeerAuthentication", "shop", "new") is None


def test_dry_run_still_validates(api: Http) -> None:
    response = api.request("POST", f"{PA}?dryRun=All", peer_authentication("shop", "bad", mode="NOPE"))
    assert response.status == 422


def test_delete_returns_a_success_status_for_custom_resources(api: Http, emulator: Emulator) -> None:
    uid = api.request("POST", PA, peer_authentication("shop", "default")).json()["metadata"]["uid"]
    response = api.request("DELETE", f"{PA}/default")
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "details": {"name": "default", "group": "security.istio.io",
                                           "kind": "peerauthentications", "uid": uid}}
    assert emulator.get("PeerAuthentication", "shop", "default") is None


def test_delete_with_a_stale_precondition_is_a_conflict(api: Http, emulator: Emulator) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("DELETE", f"{PA}/default", {"preconditions": {"resourceVersion": "1"}})
    assert response.status == 409
    assert response.json()["reason"] == "Conflict"
    assert emulator.get("PeerAuthentication", "shop", "default") is not None


def test_deleting_a_namespace_removes_its_contents(api: Http, emulator: Emulator) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    response = api.request("DELETE", "/api/v1/namespaces/shop")
    assert response.json()["status"]["phase"] == "Terminating"
    assert emulator.objects("PeerAuthentication") == []


def test_older_served_version_reads_the_same_object(api: Http) -> None:
    api.request("POST", PA, peer_authentication("shop", "default"))
    old = api.get("/apis/security.istio.io/v1beta1/namespaces/shop/peerauthentications/default").json()
    assert old["apiVersion"] == "security.istio.io/v1beta1"
    assert old["spec"]["mtls"]["mode"] == "STRICT"


def test_rollout_restart_patch_bumps_the_deployment_generation(api: Http, emulator: Emulator) -> None:
    emulator.add({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "shop"},
                  "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "web"}]}}}})
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-24T14:00:00Z"}}}}}
    response = api.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=meshtui",
                           patch, content_type="application/strategic-merge-patch+json")
    assert response.json()["metadata"]["generation"] == 2
    assert response.json()["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-11-24T14:00:00Z"}
    assert emulator.requests[-1].headers["Content-Type"] == "application/strategic-merge-patch+json"


@pytest.mark.parametrize(("method", "content_type"), [("PUT", "application/json"),
                                                      ("PATCH", "application/merge-patch+json")])
def test_status_subresource_changes_only_the_status(api: Http, emulator: Emulator, method: str,
                                                    content_type: str) -> None:
    created = api.request("POST", PA, peer_authentication("shop", "default")).json()
    body = {**created, "spec": {"mtls": {"mode": "DISABLE"}}, "status": {"observedGeneration": 1}}
    response = api.request(method, f"{PA}/default/status", body, content_type=content_type)
    assert response.status == 200
    stored = emulator.get("PeerAuthentication", "shop", "default")
    assert stored["status"] == {"observedGeneration": 1}
    assert stored["spec"] == {"mtls": {"mode": "STRICT"}}
    assert stored["metadata"]["generation"] == 1
    assert api.get(f"{PA}/default/status").json()["status"] == {"observedGeneration": 1}

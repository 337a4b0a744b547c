"""List semantics: selectors, pagination, typemeta on items, over raw HTTP."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http, peer_authentication, pod


@pytest.fixture
def pods(emulator: Emulator) -> Emulator:
    for ns in ("shop", "legacy"):
        emulator.add(pod(ns, "web", labels={"app": "web", "tier": "front"}))
        emulator.add(pod(ns, "db", labels={"app": "db", "version": "v2"}))
        emulator.add(pod(ns, "job", labels={}))
    return emulator


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", ["web"]),
    ("app==web", ["web"]),
    ("app!=web", ["db", "job"]),
    ("app in (web,db)", ["db", "web"]),
    ("app notin (web)", ["db", "job"]),
    ("version", ["db"]),
    ("!version", ["job", "web"]),
    ("app=web,tier=front", ["web"]),
    ("app in (web, db),!version", ["web"]),
    ("", ["db", "job", "web"]),
])
def test_label_selectors(api: Http, pods: Emulator, selector: str, expected: list[str]) -> None:
    body = api.get(f"/api/v1/namespaces/shop/pods?labelSelector={quote(selector)}").json()
    assert [item["metadata"]["name"] for item in body["items"]] == expected


@pytest.mark.parametrize(("selector", "expected"), [
    ("metadata.name=web", [("legacy", "web"), ("shop", "web")]),
    ("metadata.namespace=shop,metadata.name!=job", [("shop", "db"), ("shop", "web")]),
    ("status.phase=Running,metadata.name==db", [("legacy", "db"), ("shop", "db")]),
])
def test_field_selectors_on_an_all_namespaces_list(api: Http, pods: Emulator, selector: str,
                                                   expected: list[tuple[str, str]]) -> None:
    body = api.get(f"/api/v1/pods?fieldSelector={quote(selector)}").json()
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]] == expected


def test_unknown_field_selector_is_a_bad_request(api: Http) -> None:
    response = api.get("/apis/security.istio.io/v1/peerauthentications?fieldSelector=spec.mtls.mode%3DSTRICT")
    assert response.status == 400
    assert response.json()["message"] == ('"spec.mtls.mode" is not a known field selector: only '
                                          '"metadata.name", "metadata.namespace"')


def test_builtin_list_items_have_no_typemeta_but_custom_resources_do(api: Http, pods: Emulator) -> None:
    pods.add(peer_authentication("shop", "default"))
    pod_list = api.get("/api/v1/pods").json()
    assert (pod_list["kind"], pod_list["apiVersion"]) == ("PodList", "v1")
    assert all("kind" not in item and "apiVersion" not in item for item in pod_list["items"])
    pa_list = api.get("/apis/security.istio.io/v1/peerauthentications").json()
    assert pa_list["kind"] == "PeerAuthenticationList"
    assert [(i["apiVersion"], i["kind"]) for i in pa_list["items"]] == [
        ("security.istio.io/v1", "PeerAuthentication")]


def test_list_resource_version_is_the_global_counter(api: Http, pods: Emulator) -> None:
    assert api.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"] == str(pods.resource_version)


def test_pagination_walks_a_consistent_snapshot(api: Http, pods: Emulator) -> None:
    first = api.get("/api/v1/pods?limit=4").json()
    assert len(first["items"]) == 4
    assert first["metadata"]["remainingItemCount"] == 2
    pods.add(pod("shop", "zzz-late"))  # written after the first page: not part of this list
    second = api.get(f"/api/v1/pods?limit=4&continue={first['metadata']['continue']}").json()
    assert "continue" not in second["metadata"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    names = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in first["items"] + second["items"]]
    assert names == sorted(names) and len(names) == 6


def test_pagination_with_a_selector_fills_pages_and_omits_remaining_count(api: Http, pods: Emulator) -> None:
    first = api.get("/api/v1/pods?limit=1&labelSelector=app").json()
    assert [i["metadata"]["name"] for i in first["items"]] == ["db"]
    assert "remainingItemCount" not in first["metadata"]
    rest = api.get(f"/api/v1/pods?limit=10&labelSelector=app&continue={first['metadata']['continue']}").json()
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in rest["items"]] == [
        ("legacy", "web"), ("shop", "db"), ("shop", "web")]


def test_expired_continue_token_is_410(api: Http, pods: Emulator) -> None:
    token = api.get("/api/v1/pods?limit=2").json()["metadata"]["continue"]
    pods.expire_watch_history()
    response = api.get(f"/api/v1/pods?limit=2&continue={token}")
    assert response.status == 410
    assert response.json()["reason"] == "Expired"

"""The official `kubernetes` client against the emulator: the calls KubeBackend is built on."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import peer_authentication, pod

GROUP, VERSION, PLURAL = "security.istio.io", "v1", "peerauthentications"


@pytest.fixture
def api_client(emulator: Emulator, tmp_path: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(emulator.kubeconfig(tmp_path / "kubeconfig")), context="emulator")
    yield api
    api.close()


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def test_kubeconfig_with_a_wrong_token_is_401(emulator: Emulator, tmp_path: Path) -> None:
    api = config.new_client_from_config(str(emulator.kubeconfig(tmp_path / "kc", token="stale")))
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(api).list_namespace()
    assert caught.value.status == 401


def test_typed_list_and_raw_paginated_list(core: client.CoreV1Api, emulator: Emulator) -> None:
    for n in range(7):
        emulator.add(pod("shop", f"p{n}"))
    assert [p.metadata.name for p in core.list_namespaced_pod("shop").items] == [f"p{n}" for n in range(7)]
    names, token = [], None
    while True:
        raw = core.list_pod_for_all_namespaces(limit=3, _continue=token, _preload_content=False)
        page = json.loads(raw.data)
        names += [item["metadata"]["name"] for item in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"p{n}" for n in range(7)]
    assert [r.query.get("limit") for r in emulator.requests[-3:]] == ["3", "3", "3"]


def test_watch_stream_from_the_list_resource_version(core: client.CoreV1Api, emulator: Emulator) -> None:
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    threading.Timer(0.2, lambda: emulator.add(pod("shop", "late"))).start()
    events = watch.Watch().stream(core.list_namespaced_pod, "shop", resource_version=rv, timeout_seconds=2)
    first = next(events)
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "late")


def test_watch_raises_410_after_its_one_retry(core: client.CoreV1Api, emulator: Emulator) -> None:
    rv = core.list_namespace().metadata.resource_version
    emulator.add(pod("shop", "a"))
    emulator.expire_watch_history()
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(core.list_namespace, resource_version=rv):
            pass
    assert caught.value.status == 410
    assert [r.query.get("resourceVersion") for r in emulator.requests[-2:]] == [rv, rv]


def test_custom_objects_conflict_invalid_and_dry_run(custom: client.CustomObjectsApi,
                                                     emulator: Emulator) -> None:
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL,
                                                     peer_authentication("shop", "default"),
                                                     field_manager="meshtui")
    with pytest.raises(ApiException) as exists:
        custom.create_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL,
                                               peer_authentication("shop", "default"))
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"

    bad = peer_authentication("shop", "default", portLevelMtls={"80": {"mode": "DISABLE"}})
    with pytest.raises(ApiException) as invalid:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL, "default", bad, dry_run="All")
    assert invalid.value.status == 422
    assert "portLevelMtls requires selector" in json.loads(invalid.value.body)["message"]

    rv = emulator.resource_version
    preview = custom.patch_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL, "default",
                                                    {"spec": {"mtls": {"mode": "PERMISSIVE"}}}, dry_run="All",
                                                    field_manager="meshtui")
    assert preview["spec"]["mtls"]["mode"] == "PERMISSIVE"
    assert emulator.resource_version == rv
    patch_request = emulator.requests[-1]
    assert patch_request.query == {"dryRun": "All", "fieldManager": "meshtui"}
    assert patch_request.headers["Content-Type"] == "application/merge-patch+json"

    stale = {**created, "spec": {"mtls": {"mode": "DISABLE"}}}
    custom.replace_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL, "default",
                                            {**created, "spec": {"mtls": {"mode": "PERMISSIVE"}}})
    with pytest.raises(ApiException) as conflict:
        custom.replace_namespaced_custom_object(GROUP, VERSION, "shop", PLURAL, "default", stale)
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "Conflict"


def test_namespace_label_patch(core: client.CoreV1Api, emulator: Emulator) -> None:
    core.patch_namespace("legacy", {"metadata": {"labels": {"istio-injection": "enabled"}}},
                         field_manager="meshtui")
    request = emulator.requests[-1]
    assert request.headers["Content-Type"] == "application/strategic-merge-patch+json"
    assert request.body == {"metadata": {"labels": {"istio-injection": "enabled"}}}
    assert emulator.get("Namespace", "", "legacy")["metadata"]["labels"]["istio-injection"] == "enabled"


def test_log_follow_streams_until_the_pod_goes(core: client.CoreV1Api, emulator: Emulator) -> None:
    emulator.add(pod("shop", "web", "app", "istio-proxy"))
    emulator.append_log("shop", "web", "istio-proxy", "first")
    response = core.read_namespaced_pod_log("web", "shop", container="istio-proxy", follow=True,
                                            tail_lines=10, _preload_content=False)
    threading.Timer(0.2, lambda: emulator.append_log("shop", "web", "istio-proxy", "second")).start()
    threading.Timer(0.5, lambda: core.delete_namespaced_pod("web", "shop")).start()
    started = time.monotonic()
    received = b"".join(response.stream(amt=None))
    assert received.decode().splitlines() == ["first", "second"]
    assert time.monotonic() - started < 3


def test_discovery_via_the_client(api_client: client.ApiClient) -> None:
    groups = client.ApisApi(api_client).get_api_versions().groups
    preferred = {g.name: g.preferred_version.version for g in groups}
    assert preferred["security.istio.io"] == "v1" and preferred["networking.istio.io"] == "v1"
    resources = client.CustomObjectsApi(api_client).get_api_resources(GROUP, VERSION).resources
    assert {r.name for r in resources} >= {"peerauthentications", "authorizationpolicies"}


def test_self_subject_access_review_via_the_client(api_client: client.ApiClient, emulator: Emulator) -> None:
    emulator.deny("patch", "namespaces")
    review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=client.V1ResourceAttributes(verb="patch", resource="namespaces")))
    result = client.AuthorizationV1Api(api_client).create_self_subject_access_review(review)
    assert result.status.allowed is False

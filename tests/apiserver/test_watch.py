"""Watch streams over raw HTTP: events after a resourceVersion, selectors, bookmarks, 410, drops."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http, peer_authentication, pod

PA = "/apis/security.istio.io/v1/namespaces/shop/peerauthentications"


def read_events(api: Http, path: str, count: int, *, timeout: float = 5) -> list[dict[str, Any]]:
    connection, response = api.stream(path, timeout=timeout)
    try:
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        events = []
        while len(events) < count:
            line = response.readline()
            if not line:
                break
            events.append(json.loads(line))
        return events
    finally:
        connection.close()


def later(action: Any, delay: float = 0.2) -> None:
    threading.Timer(delay, action).start()


def test_watch_from_a_resource_version_sends_only_later_events(api: Http, emulator: Emulator) -> None:
    emulator.add(peer_authentication("shop", "old"))
    rv = emulator.resource_version
    later(lambda: api.request("POST", PA, peer_authentication("shop", "new")))
    later(lambda: api.request("DELETE", f"{PA}/old"), 0.4)
    events = read_events(api, f"{PA}?watch=1&resourceVersion={rv}", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "new"),
                                                                             ("DELETED", "old")]
    assert all(e["object"]["kind"] == "PeerAuthentication" for e in events)
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > rv


def test_watch_backlog_replays_history_after_the_resource_version(api: Http, emulator: Emulator) -> None:
    rv = emulator.resource_version
    emulator.add(pod("shop", "a"))
    emulator.add(pod("legacy", "b"))
    events = read_events(api, f"/api/v1/pods?watch=true&resourceVersion={rv}", 2)
    assert [(e["type"], e["object"]["metadata"]["name"], e["object"]["kind"]) for e in events] == [
        ("ADDED", "a", "Pod"), ("ADDED", "b", "Pod")]


def test_watch_without_resource_version_starts_with_the_current_objects(api: Http) -> None:
    events = read_events(api, "/api/v1/namespaces?watch=1", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "legacy"),
                                                                             ("ADDED", "shop")]


def test_label_selector_changes_become_added_and_deleted(api: Http, emulator: Emulator) -> None:
    rv = emulator.resource_version
    label = "/api/v1/namespaces/legacy"
    later(lambda: api.request("PATCH", label, {"metadata": {"labels": {"istio-injection": "enabled"}}},
                              content_type="application/merge-patch+json"))
    later(lambda: api.request("PATCH", label, {"metadata": {"labels": {"istio-injection": None}}},
                              content_type="application/merge-patch+json"), 0.4)
    path = f"/api/v1/namespaces?watch=1&resourceVersion={rv}&labelSelector=istio-injection"
    events = read_events(api, path, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "legacy"),
                                                                             ("DELETED", "legacy")]


def test_timeout_seconds_ends_the_stream(api: Http, emulator: Emulator) -> None:
    started = time.monotonic()
    events = read_events(api, f"/api/v1/pods?watch=1&resourceVersion={emulator.resource_version}"
                              "&timeoutSeconds=1", 1)
    assert events == []
    assert 0.9 < time.monotonic() - started < 3


def test_bookmarks_only_when_allowed(api: Http, emulator: Emulator) -> None:
    rv = emulator.resource_version
    later(emulator.bookmark)
    later(lambda: emulator.add(pod("shop", "a")), 0.4)
    path = f"/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
    with_bookmarks = read_events(api, path, 2)
    assert [e["type"] for e in with_bookmarks] == ["BOOKMARK", "ADDED"]
    assert with_bookmarks[0]["object"]["metadata"] == {"resourceVersion": str(rv)}
    later(emulator.bookmark)
    later(lambda: emulator.add(pod("shop", "b")), 0.4)
    without = read_events(api, f"/api/v1/pods?watch=1&resourceVersion={emulator.resource_version}", 1)
    assert [e["type"] for e in without] == ["ADDED"]


def test_watch_from_an_expired_resource_version_gets_an_error_event(api: Http, emulator: Emulator) -> None:
    rv = emulator.resource_version
    emulator.add(pod("shop", "a"))
    emulator.expire_watch_history()
    events = read_events(api, f"/api/v1/pods?watch=1&resourceVersion={rv}", 2)
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    assert events[0]["object"] == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": f"too old resource version: {rv} ({emulator.resource_version})",
                                   "reason": "Expired", "code": 410}


def test_watch_from_an_expired_resource_version_as_http_410(api: Http, emulator: Emulator) -> None:
    rv = emulator.resource_version
    emulator.add(pod("shop", "a"))
    emulator.expire_watch_history(as_http_error=True)
    response = api.get(f"/api/v1/pods?watch=1&resourceVersion={rv}")
    assert response.status == 410
    assert response.json()["reason"] == "Expired"


def test_watch_from_the_current_version_survives_expiry(api: Http, emulator: Emulator) -> None:
    emulator.expire_watch_history()
    later(lambda: emulator.add(pod("shop", "a")))
    events = read_events(api, f"/api/v1/pods?watch=1&resourceVersion={emulator.resource_version}", 1)
    assert [e["type"] for e in events] == ["ADDED"]


def test_drop_watches_closes_open_streams(api: Http, emulator: Emulator) -> None:
    later(emulator.drop_watches, 0.3)
    started = time.monotonic()
    events = read_events(api, f"/api/v1/pods?watch=1&resourceVersion={emulator.resource_version}", 1)
    assert events == [] and time.monotonic() - started < 3


@pytest.mark.parametrize("namespace_path", ["/api/v1/namespaces/shop/pods", "/api/v1/pods"])
def test_namespaced_watch_filters_other_namespaces(api: Http, emulator: Emulator,
                                                   namespace_path: str) -> None:
    rv = emulator.resource_version
    emulator.add(pod("legacy", "elsewhere"))
    emulator.add(pod("shop", "here"))
    events = read_events(api, f"{namespace_path}?watch=1&resourceVersion={rv}&timeoutSeconds=1", 2)
    expected = {"/api/v1/pods": ["elsewhere", "here"], "/api/v1/namespaces/shop/pods": ["here"]}
    assert [e["object"]["metadata"]["name"] for e in events] == expected[namespace_path]

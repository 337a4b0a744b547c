"""pods/log, pods/proxy and pods/exec over raw HTTP (exec through the official client's WebSocket)."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from meshtui.demo.apiserver import Emulator
from tests.apiserver.conftest import Http, pod

LOG = "/api/v1/namespaces/shop/pods/web/log"


@pytest.fixture
def web(emulator: Emulator) -> Emulator:
    emulator.add(pod("shop", "web", "app", "istio-proxy", init=("istio-init",)))
    old = datetime.now(UTC) - timedelta(minutes=10)
    for n in range(5):
        emulator.append_log("shop", "web", "istio-proxy", f"line {n}", at=old if n < 2 else None)
    return emulator


@pytest.mark.parametrize(("query", "expected"), [
    ("container=istio-proxy", ["line 0", "line 1", "line 2", "line 3", "line 4"]),
    ("container=istio-proxy&tailLines=2", ["line 3", "line 4"]),
    ("container=istio-proxy&tailLines=0", []),
    ("container=istio-proxy&sinceSeconds=60", ["line 2", "line 3", "line 4"]),
    ("container=istio-proxy&sinceSeconds=60&tailLines=1", ["line 4"]),
    ("container=app", []),
])
def test_log_options(api: Http, web: Emulator, query: str, expected: list[str]) -> None:
    response = api.get(f"{LOG}?{query}")
    assert response.status == 200
    assert response.body.decode().splitlines() == expected


def test_timestamps_prefix_rfc3339_nano(api: Http, web: Emulator) -> None:
    lines = api.get(f"{LOG}?container=istio-proxy&timestamps=true&tailLines=1").body.decode().splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z line 4", lines[0])


@pytest.mark.parametrize(("query", "message"), [
    ("", "a container name must be specified for pod web, choose one of: [app istio-proxy] or one of the "
         "init containers: [istio-init]"),
    ("container=nope", "container nope is not valid for pod web"),
])
def test_container_errors_are_bad_requests(api: Http, web: Emulator, query: str, message: str) -> None:
    response = api.get(f"{LOG}?{query}")
    assert response.status == 400
    assert (response.json()["reason"], response.json()["message"]) == ("BadRequest", message)


def test_single_container_pods_need_no_container_name(api: Http, emulator: Emulator) -> None:
    emulator.add(pod("shop", "solo"))
    emulator.append_log("shop", "solo", "app", "hello")
    assert api.get("/api/v1/namespaces/shop/pods/solo/log").body == b"hello\n"


def test_unknown_pod_is_404(api: Http, web: Emulator) -> None:
    response = api.get("/api/v1/namespaces/shop/pods/ghost/log")
    assert (response.status, response.json()["message"]) == (404, 'pods "ghost" not found')


def _follow(api: Http, lines: list[str]) -> threading.Thread:
    def run() -> None:
        connection, response = api.stream(f"{LOG}?container=istio-proxy&follow=true&tailLines=1")
        while line := response.readline():
            lines.append(line.decode().rstrip("\n"))
        connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("ending", ["end_log", "delete_pod"])
def test_follow_streams_appended_lines_until_the_log_ends(api: Http, web: Emulator, ending: str) -> None:
    lines: list[str] = []
    thread = _follow(api, lines)
    time.sleep(0.3)
    web.append_log("shop", "web", "istio-proxy", "fresh")
    web.append_log("shop", "web", "app", "not mine")
    time.sleep(0.3)
    assert thread.is_alive()
    if ending == "end_log":
        web.end_log("shop", "web", "istio-proxy")
    else:
        api.request("DELETE", "/api/v1/namespaces/shop/pods/web")
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert lines == ["line 4", "fresh"]


def test_proxy_returns_the_registered_text(api: Http, web: Emulator) -> None:
    web.set_proxy_response("shop", "web", 15020, "/stats/prometheus", "istio_requests_total 3\n")
    response = api.get("/api/v1/namespaces/shop/pods/web:15020/proxy/stats/prometheus")
    assert (response.status, response.body) == (200, b"istio_requests_total 3\n")
    assert api.get("/api/v1/namespaces/shop/pods/web:15020/proxy/other").status == 404
    assert api.get("/api/v1/namespaces/shop/pods/ghost:15020/proxy/stats/prometheus").status == 404


@pytest.fixture
def core(web: Emulator, tmp_path: Path) -> client.CoreV1Api:
    api_client = config.new_client_from_config(str(web.kubeconfig(tmp_path / "kubeconfig")))
    return client.CoreV1Api(api_client)


def test_exec_runs_the_registered_handler_over_websocket(core: client.CoreV1Api, web: Emulator) -> None:
    calls = []

    def handler(ns: str, pod_name: str, container: str, command: list[str]) -> tuple[str, str, int]:
        calls.append((ns, pod_name, container, command))
        return "server_info {}\n", "", 0

    web.on_exec(handler)
    command = ["pilot-agent", "request", "GET", "server_info"]
    output = stream(core.connect_get_namespaced_pod_exec, "web", "shop", container="istio-proxy",
                    command=command, stderr=True, stdin=False, stdout=True, tty=False)
    assert output == "server_info {}\n"
    assert calls == [("shop", "web", "istio-proxy", command)]


def test_exec_reports_a_non_zero_exit_code(core: client.CoreV1Api, web: Emulator) -> None:
    web.on_exec(lambda ns, p, c, cmd: ("", "no such path\n", 3))
    ws = stream(core.connect_get_namespaced_pod_exec, "web", "shop", container="istio-proxy",
                command=["pilot-agent", "request", "GET", "nope"], stderr=True, stdin=False, stdout=True,
                tty=False, _preload_content=False)
    ws.run_forever(timeout=5)
    assert ws.read_stderr() == "no such path\n"
    assert ws.returncode == 3


def test_a_follow_stream_ends_at_the_stop_and_leaves_later_lines_to_the_next_run(api: Http,
                                                                                 web: Emulator) -> None:
    lines: list[str] = []
    thread = _follow(api, lines)
    time.sleep(0.3)
    # All three happen before the stream's next wake-up: the stop still cuts between them.
    web.append_log("shop", "web", "istio-proxy", "last words")
    web.end_log("shop", "web", "istio-proxy")
    web.append_log("shop", "web", "istio-proxy", "after restart")
    thread.join(timeout=3)
    assert lines == ["line 4", "last words"]
    assert api.get(f"{LOG}?container=istio-proxy&tailLines=1").body == b"after restart\n"

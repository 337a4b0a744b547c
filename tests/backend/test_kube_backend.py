"""KubeBackend over real HTTP against the API emulator: what the shared contract cannot show — errors,
pagination, discovery, watch recovery, logs, proxy reads and the exact requests sent."""

from __future__ import annotations

import copy
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.backend.base import (
    BackendError,
    ConnectionFailed,
    Forbidden,
    LogOptions,
    NotFound,
    Unauthorized,
)
from meshtui.backend.kube import KubeBackend
from meshtui.backend.kube_resources import CORE_KINDS
from meshtui.demo.apiserver import Emulator
from meshtui.demo.mesh import ISTIO_VERSION
from meshtui.model.convert import parse_time
from meshtui.model.snapshot import ChangeEvent
from tests.backend.conftest import TOKEN, seeded_emulator
from tests.shared_fixtures import ISTIO_CRDS

WAIT = 5.0
MESH_NS = "tenant-a-orders"
PLAIN_NS = "legacy"


def first_pod(emu: Emulator, namespace: str) -> dict[str, Any]:
    return sorted((p for p in emu.objects("Pod") if p["metadata"]["namespace"] == namespace),
                  key=lambda p: p["metadata"]["name"])[0]


def add_pods(emu: Emulator, count: int) -> None:
    template = first_pod(emu, MESH_NS)
    for i in range(count):
        pod = copy.deepcopy(template)
        meta = {k: v for k, v in pod["metadata"].items() if k not in ("uid", "resourceVersion")}
        pod["metadata"] = {**meta, "name": f"bulk-{i:04d}"}
        emu.add(pod)


def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


class Watching:
    """KubeBackend.watch on a thread, recording events and statuses."""

    def __init__(self, backend: KubeBackend):
        self.events: list[ChangeEvent] = []
        self.statuses: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=backend.watch, args=(self.events.extend, self.stop,
                                                                   self.statuses.append), daemon=True)

    def __enter__(self) -> Watching:
        self.thread.start()
        wait_until(lambda: "watching" in self.statuses)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()

    def event(self, kind: str, name: str, type_: str) -> ChangeEvent:
        def find() -> ChangeEvent | None:
            return next((e for e in list(self.events)
                         if e.obj.ref.kind == kind and e.obj.name == name and e.type == type_), None)

        wait_until(lambda: find() is not None)
        found = find()
        assert found is not None
        return found


# -- connection errors -----------------------------------------------------------------------------

def test_wrong_token_is_unauthorized_naming_the_auth_method(emulator: Emulator, tmp_path: Path) -> None:
    path = emulator.kubeconfig(tmp_path / "config", token="expired-" + TOKEN)
    with pytest.raises(Unauthorized) as err:
        KubeBackend(kubeconfig=str(path)).connect()
    assert str(err.value) == (f"{emulator.url} rejected the credentials (401): "
                              "bearer token credentials expired or invalid")


def test_connection_refused_names_the_server(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emu = Emulator(istio=False)
    emu.url = f"http://127.0.0.1:{port}"
    path = emu.kubeconfig(tmp_path / "config")
    refused = f"cannot connect to http://127.0.0.1:{port}: connection refused"
    with pytest.raises(ConnectionFailed, match=refused):
        KubeBackend(kubeconfig=str(path), request_timeout=2).connect()


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server whose certificate no CA signed: what a kubeconfig with the wrong CA meets."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_tls_verification_failure_names_the_server(self_signed_server: str, tmp_path: Path) -> None:
    emu = Emulator(istio=False)
    emu.url = self_signed_server
    path = emu.kubeconfig(tmp_path / "config")
    with pytest.raises(ConnectionFailed) as err:
        KubeBackend(kubeconfig=str(path), request_timeout=5).connect()
    assert str(err.value) == f"TLS verification failed for {self_signed_server}: self-signed certificate"


def test_unknown_context_lists_the_available(kubeconfig: str) -> None:
    with pytest.raises(ConnectionFailed, match="context 'prod' not found in kubeconfig; available: emulator"):
        KubeBackend(kubeconfig=kubeconfig, context="prod").snapshot()


def test_forbidden_names_verb_resource_and_namespace(emulator: Emulator, kube: KubeBackend) -> None:
    emulator.deny("patch", "deployments", PLAIN_NS)
    with pytest.raises(Forbidden) as err:
        kube.restart_workload("Deployment", PLAIN_NS, "batch-reporter")
    message = str(err.value)
    assert message.startswith('deployments.apps "batch-reporter" is forbidden: ')
    assert all(part in message for part in ('cannot patch resource "deployments"', f'"{PLAIN_NS}"'))


def test_server_errors_are_one_line(emulator: Emulator, kube: KubeBackend) -> None:
    emulator.fail_next(1, 500)
    with pytest.raises(BackendError) as err:
        kube.get("Namespace", "", PLAIN_NS)
    assert err.value.status == 500 and "\n" not in str(err.value)


def test_no_message_or_request_log_line_carries_the_token(emulator: Emulator, kube: KubeBackend,
                                                          tmp_path: Path) -> None:
    bad = KubeBackend(kubeconfig=str(emulator.kubeconfig(tmp_path / "bad", token="x" + TOKEN)))
    messages = []
    for action in (bad.connect,
                   lambda: kube.patch("PeerAuthentication", PLAIN_NS, "missing", {"spec": {}})):
        with pytest.raises(BackendError) as err:
            action()
        messages.append(str(err.value))
    assert messages and not any(TOKEN in m for m in messages)


# -- discovery and lists ---------------------------------------------------------------------------

def test_connect_reads_the_control_plane(kube: KubeBackend, emulator: Emulator) -> None:
    info = kube.connect()
    assert (info.context, info.server, info.istio_installed, info.istio_version) == (
        "emulator", emulator.url, True, ISTIO_VERSION)
    assert kube.snapshot().mesh.revisions == ("default",)


def test_lists_are_paginated(emulator: Emulator, kube: KubeBackend) -> None:
    add_pods(emulator, 1100)
    snap = kube.snapshot()
    assert sum(1 for p in snap.pods.values() if p.name.startswith("bulk-")) == 1100
    pages = [r.query for r in emulator.requests if r.method == "GET" and r.path == "/api/v1/pods"]
    assert [q.get("limit") for q in pages] == ["500", "500", "500"]
    assert "continue" not in pages[0] and all(q.get("continue") for q in pages[1:])


def test_expired_continue_token_restarts_the_list(emulator: Emulator, kube: KubeBackend,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    add_pods(emulator, 600)
    http = kube._client()
    fetch = http.json
    continues: list[str | None] = []

    def compact_after_first_page(method: str, path: str, query: Any = (), *args: Any, **kwargs: Any) -> Any:
        continues.append(dict(query).get("continue"))
        doc = fetch(method, path, query, *args, **kwargs)
        if len(continues) == 1:
            emulator.expire_watch_history()
        return doc

    monkeypatch.setattr(http, "json", compact_after_first_page)
    pods, _ = kube._list(next(rk for rk in CORE_KINDS if rk.kind == "Pod"))
    assert len(pods) == len(emulator.objects("Pod"))
    assert [token is None for token in continues] == [True, False, True, False]


def test_istio_absent_still_serves_kubernetes(tmp_path: Path) -> None:
    emu = seeded_emulator(istio=False)
    emu.start()
    try:
        backend = KubeBackend(kubeconfig=str(emu.kubeconfig(tmp_path / "config")))
        assert backend.connect().istio_installed is False
        snap = backend.snapshot()
        assert snap.pods and snap.namespaces
        assert not snap.peer_authentications and not snap.mesh.istio_installed
        with pytest.raises(NotFound, match="Istio is not installed"):
            backend.get("PeerAuthentication", MESH_NS, "default")
    finally:
        emu.stop()


def _only_v1beta1(tmp_path: Path) -> Path:
    docs = [d for d in yaml.safe_load_all(ISTIO_CRDS.read_text()) if d]
    for crd in docs:
        versions = [v for v in crd["spec"]["versions"] if v["name"] != "v1"]
        if versions and len(versions) < len(crd["spec"]["versions"]):
            for v in versions:
                v["storage"] = v["name"] == "v1beta1"
            crd["spec"]["versions"] = versions
    path = tmp_path / "crds.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_discovery_falls_back_to_v1beta1(tmp_path: Path) -> None:
    emu = Emulator(crds=_only_v1beta1(tmp_path))
    emu.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": MESH_NS}})
    emu.add({"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
             "metadata": {"name": "default", "namespace": MESH_NS}, "spec": {"mtls": {"mode": "STRICT"}}})
    emu.start()
    try:
        backend = KubeBackend(kubeconfig=str(emu.kubeconfig(tmp_path / "config")))
        assert backend.snapshot().peer_authentications[(MESH_NS, "default")].mode == "STRICT"
        backend.patch("PeerAuthentication", MESH_NS, "default", {"spec": {"mtls": {"mode": "PERMISSIVE"}}})
        paths = {r.path for r in emu.requests}
        assert "/apis/security.istio.io/v1beta1/peerauthentications" in paths
        assert f"/apis/security.istio.io/v1beta1/namespaces/{MESH_NS}/peerauthentications/default" in paths
        assert not any(p.startswith("/apis/security.istio.io/v1/") for p in paths)
    finally:
        emu.stop()


def test_scoped_backend_reads_one_namespace(emulator: Emulator, kubeconfig: str) -> None:
    snap = KubeBackend(kubeconfig=kubeconfig, namespace=MESH_NS).snapshot()
    assert set(snap.namespaces) == {("", MESH_NS)}
    assert snap.pods and {p.namespace for p in snap.pods.values()} == {MESH_NS}
    assert any(r.path == f"/api/v1/namespaces/{MESH_NS}/pods" for r in emulator.requests)


def test_scoped_backend_still_sees_mesh_wide_policies(emulator: Emulator, kubeconfig: str) -> None:
    emulator.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                  "metadata": {"name": "default", "namespace": "istio-system"},
                  "spec": {"mtls": {"mode": "STRICT"}}})
    snap = KubeBackend(kubeconfig=kubeconfig, namespace="legacy").snapshot()
    assert ("istio-system", "default") in snap.peer_authentications
    assert {p.namespace for p in snap.pods.values()} == {"legacy"}


def test_scoped_backend_names_the_reads_rbac_refused(emulator: Emulator, kubeconfig: str) -> None:
    # A namespace-scoped user: pods and Istio policies in MESH_NS, not the Namespace, not the root namespace.
    emulator.deny("list", "namespaces")
    emulator.deny("list", "peerauthentications", "istio-system")
    snap = KubeBackend(kubeconfig=kubeconfig, namespace=MESH_NS).snapshot()
    assert [str(d) for d in snap.mesh.denied] == [f"Namespace {MESH_NS}", "PeerAuthentications in istio-system"]
    assert snap.mesh.labels_unknown(MESH_NS) is not None and snap.mesh.mesh_policies_unknown is not None
    assert snap.pods and ("", MESH_NS) in snap.namespaces  # what may be read is still read


def test_scoped_backend_with_read_access_denies_nothing(emulator: Emulator, kubeconfig: str) -> None:
    snap = KubeBackend(kubeconfig=kubeconfig, namespace=MESH_NS).snapshot()
    assert snap.mesh.denied == () and snap.mesh.labels_unknown(MESH_NS) is None


# -- watch -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_http_error", [False, True], ids=["error-event", "http-410"])
def test_gone_relists_and_emits_the_difference(emulator: Emulator, kube: KubeBackend,
                                               as_http_error: bool) -> None:
    kube.snapshot()
    emulator.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "appeared"}})
    kube.delete("PeerAuthentication", MESH_NS, "default")
    emulator.expire_watch_history(as_http_error=as_http_error)
    with Watching(kube) as w:
        w.event("Namespace", "appeared", "ADDED")
        w.event("PeerAuthentication", "default", "DELETED")
        # The difference is emitted while relisting; "watching" follows once the relist is done.
        wait_until(lambda: w.statuses[-1] == "watching")
    assert "relisting" in w.statuses


def test_watch_resumes_after_the_stream_drops(emulator: Emulator, kube: KubeBackend) -> None:
    kube.snapshot()
    with Watching(kube) as w:
        emulator.drop_watches()
        kube.label_namespace(PLAIN_NS, {"after": "drop"})
        w.event("Namespace", PLAIN_NS, "MODIFIED")
    watches = [r for r in emulator.requests
               if r.query.get("watch") == "true" and r.path == "/api/v1/namespaces"]
    assert len(watches) >= 2
    assert all(q.query.get("allowWatchBookmarks") == "true" and q.query.get("timeoutSeconds")
               for q in watches)
    # Each reconnect resumes from the newest resourceVersion seen, never from scratch.
    assert all(q.query.get("resourceVersion") for q in watches)


def test_watch_reports_reconnecting_and_backs_off(emulator: Emulator, kube: KubeBackend) -> None:
    kube.snapshot()
    with Watching(kube) as w:
        emulator.fail_next(15, 503)
        emulator.drop_watches()
        wait_until(lambda: any(s.startswith("reconnecting: watch dropped (") for s in w.statuses))
        wait_until(lambda: w.statuses[-1] == "watching", timeout=15)
    assert any("503" in s for s in w.statuses)


def test_idle_watch_uses_no_cpu(kube: KubeBackend) -> None:
    kube.snapshot()
    with Watching(kube) as w:
        # The emulator's handler threads are excluded: only the backend's own threads count.
        ours = [t for t in threading.enumerate() if t.name.startswith("watch-") or t is w.thread]
        clocks = [time.pthread_getcpuclockid(t.ident) for t in ours if t.ident is not None]
        start = sum(time.clock_gettime(c) for c in clocks)
        time.sleep(1.0)
        used = sum(time.clock_gettime(c) for c in clocks) - start
    # A polling loop would wake many times a second per kind; blocked reads cost nothing.
    assert len(ours) == 14 and used < 0.02  # caller, stop monitor and one thread per kind (12, waypoints too)


def test_watch_stops_promptly(kube: KubeBackend) -> None:
    kube.snapshot()
    w = Watching(kube)
    w.__enter__()
    started = time.monotonic()
    w.__exit__()
    assert time.monotonic() - started < 1.0


# -- logs ------------------------------------------------------------------------------------------

def read_lines(it: Iterator[str], count: int) -> list[str]:
    return [next(it) for _ in range(count)]


def test_proxy_logs_follow_with_options_and_stop(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)["metadata"]["name"]
    for i in range(5):
        emulator.append_log(MESH_NS, pod, "istio-proxy", f"line {i}")
    stop = threading.Event()
    lines = kube.proxy_logs(MESH_NS, pod, LogOptions(tail_lines=2, timestamps=True), stop)
    first = read_lines(lines, 2)
    assert [line.split(" ", 1)[1] for line in first] == ["line 3", "line 4"]
    assert parse_time(first[0].split(" ", 1)[0]).year > 2000
    emulator.append_log(MESH_NS, pod, "istio-proxy", "line 5")
    assert next(lines).endswith(" line 5")
    stopped = time.monotonic()
    threading.Timer(0.1, stop.set).start()
    assert list(lines) == []
    assert time.monotonic() - stopped < 2.5
    log_query = next(r.query for r in emulator.requests if r.path.endswith(f"/pods/{pod}/log"))
    assert log_query == {"container": "istio-proxy", "follow": "true", "tailLines": "2", "timestamps": "true"}


# A single read asks the pod only after the server refused the log request; following asks first.
@pytest.mark.parametrize("follow", [True, False])
def test_proxy_logs_need_a_sidecar(emulator: Emulator, kube: KubeBackend, follow: bool) -> None:
    pod = first_pod(emulator, PLAIN_NS)["metadata"]["name"]
    with pytest.raises(NotFound, match="has no istio-proxy container"):
        next(kube.proxy_logs(PLAIN_NS, pod, LogOptions(follow=follow), threading.Event()))


@pytest.mark.parametrize("follow", [True, False])
def test_logs_of_an_unknown_container_fail_at_once(emulator: Emulator, kube: KubeBackend, follow: bool) -> None:
    pod = first_pod(emulator, MESH_NS)["metadata"]["name"]
    with pytest.raises(NotFound, match=f"pod {MESH_NS}/{pod} has no container sidecar-x"):
        next(kube.proxy_logs(MESH_NS, pod, LogOptions(container="sidecar-x", follow=follow), threading.Event()))


def test_a_single_log_read_is_one_request(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)["metadata"]["name"]
    emulator.append_log(MESH_NS, pod, "istio-proxy", "one line")
    kube.connect()
    emulator.requests.clear()
    assert list(kube.proxy_logs(MESH_NS, pod, LogOptions(follow=False), threading.Event())) == ["one line"]
    assert [r.path for r in emulator.requests] == [f"/api/v1/namespaces/{MESH_NS}/pods/{pod}/log"]


def test_proxy_logs_of_a_native_sidecar(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)
    spec = pod["spec"]
    proxy = next(c for c in spec["containers"] if c["name"] == "istio-proxy")
    native = copy.deepcopy(pod)
    native["metadata"] = {"name": "native", "namespace": MESH_NS, "labels": pod["metadata"].get("labels", {})}
    native["spec"] = {**spec, "containers": [c for c in spec["containers"] if c["name"] != "istio-proxy"],
                      "initContainers": [{**proxy, "restartPolicy": "Always"}]}
    emulator.add(native)
    emulator.append_log(MESH_NS, "native", "istio-proxy", "from the native sidecar")
    stop = threading.Event()
    lines = kube.proxy_logs(MESH_NS, "native", LogOptions(), stop)
    assert next(lines) == "from the native sidecar"
    stop.set()


def test_proxy_logs_follow_a_restarted_proxy(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)
    name = pod["metadata"]["name"]
    emulator.append_log(MESH_NS, name, "istio-proxy", "before restart")
    stop = threading.Event()
    lines = kube.proxy_logs(MESH_NS, name, LogOptions(), stop)
    assert next(lines) == "before restart"
    restarted = copy.deepcopy(emulator.get("Pod", MESH_NS, name))
    assert restarted is not None
    for status in restarted["status"]["containerStatuses"]:
        if status["name"] == "istio-proxy":
            status["containerID"] = "containerd://restarted"
            status["restartCount"] = status.get("restartCount", 0) + 1
    emulator.end_log(MESH_NS, name, "istio-proxy")
    emulator.add(restarted)
    emulator.append_log(MESH_NS, name, "istio-proxy", "after restart")
    assert "after restart" in read_until(lines, "after restart")
    stop.set()
    log_queries = [r.query for r in emulator.requests if r.path.endswith(f"/pods/{name}/log")]
    assert len(log_queries) == 2 and "tailLines" not in log_queries[1]


def read_until(lines: Iterator[str], wanted: str) -> list[str]:
    seen = []
    for line in lines:
        seen.append(line)
        if line == wanted:
            break
    return seen


# -- proxy reads -----------------------------------------------------------------------------------

def test_proxy_stats_through_pods_proxy(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)["metadata"]["name"]
    text = 'istio_requests_total{response_code="200"} 7\n'
    emulator.set_proxy_response(MESH_NS, pod, 15020, "stats/prometheus", text)
    assert kube.proxy_stats(MESH_NS, pod) == text
    with pytest.raises(NotFound):
        kube.proxy_stats(MESH_NS, "no-such-pod")


def test_proxy_request_runs_pilot_agent(emulator: Emulator, kube: KubeBackend) -> None:
    pod = first_pod(emulator, MESH_NS)["metadata"]["name"]
    calls: list[tuple[str, str, str, list[str]]] = []

    def handler(namespace: str, name: str, container: str, command: list[str]) -> tuple[str, str, int]:
        calls.append((namespace, name, container, command))
        if command[-1] == "/certs":
            return '{"certificates": []}', "", 0
        return "", "error: unknown path\n", 1

    emulator.on_exec(handler)
    assert kube.proxy_request(MESH_NS, pod, "/certs") == '{"certificates": []}'
    assert calls == [(MESH_NS, pod, "istio-proxy", ["pilot-agent", "request", "GET", "/certs"])]
    with pytest.raises(BackendError, match="unknown path"):
        kube.proxy_request(MESH_NS, pod, "/nope")


# -- writes and RBAC -------------------------------------------------------------------------------

def test_writes_use_field_manager_dry_run_and_merge_patch(emulator: Emulator, kube: KubeBackend) -> None:
    kube.label_namespace(PLAIN_NS, {"istio-injection": "enabled"}, dry_run=True)
    kube.restart_workload("Deployment", PLAIN_NS, "batch-reporter")
    patches = [r for r in emulator.requests if r.method == "PATCH"]
    assert [(r.path, r.query, r.headers.get("Content-Type")) for r in patches] == [
        (f"/api/v1/namespaces/{PLAIN_NS}", {"fieldManager": "meshtui", "dryRun": "All"},
         "application/merge-patch+json"),
        (f"/apis/apps/v1/namespaces/{PLAIN_NS}/deployments/batch-reporter", {"fieldManager": "meshtui"},
         "application/merge-patch+json"),
    ]
    annotations = patches[1].body["spec"]["template"]["metadata"]["annotations"]
    stamp = annotations["kubectl.kubernetes.io/restartedAt"]
    assert abs(parse_time(stamp).timestamp() - time.time()) < 60


def test_can_i_sends_a_self_subject_access_review(emulator: Emulator, kube: KubeBackend) -> None:
    emulator.deny("create", "pods/exec", MESH_NS)
    access = kube.can_i("create", "pods/exec", "", MESH_NS)
    assert not access.allowed
    assert access.reason.startswith(f"may not create pods/exec in namespace {MESH_NS}")
    allowed = kube.can_i("create", "pods/exec", "", PLAIN_NS)
    assert allowed.allowed and allowed.reason == f"may create pods/exec in namespace {PLAIN_NS}"
    review = next(r.body for r in emulator.requests if r.path.endswith("/selfsubjectaccessreviews"))
    assert review["spec"]["resourceAttributes"] == {
        "verb": "create", "resource": "pods", "subresource": "exec", "group": "", "namespace": MESH_NS}


def test_switch_context_reconnects(emulator: Emulator, tmp_path: Path) -> None:
    other = seeded_emulator(istio=False)
    other.start()
    try:
        emulator.kubeconfig(tmp_path / "a", context="mesh")
        other.kubeconfig(tmp_path / "b", context="plain")
        backend = KubeBackend(kubeconfig=os.pathsep.join(str(tmp_path / n) for n in ("a", "b")))
        assert backend.contexts() == ["mesh", "plain"]
        assert backend.connect().istio_installed
        info = backend.switch_context("plain")
        assert (info.context, info.server, info.istio_installed) == ("plain", other.url, False)
        assert backend.context == "plain" and not backend.snapshot().peer_authentications
        with pytest.raises(ConnectionFailed, match="available: mesh, plain"):
            backend.switch_context("gone")
    finally:
        other.stop()

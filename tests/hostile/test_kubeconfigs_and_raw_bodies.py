"""Hostile kubeconfigs and raw API answers (any JSON, any status) over real HTTP: every failure is one
BackendError line without the planted token; nothing else escapes."""

from __future__ import annotations

import json
import tracemalloc

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.backend import kube_config
from meshtui.backend.base import BackendError
from meshtui.backend.kube import KubeBackend
from meshtui.text import safe_line
from tests.hostile.counter import PLANTED_TOKEN, count
from tests.hostile.safety import is_safe
from tests.hostile.slow_server import SlowServer, http_response
from tests.hostile.strategies import json_values, k8s_objects, nasty_text


def _maybe(draw: st.DrawFn, good: object) -> object:
    return draw(st.one_of(st.just(good), json_values))


@st.composite
def kubeconfigs(draw: st.DrawFn) -> object:
    user = {"token": PLANTED_TOKEN, "username": "admin", "password": f"{PLANTED_TOKEN}-pw"}
    config = {
        "apiVersion": "v1", "kind": "Config",
        "current-context": _maybe(draw, "c"),
        "clusters": _maybe(draw, [{"name": "k", "cluster": {"server": _maybe(draw, "http://127.0.0.1:1")}}]),
        "users": [{"name": "u", "user": _maybe(draw, user)}, {"name": "other", "user": {"token": PLANTED_TOKEN}}],
        "contexts": _maybe(draw, [{"name": _maybe(draw, "c"), "context": _maybe(draw, {"cluster": "k", "user": "u"})}]),
    }
    return draw(st.one_of(st.just(config), json_values))


def _assert_one_safe_line(exc: BaseException) -> None:
    text = str(exc)
    assert "\n" not in text and PLANTED_TOKEN not in text, text
    assert is_safe(safe_line(text))


@settings(max_examples=60)
@given(config=kubeconfigs(), as_text=st.booleans())
def test_hostile_kubeconfigs_fail_in_one_line(tmp_path_factory, config: object, as_text: bool) -> None:
    path = tmp_path_factory.mktemp("kc") / "config"
    path.write_text(json.dumps(config) if as_text else yaml.safe_dump(config))
    count("kubeconfigs")
    try:
        kube_config.list_contexts(str(path))
        backend = KubeBackend(kubeconfig=str(path), request_timeout=1)
        try:
            backend.connect()
        finally:
            backend.close()
    except BackendError as exc:
        _assert_one_safe_line(exc)


@given(text=nasty_text)
def test_kubeconfig_text_that_is_not_yaml(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("kc") / "config"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    count("kubeconfigs")
    try:
        kube_config.load(str(path))
    except BackendError as exc:
        _assert_one_safe_line(exc)


bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(k8s_objects(), max_size=4).map(
        lambda items: json.dumps({"kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}).encode()),
    st.binary(max_size=80),
    st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n),
    st.just(json.dumps({"message": f"Bearer {PLANTED_TOKEN} rejected", "kind": "Status"}).encode()),
)


@settings(max_examples=25)
@given(body=bodies, status=st.sampled_from(["200 OK", "400 Bad Request", "401 Unauthorized", "403 Forbidden",
                                            "404 Not Found", "410 Gone", "422 Unprocessable", "500 Oops", "302 Found"]))
def test_any_answer_from_the_api_server(tmp_path_factory, body: bytes, status: str) -> None:
    server = SlowServer(http_response(body, status), delay=0)
    path = tmp_path_factory.mktemp("kc") / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": server.url}}],
        "users": [{"name": "u", "user": {"token": PLANTED_TOKEN}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    }))
    backend = KubeBackend(kubeconfig=str(path), request_timeout=2)
    count("API answers")
    tracemalloc.start()
    try:
        backend.connect()
        snapshot = backend.snapshot()
        assert all(isinstance(s, str) for s in snapshot.skipped)
    except BackendError as exc:
        _assert_one_safe_line(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        backend.close()
        server.close()
    assert peak < 200_000_000

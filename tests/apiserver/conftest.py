"""Fixtures: a running emulator with two namespaces, and a small raw-HTTP client for it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from meshtui.demo.apiserver import Emulator
from tests.shared_fixtures import ISTIO_CRDS


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """Plain http.client requests with the emulator's bearer token (or another one)."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self.host = urlsplit(emulator.url).netloc

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                content_type: str = "application/json", timeout: float = 10) -> Response:
        connection = http.client.HTTPConnection(self.host, timeout=timeout)
        headers = {"Authorization": f"Bearer {self.emulator.token if token is None else token}",
                   "Content-Type": content_type, "Accept": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def stream(self, path: str, *, timeout: float = 10) -> tuple[http.client.HTTPConnection,
                                                                  http.client.HTTPResponse]:
        connection = http.client.HTTPConnection(self.host, timeout=timeout)
        connection.request("GET", path, headers={"Authorization": f"Bearer {self.emulator.token}"})
        return connection, connection.getresponse()

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(ns: str, name: str, *containers: str, labels: dict[str, str] | None = None,
        init: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": f"{c}:1"} for c in containers or ("app",)]}
    if init:
        spec["initContainers"] = [{"name": c, "image": f"{c}:1"} for c in init]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": spec, "status": {"phase": "Running"}}


def peer_authentication(ns: str, name: str, mode: str = "STRICT", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": ns}, "spec": {"mtls": {"mode": mode}, **spec}}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(crds=ISTIO_CRDS) as emu:
        emu.add(namespace("shop", **{"istio-injection": "enabled"}))
        emu.add(namespace("legacy"))
        yield emu


@pytest.fixture
def api(emulator: Emulator) -> Http:
    return Http(emulator)

"""Finding the proxy container as Istio does; log streaming over HTTP is in test_kube_backend.py."""

from __future__ import annotations

import pytest

from meshtui.backend.kube_logs import proxy_container, running_instance

APP = {"name": "app"}
PROXY = {"name": "istio-proxy"}
INIT = {"name": "istio-init"}
NATIVE = {**PROXY, "restartPolicy": "Always"}
CRASHING = {"waiting": {"reason": "CrashLoopBackOff"}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"containers": [APP, PROXY]}, "istio-proxy"),
        ({"containers": [APP], "initContainers": [INIT, NATIVE]}, "istio-proxy"),
        # An init container named istio-proxy without restartPolicy Always runs to completion: not a sidecar.
        ({"containers": [APP], "initContainers": [PROXY]}, None),
        ({"containers": [APP]}, None),
        ({}, None),
    ],
)
def test_proxy_container(spec: dict, expected: str | None) -> None:
    assert proxy_container({"spec": spec}) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"containerStatuses": [{"name": "istio-proxy", "containerID": "containerd://1",
                                 "state": {"running": {}}}]}, "containerd://1"),
        ({"initContainerStatuses": [{"name": "istio-proxy", "containerID": "containerd://2",
                                     "state": {"running": {}}}]}, "containerd://2"),
        ({"containerStatuses": [{"name": "istio-proxy", "state": CRASHING}]}, None),
        ({"containerStatuses": [{"name": "app", "state": {"running": {}}}]}, None),
        ({}, None),
    ],
)
def test_running_instance(status: dict, expected: str | None) -> None:
    assert running_instance({"status": status}, "istio-proxy") == expected

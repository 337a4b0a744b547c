"""The downstream-address resolver: pod IPs, node IPs, unknown addresses."""

from __future__ import annotations

import pytest

from meshtui.logs.clients import Client, ClientIndex, host_of
from meshtui.model import convert
from meshtui.model.objects import Pod


def pod(name: str, ip: str, *, ns: str = "legacy", node: str = "worker-1", host_ip: str = "172.18.0.3",
        phase: str = "Running", host_network: bool = False, rs: str = "batch-reporter-6d5c9") -> Pod:
    return Pod(ns, name, labels={"pod-template-hash": rs.rsplit("-", 1)[1]}, phase=phase, node=node, ip=ip,
               host_ip=host_ip, owner_kind="ReplicaSet", owner_name=rs, host_network=host_network)


INDEX = ClientIndex([
    pod("batch-reporter-6d5c9-x2k4p", "10.244.1.152"),
    pod("kube-proxy-abcde", "172.18.0.4", ns="kube-system", node="worker-2", host_ip="172.18.0.4",
        host_network=True, rs="kube-proxy-7f8"),
    pod("old-job-1", "10.244.1.153", phase="Succeeded", rs="old-job-9a"),
    pod("new-web-1", "10.244.1.153", ns="shop", rs="web-5b6"),
    pod("pending-1", "", node="", host_ip="", phase="Pending", rs="web-5b6"),
])


@pytest.mark.parametrize(
    ("address", "label", "description"),
    [
        ("10.244.1.152:43512", "legacy/batch-reporter", "legacy/batch-reporter (10.244.1.152)"),
        ("10.244.1.152", "legacy/batch-reporter", "legacy/batch-reporter (10.244.1.152)"),
        ("172.18.0.3:31999", "node worker-1 (NodePort/external)", "node worker-1 (NodePort/external) (172.18.0.3)"),
        ("172.18.0.4:5000", "node worker-2 (NodePort/external)", "node worker-2 (NodePort/external) (172.18.0.4)"),
        ("10.244.1.153:80", "shop/web", "shop/web (10.244.1.153)"),  # the running pod, not the finished one
        ("203.0.113.9:5555", "203.0.113.9", "203.0.113.9"),
        ("[fd00::7]:8080", "fd00::7", "fd00::7"),
    ],
)
def test_resolve(address: str, label: str, description: str) -> None:
    client = INDEX.resolve(address)
    assert client is not None
    assert (client.label, client.description) == (label, description)


def test_resolved_pod_names_pod_and_node() -> None:
    assert INDEX.resolve("10.244.1.152:1") == Client("10.244.1.152", "pod", "legacy", "batch-reporter",
                                                     "batch-reporter-6d5c9-x2k4p", "worker-1")


@pytest.mark.parametrize("address", [None, "", "-", "envoy://internal_client_address/", "unix:/var/run/x.sock"])
def test_absent_or_internal_addresses_resolve_to_nothing(address: str | None) -> None:
    assert INDEX.resolve(address) is None


@pytest.mark.parametrize(
    ("address", "host"),
    [("10.0.0.1:443", "10.0.0.1"), ("[fd00::1]:443", "fd00::1"), ("envoy://x/", None), ("", None),
     ("fd00::1", None), ("10.0.0.1", "10.0.0.1"), (None, None)],
)
def test_host_of(address: str | None, host: str | None) -> None:
    assert host_of(address) == host


def test_empty_index_keeps_the_address() -> None:
    assert ClientIndex().resolve("10.0.0.1:80") == Client("10.0.0.1")


def test_indexes_compare_by_what_they_resolve() -> None:
    a = ClientIndex([pod("batch-reporter-6d5c9-x2k4p", "10.244.1.152")])
    b = ClientIndex([pod("batch-reporter-6d5c9-x2k4p", "10.244.1.152")])
    c = ClientIndex([pod("batch-reporter-6d5c9-zzzzz", "10.244.1.152")])
    assert a == b and a != c


def test_label_in_own_namespace_is_the_workload() -> None:
    client = INDEX.resolve("10.244.1.152:1")
    assert client is not None
    assert (client.label_in("legacy"), client.label_in("shop")) == ("batch-reporter", "legacy/batch-reporter")
    node = INDEX.resolve("172.18.0.3:1")
    assert node is not None and node.label_in("legacy") == node.label


def test_node_ips_come_from_the_pods_status() -> None:
    # What the API server sends: the resolver needs status.hostIP carried into the model.
    pod_object = {
        "metadata": {"namespace": "shop", "name": "web-5b6c7d8f9-abcde",
                     "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5b6c7d8f9"}],
                     "labels": {"pod-template-hash": "5b6c7d8f9"}},
        "spec": {"nodeName": "kind-worker2", "containers": [{"name": "web", "image": "web"}]},
        "status": {"phase": "Running", "podIP": "10.244.2.7", "hostIP": "172.18.0.5"},
    }
    index = ClientIndex([convert.pod(pod_object)])
    assert index.resolve("172.18.0.5:30080").label == "node kind-worker2 (NodePort/external)"
    assert index.resolve("10.244.2.7:41000").label == "shop/web"

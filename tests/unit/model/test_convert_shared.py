"""Pods converted from separately decoded lists share the texts they repeat (memory at 50,000 pods)."""

from __future__ import annotations

import json

from meshtui.model.convert import from_k8s
from meshtui.model.objects import Pod

POD = {
    "kind": "Pod",
    "metadata": {"name": "cart-1", "namespace": "shop", "labels": {"app": "cart", "version": "v1"},
             "ownerReferences": [{"kind": "ReplicaSet", "name": "cart-6d4f"}]},
    "spec": {"nodeName": "worker-1", "serviceAccountName": "cart",
             "containers": [{"name": "istio-proxy", "image": "istio/proxyv2:1.24.2",
                             "ports": [{"containerPort": 15090, "name": "http-envoy-prom"}]}]},
    "status": {"phase": "Running", "podIP": "10.0.0.1", "hostIP": "172.18.0.3",
               "containerStatuses": [{"name": "istio-proxy", "ready": True, "state": {"running": {}}}]},
}


def _decoded() -> Pod:
    # json.loads gives every document its own string objects, as a page of a list does.
    pod = from_k8s(json.loads(json.dumps(POD)))
    assert isinstance(pod, Pod)
    return pod


def test_repeated_texts_are_one_object() -> None:
    a, b = _decoded(), _decoded()
    assert a == b
    pairs = [
        (a.namespace, b.namespace), (a.node, b.node), (a.host_ip, b.host_ip), (a.phase, b.phase),
        (a.service_account, b.service_account), (a.owner_kind, b.owner_kind), (a.owner_name, b.owner_name),
        (a.containers[0].image, b.containers[0].image), (a.containers[0].name, b.containers[0].name),
        (a.containers[0].ports[0].name, b.containers[0].ports[0].name),
    ]
    pairs += [(ka, kb) for ka, kb in zip(a.labels, b.labels, strict=True)]
    pairs += [(va, vb) for va, vb in zip(a.labels.values(), b.labels.values(), strict=True)]
    assert all(x is y for x, y in pairs), [x for x, y in pairs if x is not y]


def test_sharing_refuses_no_pod_taken_before() -> None:
    odd = json.loads(json.dumps(POD))
    odd["spec"]["nodeName"] = 5
    pod = from_k8s(odd)
    assert isinstance(pod, Pod) and pod.node == 5

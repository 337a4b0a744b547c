"""A small mesh on the API emulator for TLS check tests: pods with and without sidecars, a node
address, istiod, a Service and a STRICT canary; plus Istio metric lines and access-log lines."""

from __future__ import annotations

import json
from typing import Any

from meshtui.demo.apiserver import Emulator

SHOP, LEGACY = "shop", "legacy"
CERT_ID = "spiffe://cluster.local/ns/shop/sa/inventory"


def pod_json(namespace: str, name: str, ip: str, app: str, *, sidecar: bool = True, ports: tuple[int, ...] = (3001,),
             sa: str = "default", host_network: bool = False, node: str = "node-a",
             labels: dict[str, str] | None = None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = [
        {"name": "app", "image": "example/app:1", "ports": [{"containerPort": p} for p in ports]}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app, **(labels or {})},
                         "creationTimestamp": "2026-11-01T00:00:00Z",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": app,
                                              "uid": f"uid-{app}", "controller": True}]},
            "spec": {"containers": containers, "serviceAccountName": sa, "nodeName": node,
                     "hostNetwork": host_network},
            "status": {"phase": "Running", "podIP": ip}}


def metric(security: str, count: int, workload: str = "unknown", namespace: str = "unknown") -> str:
    principal = f"spiffe://cluster.local/ns/{namespace}/sa/{workload}" if security == "mutual_tls" else "unknown"
    return (f'istio_requests_total{{reporter="destination",source_workload="{workload}",'
            f'source_workload_namespace="{namespace}",source_principal="{principal}",'
            f'destination_service_name="inventory",destination_service_namespace="shop",'
            f'connection_security_policy="{security}"}} {count}\n')


CERTS = json.dumps({"certificates": [{"ca_cert": [], "cert_chain": [{
    "subject_alt_names": [{"uri": CERT_ID}], "valid_from": "2026-11-30T00:00:00Z",
    "expiration_time": "2099-12-01T00:00:00Z"}]}]})
SYNCZ = json.dumps([{"proxy": f"inventory-{i}.shop", "istio_version": "1.24.2",
                     "cluster_sent": "n1", "cluster_acked": "n1", "listener_sent": "n2", "listener_acked": "n2"}
                    for i in (1, 2)])
ACCEPTED = ('[2026-11-30T09:59:55.100Z] "GET /api/v1/stock/report HTTP/1.1" 200 - via_upstream - "-" 0 812 9 8 '
            '"-" "python-requests/2.31.0" "5c1e" "inventory:3001" "10.1.0.5:3001" inbound|3001|| '
            '127.0.0.6:41234 10.1.0.5:3001 10.2.0.9:51000 - default')
REFUSED = ('[2026-11-30T09:59:56.100Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
           '- - 10.1.0.6:3001 172.18.0.2:51002 - -')


def seed(emu: Emulator) -> None:
    for ns in (SHOP, LEGACY, "istio-system", "kube-system"):
        emu.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    emu.add(pod_json(SHOP, "inventory-1", "10.1.0.5", "inventory", sa="inventory"))
    emu.add(pod_json(SHOP, "inventory-2", "10.1.0.6", "inventory", sa="inventory", labels={"canary": "strict"}))
    emu.add(pod_json(SHOP, "web-1", "10.1.0.7", "web", ports=(8080,)))
    emu.add(pod_json(LEGACY, "batch-1", "10.2.0.9", "batch", sidecar=False, ports=(9090,)))
    emu.add(pod_json("kube-system", "kube-proxy-x", "172.18.0.2", "kube-proxy", sidecar=False, host_network=True,
                     node="node-b"))
    istiod = pod_json("istio-system", "istiod-1", "10.9.0.2", "istiod", sidecar=False, ports=(15014,))
    istiod["spec"]["containers"][0]["name"] = "discovery"
    emu.add(istiod)
    emu.add({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "inventory", "namespace": SHOP},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "inventory"}},
                      "template": {"metadata": {"labels": {"app": "inventory"}},
                                   "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}}}})
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "inventory", "namespace": SHOP},
             "spec": {"selector": {"app": "inventory"}, "ports": [{"port": 3001, "targetPort": 3001}]}})
    emu.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
             "metadata": {"name": "inventory-2", "namespace": SHOP, "creationTimestamp": "2026-11-01T00:00:00Z"},
             "spec": {"selector": {"matchLabels": {"canary": "strict"}},
                      "mtls": {"mode": "STRICT"}}})


def serve_stats(emu: Emulator, pod: str, text: str) -> None:
    emu.set_proxy_response(SHOP, pod, 15020, "stats/prometheus", text)


def certs_exec(namespace: str, pod: str, container: str, command: list[str]) -> tuple[str, str, int]:
    if command == ["pilot-agent", "request", "GET", "/certs"] and container == "istio-proxy":
        return CERTS, "", 0
    return "", f"unexpected {command}", 1

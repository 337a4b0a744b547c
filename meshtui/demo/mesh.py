"""The demo mesh behind ``meshtui --demo``, as the Kubernetes JSON an API server would return.

Modelled on real deployments: a staging shop in one namespace, two tenants with default-deny
authorization, a namespace whose workers predate its injection label, and a legacy batch job
outside the mesh. Everything here is pure: the same ``now`` and ``seed`` give the same objects,
so the demo cluster, the tests that seed an API server with it and the snapshots all agree.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from meshtui.model.convert import format_time

ISTIO_VERSION = "1.24.2"
OLD_ISTIO_VERSION = "1.22.6"
PROXY_IMAGE = "docker.io/istio/proxyv2:{version}"
ROOT_NAMESPACE = "istio-system"
NODES = ("demo-worker", "demo-worker2", "demo-worker3")

# The apiserver's and the ReplicaSet controller's alphabet for generated name suffixes: no vowels,
# no easily confused characters (k8s.io/apimachinery/pkg/util/rand).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

SIDECAR_STATUS = json.dumps(
    {
        "initContainers": ["istio-init"],
        "containers": ["istio-proxy"],
        "volumes": [
            "workload-socket",
            "credential-socket",
            "workload-certs",
            "istio-envoy",
            "istio-data",
            "istio-podinfo",
            "istio-token",
            "istiod-ca-cert",
        ],
        "imagePullSecrets": None,
        "revision": "default",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True, slots=True)
class DemoNamespace:
    name: str
    labels: tuple[tuple[str, str], ...]
    age_days: int
    proxy_version: str = ISTIO_VERSION


@dataclass(frozen=True, slots=True)
class DemoApp:
    namespace: str
    name: str
    port: int
    replicas: int
    image: str
    # False for pods created before their namespace got the injection label.
    injected: bool = True
    service: bool = True
    service_type: str = "ClusterIP"
    node_port: int | None = None
    age_days: int = 30


NAMESPACES: tuple[DemoNamespace, ...] = (
    DemoNamespace(ROOT_NAMESPACE, (), 412),
    DemoNamespace("kubestock-staging", (("istio-injection", "enabled"),), 187),
    DemoNamespace("tenant-a-orders", (("istio-injection", "enabled"), ("tenant", "a")), 96),
    # Upgraded control plane, not yet restarted: its proxies still run the previous minor.
    DemoNamespace(
        "tenant-b-orders", (("istio-injection", "enabled"), ("tenant", "b")), 95, OLD_ISTIO_VERSION
    ),
    DemoNamespace("researchflow", (("istio-injection", "enabled"),), 61),
    DemoNamespace("legacy", (), 540),
)

KUBESTOCK = "kubestock-staging"
KUBESTOCK_APPS: tuple[tuple[str, int, int], ...] = (
    ("frontend", 3000, 2),
    ("ms-identity", 3006, 2),
    ("ms-inventory", 3001, 3),
    ("ms-order-management", 3002, 2),
    ("ms-product", 3003, 2),
    ("ms-supplier", 3004, 2),
)
TENANT_APPS: tuple[str, ...] = ("order-service", "payment-service", "inventory-service", "notify-service")
TENANT_PORT = 8080
RESEARCHFLOW_PORT = 8000


def _apps() -> tuple[DemoApp, ...]:
    apps: list[DemoApp] = []
    for name, port, replicas in KUBESTOCK_APPS:
        nodeport = name == "frontend"
        apps.append(
            DemoApp(
                KUBESTOCK,
                name,
                port,
                replicas,
                f"registry.kubestock.example/{name}:2.14.{port % 10}",
                service_type="NodePort" if nodeport else "ClusterIP",
                node_port=30300 if nodeport else None,
                age_days=41,
            )
        )
    for tenant in ("tenant-a-orders", "tenant-b-orders"):
        for name in TENANT_APPS:
            apps.append(
                DemoApp(tenant, name, TENANT_PORT, 2, f"ghcr.io/orders-demo/{name}:1.8.3", age_days=20)
            )
    apps.append(
        DemoApp(
            "researchflow",
            "orchestrator",
            RESEARCHFLOW_PORT,
            2,
            "quay.io/researchflow/orchestrator:0.9.1",
            age_days=12,
        )
    )
    apps.append(
        DemoApp(
            "researchflow",
            "worker",
            RESEARCHFLOW_PORT,
            3,
            "quay.io/researchflow/worker:0.9.1",
            injected=False,
            age_days=58,
        )
    )
    apps.append(
        DemoApp(
            "legacy",
            "batch-reporter",
            9090,
            1,
            "registry.internal/reporting/batch-reporter:4.2",
            service=False,
            age_days=300,
        )
    )
    return tuple(apps)


APPS = _apps()


def safe_string(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(n))


def template_hash(template: dict[str, Any]) -> str:
    """A pod-template-hash: stable for one template, different once the template changes."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:10])


def spiffe_id(namespace: str, service_account: str) -> str:
    return f"spiffe://cluster.local/ns/{namespace}/sa/{service_account}"


class _Ids:
    """uids and resourceVersions in creation order, as one API server would hand them out."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rv = 4100

    def meta(self, name: str, namespace: str | None, created: datetime, **extra: Any) -> dict[str, Any]:
        self.rv += 1
        meta: dict[str, Any] = {"name": name}
        if namespace is not None:
            meta["namespace"] = namespace
        meta |= {
            "uid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "resourceVersion": str(self.rv),
            "creationTimestamp": format_time(created),
        }
        meta.update(extra)
        return meta


def app_labels(app: str, version: str = "v1") -> dict[str, str]:
    return {"app": app, "version": version}


def deployment(
    meta: dict[str, Any], app: str, image: str, port: int, replicas: int, service_account: str
) -> dict[str, Any]:
    template = {
        "metadata": {"labels": app_labels(app)},
        "spec": {
            "serviceAccountName": service_account,
            "containers": [
                {
                    "name": app,
                    "image": image,
                    "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 5},
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ],
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **meta,
            "generation": 1,
            "labels": {"app": app},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": template,
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        },
    }


def _running(started: datetime, restarts: int, ready: bool) -> dict[str, Any]:
    status: dict[str, Any] = {
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": format_time(started)}},
    }
    if restarts:
        status["lastState"] = {
            "terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": format_time(started)}
        }
    return status


def _container_status(
    name: str, image: str, stage: str, started: datetime, restarts: int, rng: random.Random
) -> dict[str, Any]:
    if stage == "pending":
        status: dict[str, Any] = {
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": {"waiting": {"reason": "PodInitializing"}},
        }
    else:
        status = _running(started, restarts, stage == "ready")
        status["containerID"] = f"containerd://{rng.getrandbits(256):064x}"
    return {"name": name, "image": image, "imageID": "", **status}


def istio_proxy_container(version: str) -> dict[str, Any]:
    return {
        "name": "istio-proxy",
        "image": PROXY_IMAGE.format(version=version),
        "args": [
            "proxy",
            "sidecar",
            "--domain",
            "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=warning",
            "--proxyComponentLogLevel=misc:error",
            "--log_output_level=default:info",
        ],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 15},
    }


def istio_init_container(version: str) -> dict[str, Any]:
    return {
        "name": "istio-init",
        "image": PROXY_IMAGE.format(version=version),
        "args": [
            "istio-iptables",
            "-p",
            "15001",
            "-z",
            "15006",
            "-u",
            "1337",
            "-m",
            "REDIRECT",
            "-i",
            "*",
            "-x",
            "",
            "-b",
            "*",
            "-d",
            "15090,15021,15020",
            "--log_output_level=default:info",
        ],
    }


def pod_from_template(
    deploy: dict[str, Any],
    *,
    name: str,
    pod_hash: str,
    meta: dict[str, Any],
    rs_uid: str,
    node: str,
    ip: str,
    inject: bool,
    proxy_version: str,
    stage: str,
    restarts: int,
    rng: random.Random,
) -> dict[str, Any]:
    """A pod of ``deploy`` as the ReplicaSet controller and (if ``inject``) Istio's webhook create it.

    ``stage`` is "pending" (containers being created), "starting" (running, not ready) or "ready".
    """
    template = deploy["spec"]["template"]
    tmeta = template.get("metadata") or {}
    spec = json.loads(json.dumps(template["spec"]))
    labels = {**(tmeta.get("labels") or {}), "pod-template-hash": pod_hash}
    annotations = dict(tmeta.get("annotations") or {})
    containers = spec["containers"]
    init_containers = spec.get("initContainers") or []
    if inject:
        app = labels.get("app", deploy["metadata"]["name"])
        labels |= {
            "security.istio.io/tlsMode": "istio",
            "service.istio.io/canonical-name": app,
            "service.istio.io/canonical-revision": labels.get("version", "latest"),
        }
        annotations |= {
            "istio.io/rev": "default",
            "kubectl.kubernetes.io/default-container": containers[0]["name"],
            "kubectl.kubernetes.io/default-logs-container": containers[0]["name"],
            "prometheus.io/path": "/stats/prometheus",
            "prometheus.io/port": "15020",
            "prometheus.io/scrape": "true",
            "sidecar.istio.io/status": SIDECAR_STATUS,
        }
        containers = [*containers, istio_proxy_container(proxy_version)]
        init_containers = [*init_containers, istio_init_container(proxy_version)]
    spec["containers"] = containers
    if init_containers:
        spec["initContainers"] = init_containers
    spec |= {"nodeName": node, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30}
    rs_name = f"{deploy['metadata']['name']}-{pod_hash}"
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **meta,
            "generateName": f"{rs_name}-",
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": rs_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }
    pod["status"] = pod_status(pod, stage=stage, ip=ip, restarts=restarts, rng=rng)
    return pod


def pod_status(
    pod: dict[str, Any], *, stage: str, ip: str, restarts: int, rng: random.Random
) -> dict[str, Any]:
    """The kubelet's view of ``pod`` at ``stage``: "pending", "starting" (running, not ready) or "ready"."""
    spec = pod["spec"]
    containers = spec["containers"]
    init_containers = spec.get("initContainers") or []
    node = spec.get("nodeName", "")
    created = pod["metadata"]["creationTimestamp"]
    started = datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(seconds=4)
    ready = stage == "ready"
    status: dict[str, Any] = {
        "phase": "Pending" if stage == "pending" else "Running",
        "hostIP": f"172.18.0.{NODES.index(node) + 2 if node in NODES else 2}",
        "qosClass": "Burstable",
        "startTime": created,
        "conditions": [
            {"type": t, "status": "True" if ok else "False", "lastTransitionTime": created}
            for t, ok in (
                ("Initialized", stage != "pending"),
                ("Ready", ready),
                ("ContainersReady", ready),
                ("PodScheduled", True),
            )
        ],
        "containerStatuses": [
            _container_status(c["name"], c["image"], stage, started, restarts if i == 0 else 0, rng)
            for i, c in enumerate(containers)
        ],
    }
    if stage != "pending":
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    if init_containers:
        status["initContainerStatuses"] = [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": "",
                "ready": stage != "pending",
                "restartCount": 0,
                "state": (
                    {"waiting": {"reason": "PodInitializing"}}
                    if stage == "pending"
                    else {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": created,
                            "finishedAt": created,
                        }
                    }
                ),
            }
            for c in init_containers
        ]
    return status


def _service(
    meta: dict[str, Any], app: str, ports: list[dict[str, Any]], cluster_ip: str, type_: str = "ClusterIP"
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": type_,
        "selector": {"app": app},
        "ports": ports,
        "clusterIP": cluster_ip,
        "clusterIPs": [cluster_ip],
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
    }
    if type_ != "ClusterIP":
        spec["externalTrafficPolicy"] = "Cluster"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**meta, "labels": {"app": app}},
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def _istio(kind: str, meta: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    group = (
        "security.istio.io"
        if kind in ("PeerAuthentication", "AuthorizationPolicy")
        else "networking.istio.io"
    )
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {**meta, "generation": 1}, "spec": spec}


class _Builder:
    def __init__(self, now: datetime, seed: int) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.objects: list[dict[str, Any]] = []
        self.ip_host = 10

    def ago(self, days: float, jitter_hours: float = 0.0) -> datetime:
        return self.now - timedelta(days=days, hours=self.rng.uniform(0, jitter_hours))

    def cluster_ip(self) -> str:
        return f"10.96.{self.rng.randint(1, 254)}.{self.rng.randint(1, 254)}"

    def pod_ip(self, node: str) -> str:
        self.ip_host += self.rng.randint(1, 7)
        return f"10.244.{NODES.index(node) + 1}.{self.ip_host % 250 + 2}"

    def namespaces(self) -> None:
        for ns in NAMESPACES:
            labels = {"kubernetes.io/metadata.name": ns.name, **dict(ns.labels)}
            meta = self.ids.meta(ns.name, None, self.ago(ns.age_days), labels=labels)
            self.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": meta,
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
            )

    def pods_of(
        self, deploy: dict[str, Any], inject: bool, proxy_version: str, replicas: int, age_days: float
    ) -> None:
        pod_hash = template_hash(deploy["spec"]["template"])
        rs_uid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        ns = deploy["metadata"]["namespace"]
        for i in range(replicas):
            node = NODES[(i + self.rng.randint(0, 2)) % len(NODES)]
            name = f"{deploy['metadata']['name']}-{pod_hash}-{safe_string(self.rng, 5)}"
            restarts = self.rng.choice((0, 0, 0, 0, 0, 1, 2)) if age_days > 5 else 0
            meta = self.ids.meta(name, ns, self.ago(age_days, jitter_hours=30))
            self.objects.append(
                pod_from_template(
                    deploy,
                    name=name,
                    pod_hash=pod_hash,
                    meta=meta,
                    rs_uid=rs_uid,
                    node=node,
                    ip=self.pod_ip(node),
                    inject=inject,
                    proxy_version=proxy_version,
                    stage="ready",
                    restarts=restarts,
                    rng=self.rng,
                )
            )

    def control_plane(self) -> None:
        ns = ROOT_NAMESPACE
        created = self.ago(30)
        istiod = deployment(
            self.ids.meta("istiod", ns, created),
            "istiod",
            f"docker.io/istio/pilot:{ISTIO_VERSION}",
            15010,
            1,
            "istiod",
        )
        istiod["spec"]["template"]["metadata"]["labels"] |= {"istio": "pilot", "istio.io/rev": "default"}
        istiod["spec"]["template"]["spec"]["containers"][0] |= {
            "name": "discovery",
            "ports": [
                {"containerPort": 8080, "protocol": "TCP"},
                {"containerPort": 15010, "protocol": "TCP"},
                {"containerPort": 15017, "protocol": "TCP"},
            ],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        }
        self.objects.append(istiod)
        self.pods_of(istiod, inject=False, proxy_version=ISTIO_VERSION, replicas=1, age_days=6)
        gw = deployment(
            self.ids.meta("istio-ingressgateway", ns, created),
            "istio-ingressgateway",
            PROXY_IMAGE.format(version=ISTIO_VERSION),
            8080,
            2,
            "istio-ingressgateway-service-account",
        )
        gw["spec"]["template"]["metadata"]["labels"] |= {"istio": "ingressgateway"}
        gw["spec"]["template"]["spec"]["containers"][0] |= {
            "name": "istio-proxy",
            "args": [
                "proxy",
                "router",
                "--domain",
                "$(POD_NAMESPACE).svc.cluster.local",
                "--proxyLogLevel=warning",
                "--proxyComponentLogLevel=misc:error",
                "--log_output_level=default:info",
            ],
            "ports": [
                {"containerPort": 15021, "protocol": "TCP"},
                {"containerPort": 8080, "protocol": "TCP"},
                {"containerPort": 8443, "protocol": "TCP"},
                {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"},
            ],
            "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}},
        }
        # The gateway runs the proxy image as its only container, so it has access logs like a sidecar.
        self.objects.append(gw)
        self.pods_of(gw, inject=False, proxy_version=ISTIO_VERSION, replicas=2, age_days=6)
        self.objects.append(
            _service(
                self.ids.meta("istiod", ns, created),
                "istiod",
                [
                    {"name": "grpc-xds", "port": 15010, "protocol": "TCP", "targetPort": 15010},
                    {"name": "https-dns", "port": 15012, "protocol": "TCP", "targetPort": 15012},
                    {"name": "https-webhook", "port": 443, "protocol": "TCP", "targetPort": 15017},
                    {"name": "http-monitoring", "port": 15014, "protocol": "TCP", "targetPort": 15014},
                ],
                self.cluster_ip(),
            )
        )
        self.objects.append(
            _service(
                self.ids.meta("istio-ingressgateway", ns, created),
                "istio-ingressgateway",
                [
                    {
                        "name": "status-port",
                        "port": 15021,
                        "protocol": "TCP",
                        "targetPort": 15021,
                        "nodePort": 31021,
                    },
                    {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31080},
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 31443},
                ],
                self.cluster_ip(),
                "LoadBalancer",
            )
        )

    def apps(self) -> None:
        versions = {ns.name: ns.proxy_version for ns in NAMESPACES}
        for app in APPS:
            created = self.ago(app.age_days + 30)
            sa = app.name
            dep = deployment(
                self.ids.meta(app.name, app.namespace, created),
                app.name,
                app.image,
                app.port,
                app.replicas,
                sa,
            )
            self.objects.append(dep)
            self.pods_of(
                dep,
                inject=app.injected and app.namespace != "legacy",
                proxy_version=versions[app.namespace],
                replicas=app.replicas,
                age_days=app.age_days,
            )
            if app.service:
                port: dict[str, Any] = {
                    "name": "http",
                    "port": app.port,
                    "protocol": "TCP",
                    "targetPort": app.port,
                }
                if app.node_port:
                    port["nodePort"] = app.node_port
                self.objects.append(
                    _service(
                        self.ids.meta(app.name, app.namespace, created),
                        app.name,
                        [port],
                        self.cluster_ip(),
                        app.service_type,
                    )
                )

    def kubestock_traffic_rules(self) -> None:
        created = self.ago(40)
        for name, port, _ in KUBESTOCK_APPS:
            host = f"{name}.{KUBESTOCK}.svc.cluster.local"
            self.objects.append(
                _istio(
                    "DestinationRule",
                    self.ids.meta(name, KUBESTOCK, created),
                    {
                        "host": host,
                        "trafficPolicy": {
                            "tls": {"mode": "ISTIO_MUTUAL"},
                            "connectionPool": {"http": {"http1MaxPendingRequests": 100}},
                        },
                    },
                )
            )
            self.objects.append(
                _istio(
                    "VirtualService",
                    self.ids.meta(name, KUBESTOCK, created),
                    {
                        "hosts": [host],
                        "http": [
                            {
                                "route": [{"destination": {"host": host, "port": {"number": port}}}],
                                "retries": {
                                    "attempts": 3,
                                    "perTryTimeout": "10s",
                                    "retryOn": "connect-failure,refused-stream,unavailable,503",
                                },
                                "timeout": "30s",
                            }
                        ],
                    },
                )
            )

    def tenant_policies(self) -> None:
        for tenant in ("tenant-a-orders", "tenant-b-orders"):
            created = self.ago(20)
            self.objects.append(_istio("AuthorizationPolicy", self.ids.meta("deny-all", tenant, created), {}))
            self.objects.append(
                _istio(
                    "AuthorizationPolicy",
                    self.ids.meta("allow-ingress", tenant, created),
                    {
                        "selector": {"matchLabels": {"app": "order-service"}},
                        "action": "ALLOW",
                        "rules": [
                            {
                                "from": [
                                    {
                                        "source": {
                                            "principals": [
                                                "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
                                            ]
                                        }
                                    }
                                ]
                            }
                        ],
                    },
                )
            )
            for target in TENANT_APPS[1:]:
                self.objects.append(
                    _istio(
                        "AuthorizationPolicy",
                        self.ids.meta(f"allow-order-service-to-{target}", tenant, created),
                        {
                            "selector": {"matchLabels": {"app": target}},
                            "action": "ALLOW",
                            "rules": [
                                {
                                    "from": [
                                        {
                                            "source": {
                                                "principals": [f"cluster.local/ns/{tenant}/sa/order-service"]
                                            }
                                        }
                                    ],
                                    "to": [{"operation": {"ports": [str(TENANT_PORT)]}}],
                                }
                            ],
                        },
                    )
                )
        # tenant-a already locked down; tenant-b and kubestock-staging are still to be migrated.
        self.objects.append(
            _istio(
                "PeerAuthentication",
                self.ids.meta("default", "tenant-a-orders", self.ago(9)),
                {"mtls": {"mode": "STRICT"}},
            )
        )

    def ingress_routes(self) -> None:
        created = self.ago(40)
        self.objects.append(
            _istio(
                "Gateway",
                self.ids.meta("public", ROOT_NAMESPACE, created),
                {
                    "selector": {"istio": "ingressgateway"},
                    "servers": [
                        {
                            "port": {"number": 8080, "name": "http", "protocol": "HTTP"},
                            "hosts": ["shop.kubestock.example", "orders.example.com"],
                        }
                    ],
                },
            )
        )
        self.objects.append(
            _istio(
                "VirtualService",
                self.ids.meta("public-shop", ROOT_NAMESPACE, created),
                {
                    "hosts": ["shop.kubestock.example"],
                    "gateways": ["istio-system/public"],
                    "http": [
                        {
                            "route": [
                                {
                                    "destination": {
                                        "host": f"frontend.{KUBESTOCK}.svc.cluster.local",
                                        "port": {"number": 3000},
                                    }
                                }
                            ]
                        }
                    ],
                },
            )
        )
        self.objects.append(
            _istio(
                "VirtualService",
                self.ids.meta("public-orders", ROOT_NAMESPACE, created),
                {
                    "hosts": ["orders.example.com"],
                    "gateways": ["istio-system/public"],
                    "http": [
                        {
                            "match": [{"uri": {"prefix": f"/{tenant[7]}/"}}],
                            "route": [
                                {
                                    "destination": {
                                        "host": f"order-service.{tenant}.svc.cluster.local",
                                        "port": {"number": TENANT_PORT},
                                    }
                                }
                            ],
                        }
                        for tenant in ("tenant-a-orders", "tenant-b-orders")
                    ],
                },
            )
        )


# --- ambient mode: a namespace ztunnel captures, its waypoint, ztunnel on every node ------------
# Built last, so the rest of the demo keeps the names and uids it always had.
AMBIENT_NAMESPACE = "payments"
AMBIENT_APPS: tuple[tuple[str, int, int], ...] = (("ledger", 8080, 2), ("payments-api", 8080, 2))
ZTUNNEL_IMAGE = "docker.io/istio/ztunnel:{version}"
WAYPOINT = "waypoint"


def redirected(pod: dict[str, Any], namespace_labels: dict[str, str]) -> dict[str, Any]:
    """The pod as istio-cni leaves it once it redirected the pod's traffic to ztunnel: annotated,
    when the pod is enrolled in ambient (its label, else its namespace's) and has no sidecar."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    names = {c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()}
    mode = labels.get("istio.io/dataplane-mode", namespace_labels.get("istio.io/dataplane-mode"))
    annotations = dict((pod.get("metadata") or {}).get("annotations") or {})
    if mode == "ambient" and "istio-proxy" not in names:
        annotations["ambient.istio.io/redirection"] = "enabled"
    else:
        annotations.pop("ambient.istio.io/redirection", None)
    return {**pod, "metadata": {**pod["metadata"], "annotations": annotations}}


def ztunnel_daemonset(meta: dict[str, Any]) -> dict[str, Any]:
    """ztunnel as Istio's chart installs it: a DaemonSet whose container is named istio-proxy."""
    template = {
        "metadata": {"labels": {"app": "ztunnel", "sidecar.istio.io/inject": "false"}},
        "spec": {
            "serviceAccountName": "ztunnel",
            "containers": [
                {
                    "name": "istio-proxy",
                    "image": ZTUNNEL_IMAGE.format(version=ISTIO_VERSION),
                    "args": ["proxy", "ztunnel"],
                    "ports": [{"containerPort": 15020, "name": "ztunnel-stats", "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}},
                }
            ],
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {**meta, "generation": 1, "labels": {"app": "ztunnel"}},
        "spec": {"selector": {"matchLabels": {"app": "ztunnel"}}, "template": template},
        "status": {"desiredNumberScheduled": len(NODES), "numberReady": len(NODES),
                   "updatedNumberScheduled": len(NODES), "observedGeneration": 1},
    }


def waypoint_gateway(meta: dict[str, Any]) -> dict[str, Any]:
    """What `istioctl waypoint apply -n NS` creates: a Gateway of class istio-waypoint on HBONE 15008."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {**meta, "generation": 1, "labels": {"istio.io/waypoint-for": "service"}},
        "spec": {
            "gatewayClassName": "istio-waypoint",
            "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
        },
        "status": {"conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed"}]},
    }


def _ambient(b: _Builder) -> None:
    created = b.ago(25)
    ns_labels = {"kubernetes.io/metadata.name": AMBIENT_NAMESPACE, "istio.io/dataplane-mode": "ambient",
                 "istio.io/use-waypoint": WAYPOINT}
    b.objects.append({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": b.ids.meta(AMBIENT_NAMESPACE, None, created, labels=ns_labels),
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
    })
    ds = ztunnel_daemonset(b.ids.meta("ztunnel", ROOT_NAMESPACE, b.ago(30)))
    b.objects.append(ds)
    for node in NODES:
        name = f"ztunnel-{safe_string(b.rng, 5)}"
        pod = pod_from_template(
            ds, name=name, pod_hash="", meta=b.ids.meta(name, ROOT_NAMESPACE, b.ago(6)), rs_uid=ds["metadata"]["uid"],
            node=node, ip=b.pod_ip(node), inject=False, proxy_version=ISTIO_VERSION, stage="ready", restarts=0,
            rng=b.rng,
        )
        pod["metadata"]["labels"].pop("pod-template-hash")
        pod["metadata"].pop("generateName")
        pod["metadata"]["ownerReferences"][0] |= {"kind": "DaemonSet", "name": "ztunnel", "apiVersion": "apps/v1"}
        b.objects.append(pod)
    start = len(b.objects)
    for app, port, replicas in AMBIENT_APPS:
        dep = deployment(b.ids.meta(app, AMBIENT_NAMESPACE, created), app,
                         f"registry.payments.example/{app}:3.1.0", port, replicas, app)
        b.objects.append(dep)
        b.pods_of(dep, inject=False, proxy_version=ISTIO_VERSION, replicas=replicas, age_days=9)
        b.objects.append(_service(b.ids.meta(app, AMBIENT_NAMESPACE, created), app,
                                  [{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}],
                                  b.cluster_ip()))
    b.objects.append(waypoint_gateway(b.ids.meta(WAYPOINT, AMBIENT_NAMESPACE, created)))
    wp = deployment(b.ids.meta(WAYPOINT, AMBIENT_NAMESPACE, created), WAYPOINT,
                    PROXY_IMAGE.format(version=ISTIO_VERSION), 15008, 1, WAYPOINT)
    wp["spec"]["template"]["metadata"]["labels"] = {
        "gateway.networking.k8s.io/gateway-name": WAYPOINT, "istio.io/dataplane-mode": "none",
        "app": WAYPOINT, "version": "v1"}
    wp["spec"]["template"]["spec"]["containers"][0] |= {"name": "istio-proxy", "args": ["proxy", "waypoint"]}
    b.objects.append(wp)
    b.pods_of(wp, inject=False, proxy_version=ISTIO_VERSION, replicas=1, age_days=9)
    for i in range(start, len(b.objects)):
        if b.objects[i]["kind"] == "Pod":
            b.objects[i] = redirected(b.objects[i], ns_labels)
    # The namespace went STRICT once every caller was in the mesh... except the legacy batch job.
    b.objects.append(_istio("PeerAuthentication", b.ids.meta("default", AMBIENT_NAMESPACE, b.ago(3)),
                            {"mtls": {"mode": "STRICT"}}))


STRICT_GAP_APP = ("tenant-a-orders", "ledger-export", 9100)


def add_strict_gap(b: _Builder) -> None:
    """A pod in STRICT tenant-a-orders that predates its injection label: the namespace says STRICT,
    yet this pod has no sidecar and takes plaintext (summaries must not overstate)."""
    namespace, name, port = STRICT_GAP_APP
    dep = deployment(b.ids.meta(name, namespace, b.ago(130)), name, f"ghcr.io/orders-demo/{name}:0.3.0",
                     port, 1, name)
    b.objects.append(dep)
    b.pods_of(dep, inject=False, proxy_version=ISTIO_VERSION, replicas=1, age_days=100)


def replica_set(deploy: Mapping[str, Any], pod_hash: str, uid: str, created: str,
                replicas: int, ready: int) -> dict[str, Any]:
    """The ReplicaSet the Deployment controller keeps for one pod template (``pod_hash``): its pods
    name it as their owner; after a rollout the old one stays, scaled to 0, as history."""
    name, ns = deploy["metadata"]["name"], deploy["metadata"]["namespace"]
    template = copy.deepcopy(deploy["spec"]["template"])
    labels = {**(template.get("metadata") or {}).get("labels", {}), "pod-template-hash": pod_hash}
    template.setdefault("metadata", {})["labels"] = labels
    revision = (deploy["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "1")
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{pod_hash}", "namespace": ns, "uid": uid, "creationTimestamp": created,
            "labels": dict(labels), "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                 "uid": deploy["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {**deploy["spec"]["selector"].get("matchLabels", {}),
                                         "pod-template-hash": pod_hash}},
            "template": template,
        },
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                   "observedGeneration": 1},
    }


def _replica_sets(b: _Builder) -> None:
    """The ReplicaSet each Deployment's pods name as their owner. Added last, after every other
    object, so the seeded names and resource versions of the rest do not move."""
    deployments = {(o["metadata"]["namespace"], o["metadata"]["name"]): o
                   for o in b.objects if o["kind"] == "Deployment"}
    owners: dict[str, tuple[dict[str, Any], str]] = {}
    pods: Counter[str] = Counter()
    for pod in (o for o in b.objects if o["kind"] == "Pod"):
        owner = pod["metadata"]["ownerReferences"][0]
        deploy = deployments.get((pod["metadata"]["namespace"], owner["name"].rsplit("-", 1)[0]))
        if owner["kind"] == "ReplicaSet" and deploy is not None:
            owners[owner["uid"]] = (deploy, pod["metadata"]["labels"]["pod-template-hash"])
            pods[owner["uid"]] += 1
    for uid, (deploy, pod_hash) in owners.items():
        rs = replica_set(deploy, pod_hash, uid, deploy["metadata"]["creationTimestamp"], pods[uid], pods[uid])
        b.ids.rv += 1
        rs["metadata"]["resourceVersion"] = str(b.ids.rv)
        b.objects.append(rs)


def demo_objects(now: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """Every object of the demo mesh, in creation order, as Kubernetes JSON."""
    b = _Builder(now, seed)
    b.namespaces()
    b.control_plane()
    b.apps()
    b.kubestock_traffic_rules()
    b.tenant_policies()
    b.ingress_routes()
    _ambient(b)
    add_strict_gap(b)
    _replica_sets(b)
    return b.objects


# --- TLS check data (issue 9): what istiod's syncz and the proxies' /certs say ---------------------
# One proxy that has not acknowledged istiod's last listener push, and one workload whose certificate
# rotation stopped (its certificate is close to expiry), so a TLS check has something to find.
STALE_PROXY_WORKLOAD = (KUBESTOCK, "ms-supplier")
EXPIRING_CERT_WORKLOAD = ("tenant-b-orders", "payment-service")
CERT_LIFETIME = timedelta(hours=24)
# How long the stuck certificate has left whenever it is read.
EXPIRING_CERT_LEFT = timedelta(hours=2, minutes=40)


def certificate_window(
    namespace: str, workload: str, pod_created: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """(not before, not after) of a demo pod's workload certificate: istiod's 24 h certificates,
    rotated at half-life; EXPIRING_CERT_WORKLOAD's last rotation never happened."""
    if (namespace, workload) == EXPIRING_CERT_WORKLOAD:
        expires = now + EXPIRING_CERT_LEFT
        return expires - CERT_LIFETIME, expires
    half = (CERT_LIFETIME / 2).total_seconds()
    issued = now - timedelta(seconds=(now - pod_created).total_seconds() % half)
    return issued, issued + CERT_LIFETIME


def _nonce(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def syncz_entries(pods: list[tuple[str, str, str, str]], istiod_version: str) -> list[dict[str, Any]]:
    """istiod's /debug/syncz answer (pilot/pkg/xds/debug.go SyncStatus) for the demo's proxies,
    given as (namespace, pod, workload, proxy version). Every proxy acknowledged the last push but
    the first pod of STALE_PROXY_WORKLOAD, which still holds the previous listeners."""
    out = []
    stale_pod = min((p for ns, p, w, _ in pods if (ns, w) == STALE_PROXY_WORKLOAD), default=None)
    for namespace, pod, _, version in sorted(pods):
        entry: dict[str, Any] = {
            "cluster_id": "Kubernetes",
            "proxy": f"{pod}.{namespace}",
            "proxy_type": "sidecar",
            "istio_version": version or istiod_version,
        }
        for xds in ("cluster", "listener", "route", "endpoint"):
            sent = _nonce(xds, namespace, pod, "push-41")
            acked = _nonce(xds, namespace, pod, "push-40") if pod == stale_pod and xds == "listener" else sent
            entry[f"{xds}_sent"], entry[f"{xds}_acked"] = sent, acked
        out.append(entry)
    return out

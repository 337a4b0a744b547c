"""Just enough of kube-controller-manager and Istio's injection webhook to make meshtui's actions visible.

A pod-template change gives a Deployment a new ReplicaSet and rolls its pods one at a time
(maxSurge 1, maxUnavailable 0) while the old ReplicaSet scales to 0 and stays as history; a new pod
gets a sidecar when its namespace's injection label says so at creation, as Istio's webhook
decides; deleting a workload terminates its pods and collects its ReplicaSets. Each step leaves the
Event its real controller records (`kubectl get events` on `meshtui demo-server`). The controllers
follow the API server's store like real ones follow a watch, and write back through it, so every
step reaches meshtui as watch events over HTTP.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from meshtui.demo.mesh import (
    ISTIO_VERSION,
    NODES,
    pod_from_template,
    pod_status,
    redirected,
    replica_set,
    safe_string,
    template_hash,
)
from meshtui.model.convert import format_time

if TYPE_CHECKING:
    from meshtui.demo.apiserver.store import Event
    from meshtui.demo.cluster import DemoCluster

# Rolling-update timing, in simulated seconds: image pull + init, then readiness, then grace period.
POD_STARTS_AFTER = 2.0
POD_READY_AFTER = 4.0
POD_GONE_AFTER = 3.0
CNI_DELAY = 1.0  # istio-cni (un)redirecting running pods after a namespace's ambient label changed
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
REVISION = "deployment.kubernetes.io/revision"

PodKey = tuple[str, str]  # (namespace, name)


def _pod_hash(pod: Mapping[str, Any]) -> str:
    template_hash: str = (pod["metadata"].get("labels") or {}).get("pod-template-hash", "")  # labels are strings
    return template_hash


def _owner(pod: Mapping[str, Any]) -> str:
    refs = pod["metadata"].get("ownerReferences") or [{}]
    return str(refs[0].get("name", ""))


def _terminating(pod: Mapping[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


class Controllers:
    """Deployment rollouts, pod lifecycle and sidecar injection. Runs under the store's lock."""

    def __init__(self, cluster: DemoCluster, seed: int) -> None:
        self._cluster = cluster
        self._rng = random.Random(seed * 7919 + 1)
        self._pending: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._acting_at: datetime | None = None
        self._running = False
        self._ip_host = 160
        self._event_ids = itertools.count(0x1800000000000000)

    # -- following the store ---------------------------------------------------------------------
    def observe(self, event: Event) -> None:
        kind, obj, old = event.rt.kind, event.obj, event.old
        key = self._key(obj)
        if kind == "Deployment" and event.type == "ADDED" and old is None and not self._owned_pods(obj):
            self._later(0, lambda: self._surge(key))
        elif kind == "Deployment" and event.type == "MODIFIED" and old is not None:
            if obj["spec"].get("template") != old["spec"].get("template"):
                self._later(0, lambda: self._new_revision(key))
            elif obj.get("spec") != old.get("spec"):
                self._later(0, lambda: self._surge(key))
        elif kind == "Namespace" and event.type == "MODIFIED":
            self._later(CNI_DELAY, lambda: self._redirect(key[1]))
        elif kind in WORKLOAD_KINDS and event.type == "DELETED":
            for pod_key in self._owned_pods(obj):
                self._later(0, partial(self._terminate, pod_key))
            # The garbage collector: a Deployment's ReplicaSets go with it.
            for rs_key in [self._key(rs) for rs in self._replica_sets(obj)]:
                self._later(0, partial(self._cluster.remove, "ReplicaSet", rs_key))

    def run_due(self, now: datetime) -> None:
        """Run every action due by ``now`` in time order. The writes of an action notify
        :meth:`observe` again, which may call this: the outer loop then runs what they scheduled."""
        if self._running:
            return
        self._running = True
        try:
            while self._pending and self._pending[0][0] <= now:
                at, _, action = heapq.heappop(self._pending)
                self._acting_at = at
                try:
                    action()
                finally:
                    self._acting_at = None
        finally:
            self._running = False

    # -- time ------------------------------------------------------------------------------------
    @property
    def acting_at(self) -> datetime | None:
        """While a scheduled action runs, the time it was due: its writes happen at that moment."""
        return self._acting_at

    def _now(self) -> datetime:
        """The clock's time, or while a scheduled action runs, the time it was due."""
        return self._acting_at or self._cluster.clock.now()

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._pending, (self._now() + timedelta(seconds=seconds), next(self._sequence), action))

    # -- store access ----------------------------------------------------------------------------
    @staticmethod
    def _key(obj: Mapping[str, Any]) -> PodKey:
        return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    def _deployment(self, key: PodKey) -> dict[str, Any] | None:
        return self._cluster.server.get("Deployment", *key)

    def _pod(self, key: PodKey) -> dict[str, Any] | None:
        return self._cluster.server.get("Pod", *key)

    def _write(self, obj: dict[str, Any]) -> None:
        self._cluster.server.add(obj)

    def _replica_sets(self, deploy: Mapping[str, Any]) -> list[dict[str, Any]]:
        uid = deploy["metadata"].get("uid")
        return [rs for rs in self._cluster.server.objects("ReplicaSet")
                if rs["metadata"].get("namespace") == deploy["metadata"].get("namespace")
                and any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or ())]

    def _event(self, obj: Mapping[str, Any], reason: str, message: str, component: str) -> None:
        """What the controller that took a step records about it, as a core/v1 Event."""
        meta = obj["metadata"]
        now = format_time(self._now())
        self._write({
            "apiVersion": "v1",
            "kind": "Event",
            # Named like the client-go recorder's (object name, a unique hex suffix); the seeded random
            # generator is left alone so pod names stay as they were.
            "metadata": {"name": f"{meta['name']}.{next(self._event_ids):016x}", "namespace": meta["namespace"]},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "namespace": meta["namespace"],
                               "name": meta["name"], "uid": meta.get("uid", "")},
            "reason": reason,
            "message": message,
            "type": "Normal",
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": component,
        })

    def _owned_pods(self, workload: Mapping[str, Any]) -> list[PodKey]:
        name, ns = workload["metadata"]["name"], workload["metadata"].get("namespace", "")
        pods = [p for p in self._cluster.server.objects("Pod")
                if p["metadata"].get("namespace") == ns and _owner(p) == f"{name}-{_pod_hash(p)}"]
        pods.sort(key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))
        return [self._key(p) for p in pods]

    # -- the Deployment controller ---------------------------------------------------------------
    def _new_revision(self, key: PodKey) -> None:
        deploy = self._deployment(key)
        if deploy is None:
            return
        deploy = copy.deepcopy(deploy)
        annotations = deploy["metadata"].setdefault("annotations", {})
        annotations[REVISION] = str(int(annotations.get(REVISION, "1")) + 1)
        self._write(deploy)
        self._surge(key)

    def _surge(self, key: PodKey) -> None:
        """One step of a rolling update: add a pod of the current template, or, once all are
        there, retire what is left of the old ones."""
        deploy = self._deployment(key)
        if deploy is None:
            return
        current = template_hash(deploy["spec"]["template"])
        live = [k for k in self._owned_pods(deploy) if not _terminating(self._pod(k) or {"metadata": {}})]
        new = [k for k in live if _pod_hash(self._pod(k) or {"metadata": {}}) == current]
        old = [k for k in live if k not in new]
        replicas = int(deploy["spec"].get("replicas", 1))
        if len(new) < replicas:
            pod_key = self._create_pod(deploy, current)
            self._later(POD_STARTS_AFTER, lambda: self._set_stage(pod_key, "starting"))
            self._later(POD_READY_AFTER, lambda: self._ready(key, pod_key, current))
            return
        for pod_key in old + new[replicas:]:
            self._terminate(pod_key)
        self._sync_status(key)

    def _ready(self, key: PodKey, pod_key: PodKey, pod_hash: str) -> None:
        self._set_stage(pod_key, "ready")
        deploy = self._deployment(key)
        if deploy is None or template_hash(deploy["spec"]["template"]) != pod_hash:
            return  # a newer rollout took over
        old = [k for k in self._owned_pods(deploy)
               if (pod := self._pod(k)) is not None and _pod_hash(pod) != pod_hash and not _terminating(pod)]
        if old:
            self._terminate(old[0])
        self._surge(key)

    def _sync_status(self, key: PodKey) -> None:
        deploy = self._deployment(key)
        if deploy is None:
            return
        current = template_hash(deploy["spec"]["template"])
        pods = [p for k in self._owned_pods(deploy) if (p := self._pod(k)) is not None and not _terminating(p)]
        ready = sum(1 for p in pods if p["status"].get("phase") == "Running"
                    and all(c.get("ready") for c in p["status"].get("containerStatuses", [])))
        status = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": sum(1 for p in pods if _pod_hash(p) == current),
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if status != deploy.get("status"):
            deploy = copy.deepcopy(deploy)
            deploy["status"] = status
            self._write(deploy)
        for rs in self._replica_sets(deploy):
            mine = [p for p in pods if _pod_hash(p) == rs["metadata"]["labels"].get("pod-template-hash")]
            ready_here = sum(1 for p in mine if p["status"].get("phase") == "Running"
                             and all(c.get("ready") for c in p["status"].get("containerStatuses", [])))
            counts = {"replicas": len(mine), "readyReplicas": ready_here, "availableReplicas": ready_here}
            if rs["spec"].get("replicas") != len(mine) or any(rs["status"].get(k) != v for k, v in counts.items()):
                before = rs["spec"].get("replicas", 0)
                if before != len(mine):
                    self._event(deploy, "ScalingReplicaSet",
                                f"Scaled {'up' if len(mine) > before else 'down'} replica set "
                                f"{rs['metadata']['name']} from {before} to {len(mine)}", "deployment-controller")
                rs = copy.deepcopy(rs)
                rs["spec"]["replicas"] = len(mine)
                rs["status"] |= counts
                self._write(rs)

    def _sync_owner(self, pod: Mapping[str, Any]) -> None:
        owner, pod_hash = _owner(pod), _pod_hash(pod)
        if pod_hash and owner.endswith("-" + pod_hash):
            self._sync_status((pod["metadata"]["namespace"], owner[: -len(pod_hash) - 1]))

    # -- pods: the ReplicaSet controller, the webhook and the kubelet -----------------------------
    def _injects(self, namespace: str, template: Mapping[str, Any]) -> bool:
        """Istio's injection webhooks: the namespace label, overridden per pod by sidecar.istio.io/inject."""
        labels = self._namespace_labels(namespace)
        pod_label = ((template.get("metadata") or {}).get("labels") or {}).get("sidecar.istio.io/inject")
        injection = labels.get("istio-injection")
        if injection == "enabled" or (injection is None and labels.get("istio.io/rev")):
            return pod_label != "false"
        return injection is None and pod_label == "true"

    def _namespace_labels(self, namespace: str) -> dict[str, str]:
        ns = self._cluster.server.get("Namespace", "", namespace) or {"metadata": {}}
        return dict(ns["metadata"].get("labels") or {})

    def _redirect(self, namespace: str) -> None:
        """istio-cni: (un)redirect the namespace's running pods after its ambient label changed."""
        labels = self._namespace_labels(namespace)
        for pod in self._cluster.server.objects("Pod"):
            if pod["metadata"].get("namespace") == namespace and (new := redirected(pod, labels)) != pod:
                self._write(copy.deepcopy(new))

    def _create_pod(self, deploy: dict[str, Any], pod_hash: str) -> PodKey:
        ns, name = deploy["metadata"]["namespace"], deploy["metadata"]["name"]
        rs_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ns}/{name}-{pod_hash}"))
        if self._cluster.server.get("ReplicaSet", ns, f"{name}-{pod_hash}") is None:
            self._write(replica_set(deploy, pod_hash, rs_uid, format_time(self._now()), replicas=0, ready=0))
        pod_name = f"{name}-{pod_hash}-{safe_string(self._rng, 5)}"
        meta = {
            "name": pod_name,
            "namespace": ns,
            "uid": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "creationTimestamp": format_time(self._now()),
        }
        pod = pod_from_template(
            deploy, name=pod_name, pod_hash=pod_hash, meta=meta,
            rs_uid=rs_uid,
            node=self._rng.choice(NODES), ip="", inject=self._injects(ns, deploy["spec"]["template"]),
            proxy_version=ISTIO_VERSION, stage="pending", restarts=0, rng=self._rng)
        self._write(redirected(pod, self._namespace_labels(ns)))
        rs = self._cluster.server.get("ReplicaSet", ns, f"{name}-{pod_hash}")
        if rs is not None:
            self._event(rs, "SuccessfulCreate", f"Created pod: {pod_name}", "replicaset-controller")
        self._event(pod, "Scheduled", f"Successfully assigned {ns}/{pod_name} to {pod['spec']['nodeName']}",
                    "default-scheduler")
        self._sync_status((ns, name))
        return ns, pod_name

    def _next_ip(self, node: str) -> str:
        # The demo's own pods sit below .160 on each node's /24; rollouts take addresses above.
        self._ip_host = self._ip_host % 250 + 1 if self._ip_host < 250 else 160
        return f"10.244.{NODES.index(node) + 1 if node in NODES else 1}.{self._ip_host}"

    def _set_stage(self, pod_key: PodKey, stage: str) -> None:
        pod = self._pod(pod_key)
        if pod is None or _terminating(pod):
            return
        pod = copy.deepcopy(pod)
        ip = pod["status"].get("podIP") or self._next_ip(pod["spec"]["nodeName"])
        pod["status"] = pod_status(pod, stage=stage, ip=ip, restarts=0, rng=self._rng)
        self._write(pod)
        self._sync_owner(pod)

    def _terminate(self, pod_key: PodKey) -> None:
        pod = self._pod(pod_key)
        if pod is None or _terminating(pod):
            return
        pod = copy.deepcopy(pod)
        pod["metadata"] |= {
            "deletionTimestamp": format_time(self._now() + timedelta(seconds=30)),
            "deletionGracePeriodSeconds": 30,
        }
        self._write(pod)
        for container in pod["spec"]["containers"]:
            self._event(pod, "Killing", f"Stopping container {container['name']}", "kubelet")
        self._sync_owner(pod)
        self._later(POD_GONE_AFTER, lambda: self._cluster.remove("Pod", pod_key))

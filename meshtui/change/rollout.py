"""Progress of workloads being restarted for a sidecar change, read from snapshots (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.model.objects import Pod, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.labels import matches

# Pod states that do not clear up by waiting: worth naming as the reason a rollout is stuck.
STUCK_REASONS = ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError",
                 "CreateContainerError", "InvalidImageName", "RunContainerError")


@dataclass(frozen=True, slots=True)
class RolloutState:
    workload: Workload
    desired: int
    good: int  # pods ready with the expected containers
    pending: int  # pods not (yet) ready or with the wrong sidecar state
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.good >= self.desired and self.pending == 0

    @property
    def stuck(self) -> bool:
        return any(self.reason.startswith(r) for r in STUCK_REASONS)


def _selected(pod: Pod, workload: Workload) -> bool:
    return (pod.namespace == workload.namespace and not pod.deleting and bool(workload.selector)
            and matches(workload.selector, pod.labels))


def _ready(pod: Pod) -> bool:
    ready, total = pod.ready_count
    return pod.phase == "Running" and total > 0 and ready == total


# Waiting reasons every starting pod goes through: progress, not a problem.
_STARTING = ("ContainerCreating", "PodInitializing")


def _reason(unfinished: list[Pod], existing: int, desired: int) -> str:
    for pod in unfinished:
        for c in (*pod.init_containers, *pod.containers):
            if c.state == "Waiting" and c.reason and c.reason not in _STARTING:
                return f"{c.reason} ({pod.name}/{c.name})"
    if any(p.phase == "Pending" and not p.node for p in unfinished):
        return "Pending: not scheduled yet"
    if existing < desired:
        # Pod creation is refused before any pod exists (e.g. a ResourceQuota); the model carries no
        # events, so say where to look.
        return f"{existing}/{desired} pods created: check the ReplicaSet's events (quota, admission)"
    return ""


def rollout_state(snapshot: Snapshot, workload: Workload, *, want_sidecar: bool) -> RolloutState:
    current = snapshot.workloads.get((workload.namespace, f"{workload.kind}/{workload.name}"), workload)
    pods = [p for p in snapshot.pods_in(workload.namespace) if _selected(p, current)]
    good = [p for p in pods if p.has_sidecar == want_sidecar and _ready(p)]
    others = [p for p in pods if p not in good]
    done = len(good) >= current.replicas and not others
    reason = "" if done else _reason(others, len(pods), current.replicas)
    return RolloutState(current, current.replicas, len(good), len(others), reason)

"""The ambient flow (`a`): add or remove a namespace, move it from sidecars, opt a workload out.

The picker only chooses; the plan is pure (meshtui.change.plan) and goes through the same preview,
dry run, journal and undo as every other change. Moving from sidecars offers the restart next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from meshtui.change.plan import ambient_plan, ambient_workload_plan
from meshtui.model.objects import DATAPLANE_LABEL
from meshtui.screens.actions import offer_restart, preview, workload_of
from meshtui.screens.change import ChoiceScreen

if TYPE_CHECKING:
    from meshtui.screens.main import MainScreen


@dataclass(frozen=True, slots=True)
class AmbientChoice:
    label: str
    # "namespace": enabled says add/remove; "workload": enabled=False opts the workload out.
    target: str
    enabled: bool


class AmbientScreen(ChoiceScreen[AmbientChoice]):
    DEFAULT_CSS = """
    AmbientScreen > Vertical { width: 90; }
    """

    def __init__(self, title: str, current: str, choices: Sequence[AmbientChoice]) -> None:
        super().__init__(title, current, [(c.label, c) for c in choices])


def namespace_choices(dataplane: str, namespace: str) -> list[AmbientChoice]:
    if dataplane == "ambient":
        return [AmbientChoice(f"Remove {namespace} from ambient ({DATAPLANE_LABEL}-)", "namespace", False)]
    if dataplane == "sidecar":
        return [AmbientChoice(f"Move {namespace} from sidecars to ambient (label, drop injection, then restart)",
                              "namespace", True)]
    return [AmbientChoice(f"Add {namespace} to ambient ({DATAPLANE_LABEL}=ambient, no restart)", "namespace", True)]


def open_ambient(screen: MainScreen) -> None:
    snap = screen.snapshot
    if snap is None or screen.selected_namespace is None:
        return
    pod = screen.current_pod() if screen.focused is screen.pods else None
    if pod is not None:
        workload = workload_of(screen, pod)
        if workload is None:
            screen.notify("select a pod of a Deployment, StatefulSet or DaemonSet", timeout=3)
            return
        opted_out = workload.template_labels.get(DATAPLANE_LABEL) == "none"
        choice = AmbientChoice(
            f"Opt {workload.name} back into ambient (remove {DATAPLANE_LABEL}=none; rolls its pods)" if opted_out
            else f"Opt {workload.name} out of ambient ({DATAPLANE_LABEL}=none on its pods; rolls them)",
            "workload", opted_out)
        result = screen.report.pods.get(pod.key) if screen.report else None
        current = result.dataplane if result else "?"

        def chosen_workload(c: AmbientChoice | None) -> None:
            if c is not None:
                preview(screen, lambda s: ambient_workload_plan(
                    s, s.workloads.get((workload.namespace, f"{workload.kind}/{workload.name}"), workload),
                    opt_out=not c.enabled))

        screen.app.push_screen(AmbientScreen(f"Ambient for {workload.kind} {workload.name}",
                                             f"{pod.name}: {current}", [choice]), chosen_workload)
        return
    name = screen.selected_namespace
    ns = snap.namespaces[("", name)]

    def chosen(c: AmbientChoice | None) -> None:
        if c is None:
            return
        then = (lambda: offer_restart(screen, name, want_sidecar=False)) if c.enabled else None
        preview(screen, lambda s: ambient_plan(s, name, enabled=c.enabled), then=then)

    screen.app.push_screen(AmbientScreen(f"Ambient for {name}", ns.dataplane,
                                         namespace_choices(ns.dataplane, name)), chosen)

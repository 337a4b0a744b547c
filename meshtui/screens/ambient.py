"""The ambient picker (`a`): add or remove a namespace, move it from sidecars, opt a workload out.

The picker only chooses; the main screen plans (meshtui.change.plan) and sends the plan through the
same preview, dry run, journal and undo as every other change. Moving from sidecars offers the
restart next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from meshtui.model.objects import DATAPLANE_LABEL, Workload
from meshtui.screens.change import ChoiceScreen


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


def workload_choice(workload: Workload) -> AmbientChoice:
    """Opt the workload out of ambient, or back in when its pods carry the opt-out label."""
    opted_out = workload.template_labels.get(DATAPLANE_LABEL) == "none"
    return AmbientChoice(
        f"Opt {workload.name} back into ambient (remove {DATAPLANE_LABEL}=none; rolls its pods)" if opted_out
        else f"Opt {workload.name} out of ambient ({DATAPLANE_LABEL}=none on its pods; rolls them)",
        "workload", opted_out)

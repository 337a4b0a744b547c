"""The change flow every screen that changes the cluster shares: plan → preview (dry run) → apply →
journal → (restart). The main screen's and the migration's pickers end here.

It only chains screens; plans are pure (meshtui.change.plan) and every backend call happens in the
preview and restart workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from meshtui.change.apply import ApplyResult
from meshtui.change.plan import ChangePlan, PlanError, workloads_to_restart
from meshtui.model.objects import Pod, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.explain import Observed
from meshtui.screens.base import MeshScreen
from meshtui.screens.change import result_notice
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.change_restart import RestartScreen
from meshtui.tls.observed import checked_pods, evidence_note, is_recent, observed_callers

if TYPE_CHECKING:
    from meshtui.app import MeshApp


def observed_plaintext(app: MeshApp) -> Sequence[Observed]:
    """Plaintext callers seen in the traffic: those of the last TLS check, if it is recent."""
    report, snap = app.tls_report, app.snapshot
    if report is None or snap is None or not is_recent(app.tls_checked_at, app.now()):
        return []
    return observed_callers(report, snap)


def recently_checked(app: MeshApp) -> frozenset[tuple[str, str]]:
    """The pods the last TLS check read, if it is recent: the preview checks the others itself."""
    return checked_pods(app.tls_report) if is_recent(app.tls_checked_at, app.now()) else frozenset()


def observed_note(app: MeshApp) -> str:
    """Where the observed callers come from, with the window and age of the evidence."""
    if app.tls_report is None or app.tls_checked_at is None:
        return ""
    now = app.now()
    if not is_recent(app.tls_checked_at, now):
        return "the last TLS check is too old to count (run t again before switching to STRICT)"
    return evidence_note(app.tls_report, app.tls_checked_at, now)


def controller_of(snap: Snapshot, pod: Pod) -> Workload | None:
    """The Deployment, StatefulSet or DaemonSet that runs ``pod`` (what a restart rolls), if any."""
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        workload = snap.workloads.get((pod.namespace, f"{kind}/{pod.workload_name}"))
        if workload is not None:
            return workload
    return None


# After a 409 the watch delivers the object's new state within its batch interval; wait that long
# (and a margin) before planning again against it.
REREAD_DELAY = 1.0

Replan = Callable[[Snapshot], ChangePlan]


def preview(screen: MeshScreen[Any], replan: Replan, then: Callable[[], None] | None = None) -> None:
    """Plan against the current snapshot and preview it. On a 409 conflict the plan is made again
    against the re-read state and previewed again, so the user confirms what will really happen."""
    snap = screen.app.snapshot
    if snap is None:
        return
    try:
        plan = replan(snap)
    except PlanError as exc:
        screen.notify(str(exc), severity="error")
        return
    if plan.empty:
        screen.notify(f"{plan.title}: nothing to change", timeout=3)
        return

    def done(result: ApplyResult | None) -> None:
        if result is None:
            screen.notify("cancelled: nothing changed", timeout=3)
            return
        if result.conflict:
            screen.notify("Changed on the cluster since it was read: re-read; review the change again",
                          severity="warning", timeout=8)
            screen.set_timer(REREAD_DELAY, lambda: preview(screen, replan, then))
            return
        notice = result_notice(result)
        screen.notify(notice.message, severity=notice.severity, timeout=8)
        if result.ok and result.applied:
            screen.app.change_applied.publish(f"{plan.title} applied")
        if result.ok and then is not None:
            then()

    backend = screen.app.connected_backend()
    if backend is None:
        return
    screen.app.push_screen(
        PreviewScreen(plan, backend, observed=observed_plaintext(screen.app), journal=screen.app.journal,
                      read_only=screen.app.settings.read_only, evidence=observed_note(screen.app),
                      checked=recently_checked(screen.app), now=screen.app.now),
        done,
    )


def offer_restart(screen: MeshScreen[Any], namespace: str, *, want_sidecar: bool) -> None:
    snap = screen.app.snapshot
    if snap is None:
        return
    workloads = workloads_to_restart(snap, namespace, want_sidecar=want_sidecar)
    if not workloads:
        return
    backend = screen.app.connected_backend()
    if backend is None:
        return
    screen.app.push_screen(RestartScreen(backend, snap, workloads, want_sidecar=want_sidecar,
                                         journal=screen.app.journal, read_only=screen.app.settings.read_only))

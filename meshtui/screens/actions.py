"""The main screen's change flows: pick → plan → preview (dry run) → apply → journal → restart.

Each flow only chains screens; plans are pure (meshtui.change.plan) and every backend call happens
in the preview / restart / undo workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from textual.screen import Screen

from meshtui.backend.base import BackendError
from meshtui.change.apply import ApplyResult, ReadOnlyError
from meshtui.change.journal import UndoResult, plan_undo
from meshtui.change.plan import (
    ChangePlan,
    MtlsScope,
    PlanError,
    injection_plan,
    mtls_plan,
    redundant_port_entries,
    workloads_to_restart,
)
from meshtui.change.ports import port_choices
from meshtui.model.objects import Pod, Workload
from meshtui.model.snapshot import Snapshot
from meshtui.policy.impact import Observed
from meshtui.screens.change import (
    InjectionChoice,
    InjectionScreen,
    ModeChoice,
    ModePickerScreen,
    result_notice,
)
from meshtui.screens.change_preview import PreviewScreen
from meshtui.screens.change_restart import RestartScreen
from meshtui.screens.yaml_view import TextScreen
from meshtui.tls.observed import checked_pods, evidence_note, is_recent, observed_callers

if TYPE_CHECKING:
    from meshtui.screens.main import MainScreen


def observed_plaintext(screen: Screen[Any]) -> Sequence[Observed]:
    """Plaintext callers seen in the traffic: those of the last TLS check, if it is recent."""
    app = screen.app
    report, snap = app.tls_report, app.snapshot
    if report is None or snap is None or not is_recent(app.tls_checked_at, app.now()):
        return []
    return observed_callers(report, snap)


def recently_checked(screen: Screen[Any]) -> frozenset[tuple[str, str]]:
    """The pods the last TLS check read, if it is recent: the preview checks the others itself."""
    app = screen.app
    return checked_pods(app.tls_report) if is_recent(app.tls_checked_at, app.now()) else frozenset()


def observed_note(screen: Screen[Any]) -> str:
    """Where the observed callers come from, with the window and age of the evidence."""
    app = screen.app
    if app.tls_report is None or app.tls_checked_at is None:
        return ""
    now = app.now()
    if not is_recent(app.tls_checked_at, now):
        return "the last TLS check is too old to count (run t again before switching to STRICT)"
    return evidence_note(app.tls_report, app.tls_checked_at, now)


def workload_of(screen: MainScreen, pod: Pod) -> Workload | None:
    snap = screen.snapshot
    if snap is None:
        return None
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        workload = snap.workloads.get((pod.namespace, f"{kind}/{pod.workload_name}"))
        if workload is not None:
            return workload
    return None


# After a 409 the watch delivers the object's new state within its batch interval; wait that long
# (and a margin) before planning again against it.
REREAD_DELAY = 1.0

Replan = Callable[[Snapshot], ChangePlan]


def preview(screen: MainScreen, replan: Replan, then: Callable[[], None] | None = None) -> None:
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
        screen.notify(notice.message, severity=notice.severity, timeout=8)  # type: ignore[arg-type]
        if result.ok and result.applied:
            screen.app.change_applied.publish(f"{plan.title} applied")
        if result.ok and then is not None:
            then()

    screen.app.push_screen(
        PreviewScreen(plan, screen.app.backend, observed=observed_plaintext(screen), journal=screen.app.journal,
                      read_only=screen.app.settings.read_only, evidence=observed_note(screen),
                      checked=recently_checked(screen), now=screen.app.now),
        done,
    )


def open_injection(screen: MainScreen) -> None:
    snap, name = screen.snapshot, screen.selected_namespace
    if snap is None or name is None:
        return
    ns = snap.namespaces[("", name)]
    from meshtui.change.plan import revisions_in_use

    def chosen(choice: InjectionChoice | None) -> None:
        if choice is None:
            return
        preview(screen, lambda s: injection_plan(s, name, enabled=choice.enabled, revision=choice.revision),
                then=lambda: offer_restart(screen, name, want_sidecar=choice.enabled))

    screen.app.push_screen(InjectionScreen(name, ns.injection, revisions_in_use(snap)), chosen)


def offer_restart(screen: MainScreen, namespace: str, *, want_sidecar: bool) -> None:
    snap = screen.app.snapshot
    if snap is None:
        return
    workloads = workloads_to_restart(snap, namespace, want_sidecar=want_sidecar)
    if not workloads:
        return
    screen.app.push_screen(RestartScreen(screen.app.backend, snap, workloads, want_sidecar=want_sidecar,
                                         journal=screen.app.journal, read_only=screen.app.settings.read_only))


def open_restart(screen: MainScreen) -> None:
    pod = screen.current_pod()
    snap = screen.snapshot
    workload = workload_of(screen, pod) if pod else None
    if snap is None or pod is None or workload is None:
        screen.notify("select a pod of a Deployment, StatefulSet or DaemonSet to restart", timeout=3)
        return
    want = snap.namespaces[("", pod.namespace)].injection != "none" and \
        snap.namespaces[("", pod.namespace)].injection != "disabled"
    screen.app.push_screen(RestartScreen(screen.app.backend, snap, [workload], want_sidecar=want,
                                         journal=screen.app.journal, read_only=screen.app.settings.read_only))


def _scope(screen: MainScreen) -> MtlsScope | None:
    """Namespace pane → namespace (the root namespace → mesh); pods pane → the pod's workload."""
    snap = screen.snapshot
    if snap is None:
        return None
    if screen.focused is screen.pods and screen.current_pod() is not None:
        workload = workload_of(screen, screen.current_pod())  # type: ignore[arg-type]
        return MtlsScope.of_workload(workload) if workload else None
    if screen.selected_namespace is None:
        return None
    if screen.selected_namespace == snap.mesh.root_namespace:
        return MtlsScope.mesh()
    return MtlsScope.of_namespace(screen.selected_namespace)


def _current(screen: MainScreen, scope: MtlsScope) -> tuple[str, str]:
    report = screen.report
    if report is None:
        return "?", "?"
    if scope.level == "mesh":
        return report.mesh.mtls, str(report.mesh.source)
    if scope.level == "namespace":
        summary = report.namespaces.get(scope.namespace)
        return (summary.mtls, str(summary.source)) if summary else ("?", "?")
    pod = screen.current_pod()
    result = report.pods.get(pod.key) if pod else None
    return (result.mode, str(result.source)) if result else ("?", "?")


def open_mtls(screen: MainScreen, *, port_level: bool) -> None:
    snap = screen.snapshot
    if snap is None:
        return
    pod = screen.current_pod()
    if port_level:
        workload = workload_of(screen, pod) if pod else None
        if pod is None or workload is None:
            screen.notify("select a pod of a workload to set a port-level mode", timeout=3)
            return
        scope = MtlsScope.of_workload(workload)
        ports = port_choices(snap, pod)
        if not ports:
            screen.notify(f"{pod.name} declares no ports", timeout=3)
            return
    else:
        scope = _scope(screen)
        ports = []
        if scope is None:
            screen.notify("select a namespace, or a pod of a workload", timeout=3)
            return
    current, source = _current(screen, scope)

    def chosen(choice: ModeChoice | None) -> None:
        if choice is None:
            return
        target = MtlsScope.of_port(scope.workload, choice.port) if choice.port is not None and scope.workload \
            else scope
        preview(screen, lambda s: mtls_plan(s, target, choice.mode))

    label = f"{scope.describe()} ports" if port_level else scope.describe()
    hint = ""
    if port_level and scope.workload is not None:
        same = redundant_port_entries(snap, scope.workload)
        if same:
            ports_text = ", ".join(f"{p} ({m})" for p, m in same.items())
            hint = f"port {ports_text}: same as the workload's mode, changes nothing — choose it, then inherit, " \
                "to remove the entry"
    screen.app.push_screen(ModePickerScreen(label, current, source, ports, hint), chosen)


def run_undo(screen: MainScreen) -> None:
    """Plan the undo in a worker (it reads the objects back), then preview it like any change."""
    app = screen.app
    snapshot = app.snapshot or Snapshot()

    def work_() -> None:
        try:
            result = plan_undo(app.backend, app.journal, app.backend.context, snapshot,
                               read_only=app.settings.read_only)
        except (BackendError, ReadOnlyError) as exc:
            app.call_from_thread(app.notify, f"undo failed: {exc}", severity="error")
            return
        for warning in app.journal.warnings:
            app.call_from_thread(app.notify, warning, title="journal", severity="warning", timeout=10)
        app.call_from_thread(show_undo_result, screen, result)

    app.run_worker(work_, thread=True, group="undo", exclusive=True, exit_on_error=False)


def show_undo_result(screen: MainScreen, result: UndoResult) -> None:
    if result.status == "refused":
        screen.app.push_screen(TextScreen(f"Undo refused: {result.message}", result.diff))
        return
    if result.status == "planned" and result.plan is not None:

        def done(applied: ApplyResult | None) -> None:
            if applied is None:
                screen.notify("cancelled: nothing changed", timeout=3)
                return
            notice = result_notice(applied)
            screen.notify(notice.message, severity=notice.severity, timeout=8)  # type: ignore[arg-type]
            if applied.ok and not applied.dry_run and result.entry is not None:
                screen.app.change_applied.publish(f"{result.entry.title} undone")

        screen.app.push_screen(PreviewScreen(result.plan, screen.app.backend, journal=screen.app.journal,
                                             read_only=screen.app.settings.read_only, now=screen.app.now), done)
        return
    screen.notify(result.message, severity="error" if result.status == "failed" else "information", timeout=8)
    if result.status == "undone" and result.entry is not None and result.undo_entry is not None:
        screen.app.change_applied.publish(f"{result.entry.title} undone")

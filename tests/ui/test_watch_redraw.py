"""Watch batches on the main screen: what changed shows, what did not stays put (the redraw is incremental)."""

from __future__ import annotations

import copy
import gc
from typing import Any

from meshtui.idle_gc import NEVER
from meshtui.model.snapshot import Snapshot
from meshtui.policy.evaluation import evaluate
from meshtui.render import namespace_row
from meshtui.screens.main import FULL_COLLECTION_DUE
from tests.ui.pilot import populated, screen_text, wait_for

ROOT = "istio-system"


def crash_looping(raw: dict[str, Any]) -> dict[str, Any]:
    """The pod as the kubelet reports it once its first container crash-loops."""
    pod = copy.deepcopy(raw)
    pod["metadata"].pop("resourceVersion", None)
    status = pod["status"]["containerStatuses"][0]
    status["restartCount"] = int(status.get("restartCount") or 0) + 7
    status["ready"] = False
    status["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    return pod


def row_text(table: Any, key: str) -> str:
    return " ".join(str(cell) for cell in table.get_row(key))


async def test_a_modified_pods_status_shows_in_the_pods_pane(make_demo) -> None:
    demo = make_demo()
    server = demo.backend.cluster.server
    async with demo.app.run_test(size=(140, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        namespace, name = screen.pods.shown_keys[2].split("/")
        assert "CrashLoopBackOff" not in row_text(screen.pods, f"{namespace}/{name}")
        server.add(crash_looping(server.get("Pod", namespace, name)))
        await wait_for(pilot, lambda: "CrashLoopBackOff" in row_text(screen.pods, f"{namespace}/{name}"))
        await pilot.pause()
        line = next(line for line in screen_text(demo.app).splitlines() if name[:12] in line)
        assert "CrashLoopBackOff" in line


async def test_a_pod_modified_in_another_namespace_leaves_the_pods_pane_alone(make_demo) -> None:
    demo = make_demo()
    server = demo.backend.cluster.server
    async with demo.app.run_test(size=(140, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen
        screen.pods.focus()
        screen.pods.move_cursor(row=3)
        await pilot.pause()
        shown, chosen, painted = screen.pods.shown_keys, screen.pods.selected_key, screen.pods._update_count
        other = next(p for p in server.objects("Pod") if p["metadata"]["namespace"] != screen.selected_namespace
                     and p["status"].get("containerStatuses"))
        server.add(crash_looping(other))
        key = (other["metadata"]["namespace"], other["metadata"]["name"])

        def arrived() -> bool:
            report = demo.app.report
            pod = demo.app.snapshot.pods.get(key) if demo.app.snapshot else None
            return pod is not None and pod.status == "CrashLoopBackOff" and screen.report is report
        await wait_for(pilot, arrived)
        await pilot.pause()
        assert screen.pods.shown_keys == shown
        assert screen.pods.selected_key == chosen and screen.pods.cursor_row == 3
        # DataTable counts every cell or row it is given: none means nothing in the pane was redrawn.
        assert screen.pods._update_count == painted


async def test_a_root_namespace_policy_re_evaluates_every_namespaces_mode_on_screen(make_demo) -> None:
    demo = make_demo()
    server = demo.backend.cluster.server
    async with demo.app.run_test(size=(140, 40)) as pilot:
        await populated(pilot)
        screen = demo.app.screen

        def modes() -> dict[str, str]:
            return {key: str(screen.namespaces.get_row(key)[1]) for key in screen.namespaces.shown_keys}

        before = modes()
        mesh = next((p for p in server.objects("PeerAuthentication")
                     if p["metadata"]["namespace"] == ROOT and not (p.get("spec") or {}).get("selector")), None)
        policy = copy.deepcopy(mesh) if mesh else {
            "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": ROOT}, "spec": {}}
        policy["metadata"].pop("resourceVersion", None)
        mode = "DISABLE" if (policy.get("spec") or {}).get("mtls", {}).get("mode") == "STRICT" else "STRICT"
        policy.setdefault("spec", {})["mtls"] = {"mode": mode}
        server.add(policy)
        await wait_for(pilot, lambda: demo.app.report is not None and demo.app.report.mesh.source.name == "default"
                       and demo.app.report.mesh.source.namespace == ROOT and screen.report is demo.app.report
                       and modes() != before)
        await pilot.pause()
        snapshot = demo.app.snapshot
        full = evaluate(Snapshot.build(snapshot.objects(), snapshot.mesh))  # from scratch: no shared cache
        expected = {name: str(namespace_row(ns, full.namespaces.get(name), screen.palette)[1])
                    for (_, name), ns in snapshot.namespaces.items()}
        assert modes() == {key: expected[key] for key in modes()}
        changed = [key for key in before if before[key] != modes()[key]]
        assert len(changed) > 1  # more than one namespace inherits the mesh-wide mode


async def test_full_collections_wait_for_a_pause_in_typing(make_demo) -> None:
    demo = make_demo()
    before = gc.get_threshold()
    async with demo.app.run_test(size=(140, 40)) as pilot:
        await populated(pilot)
        assert gc.get_threshold()[2] == NEVER  # not triggered by allocation under a key press
        screen = demo.app.screen
        await pilot.press("k")
        for _ in range(FULL_COLLECTION_DUE):
            gc.collect(1)
        screen._collect_when_idle()
        assert gc.get_count()[2] >= FULL_COLLECTION_DUE  # a key came less than a second ago: not now
        screen._collector._last_key -= 2  # a second without keys
        screen._collect_when_idle()
        assert gc.get_count()[2] == 0
    assert gc.get_threshold() == before

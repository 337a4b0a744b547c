"""Logs on the demo (make_demo): the client column, the pod column of multi-pod tails, saved
files read back, OR-ed filters and the change markers an apply and an undo leave in the streams."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from meshtui.screens.logs import LogsScreen
from meshtui.screens.main import MainScreen
from meshtui.widgets.log_explain import LogExplain
from tests.ui.pilot import populated, press_until, screen_text, undo, wait_for
from tests.ui.test_main_actions import preview_namespace_mode, select_namespace


async def select_pod(pilot, prefix: str) -> None:
    screen = pilot.app.screen
    await pilot.press("2")
    for _ in range(40):
        if screen.selected_pod is not None and screen.selected_pod[1].startswith(prefix):
            return
        await pilot.press("j")
        await pilot.pause(0.05)
    raise AssertionError(f"no pod {prefix}")


def pod_ip(demo, prefix: str) -> str:
    return next(p.ip for p in demo.backend.snapshot().pods.values() if p.name.startswith(prefix))


def header(screen: LogsScreen) -> str:
    return str(screen.query_one("#logs-header", Static).render())


async def test_envoy_pane_and_viewer_name_the_plaintext_client(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "kubestock-staging")
        await select_pod(pilot, "ms-inventory")
        demo.advance(40)
        # legacy/batch-reporter (no sidecar) calls ms-inventory:3001 in plaintext; in the 68-column
        # pane the client keeps its workload name, and code, path and upstream stay readable.
        await wait_for(pilot, lambda: "…/batch-reporter" in screen_text(demo.app), timeout=10)
        row = next(line for line in screen_text(demo.app).splitlines() if "…/batch-reporter" in line)
        assert "in  plain 200" in row and "GET /api/v1/stock" in row and "inbound:3001" in row
        mtls_row = next(line for line in screen_text(demo.app).splitlines() if "in  mTLS" in line)
        assert "ms-order-manage" in mtls_row  # a caller in the pod's own namespace: its workload alone

        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        logs = demo.app.screen
        view = logs.log_view
        await wait_for(pilot, lambda: any(view.client_of(e) == "legacy/batch-reporter" for e in view.view))
        target = max(i for i, e in enumerate(view.view) if view.client_of(e) == "legacy/batch-reporter")
        await pilot.press("G", "up")  # select the newest line, then walk up to the plaintext one
        await press_until(pilot, "up", lambda: view.cursor == target, limit=2000, pause=0)
        ip = pod_ip(demo, "batch-reporter")
        panel = logs.query_one(LogExplain)
        await wait_for(pilot, lambda: panel.entry is not None and panel.entry.seq == view.view[target].seq)
        explained = panel.plain
        assert f"plaintext from legacy/batch-reporter ({ip}) to port 3001" in explained
        assert "legacy/batch-reporter" in screen_text(demo.app)
        # Copied as JSON, the line names its client pod (a file, without a cluster, says null).
        await pilot.press("Y")
        record = json.loads(demo.app.clipboard)
        reporter = next(p for p in demo.backend.snapshot().pods.values() if p.ip == ip)
        assert record["client"] == f"legacy/{reporter.name}" and record["tls"] == "plaintext"
        assert record["downstream_remote"].startswith(ip + ":") and record["code"] == 200


async def test_multi_pod_tail_names_each_pod_filters_with_or_and_saves_them(make_demo, tmp_path: Path) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(180, 40)) as pilot:
        await populated(pilot)
        await select_namespace(pilot, "tenant-a-orders")
        await select_pod(pilot, "order-service")
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        logs = demo.app.screen
        view = logs.log_view
        demo.advance(60)
        await wait_for(pilot, lambda: len(view.pod_labels) == 2 and len(view.view) > 50, timeout=10)
        # Short, distinct names: the ReplicaSet hash goes, the pod's own suffix stays.
        pods = sorted(view.pod_labels)
        labels = [view.pod_labels[p] for p in pods]
        assert len(set(labels)) == 2
        for pod, label in zip(pods, labels, strict=True):
            name = pod.split("/")[1]
            assert label.startswith("order-service-") and name.endswith(label.rsplit("-", 1)[1])
        text = screen_text(demo.app)
        assert all(label in text for label in labels)

        codes = {e.record.code // 100 for e in view.view if e.record.code}
        assert {2, 5} <= codes
        await pilot.press("f", "ctrl+u", *"2xx,5xx out", "enter")
        assert "filter: 2xx,5xx outbound" in header(logs)
        shown = [e.record for e in view.view]
        assert shown and all(r.code // 100 in (2, 5) and r.direction == "outbound" for r in shown)
        assert {r.code // 100 for r in shown} == {2, 5}  # either class passes
        await pilot.press("f", "ctrl+u", *"flag:UC flag:UF", "enter")
        assert "filter: flag:UC,UF" in header(logs)
        assert all({"UC", "UF"} & set(e.record.flags) for e in view.view)

        await pilot.press("f", "ctrl+u", "enter")  # no filter: save everything
        path = tmp_path / "orders.log"
        await pilot.press("s", "ctrl+u", *str(path), "enter")
        await wait_for(pilot, lambda: path.exists() and path.read_text().count("\n") == len(view.view))
        saved = path.read_text().splitlines()
        assert {line.split("/")[1] for line in saved} == {p.split("/")[1] for p in pods}
        # Opened again, the file shows the same pods under the same names.
        reopened = LogsScreen.from_lines(saved, "orders.log")
        await demo.app.push_screen(reopened)
        await wait_for(pilot, lambda: len(reopened.log_view.view) == len(saved))
        assert sorted(reopened.log_view.pod_labels.values()) == sorted(labels)


async def test_apply_and_undo_leave_markers_in_every_open_stream(make_demo) -> None:
    demo = make_demo()
    async with demo.app.run_test(size=(160, 40)) as pilot:
        await populated(pilot)
        main = demo.app.screen
        await select_namespace(pilot, "kubestock-staging")
        await select_pod(pilot, "ms-inventory")
        demo.advance(10)
        await wait_for(pilot, lambda: main.log_pane.following and len(main.log_pane.buffer) > 0)
        await pilot.press("1")
        await preview_namespace_mode(pilot, "kubestock-staging", "STRICT")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MainScreen))
        marker = "Set mTLS STRICT on namespace kubestock-staging applied ──"
        await wait_for(pilot, lambda: marker in screen_text(demo.app))
        now = demo.app.now().strftime("%H:%M:%S")
        assert f"── {now} {marker}" in screen_text(demo.app)
        # After the marker: the plaintext caller's connections are refused (NR), and named.
        demo.advance(40)
        view = main.log_pane.view

        def refused_after_marker() -> bool:
            records = [e.record for e in view.view]
            at = next(i for i, r in enumerate(records) if r.kind == "marker")
            return any("NR" in r.flags and r.tls == "plaintext" for r in records[at + 1:])

        await wait_for(pilot, refused_after_marker)
        await wait_for(pilot, lambda: any("plain   0 NR   TCP" in line and "…/batch-reporter" in line
                                          for line in screen_text(demo.app).splitlines()))
        await undo(pilot)
        await wait_for(pilot, lambda: "Set mTLS STRICT on namespace kubestock-staging undone ──" in
                       screen_text(demo.app))
        assert [e.record.kind for e in view.view].count("marker") == 2

        # A full-screen viewer open when a change lands marks it as well, whatever its filter.
        await pilot.press("2", "l")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, LogsScreen))
        logs = demo.app.screen
        await wait_for(pilot, lambda: len(logs.log_view.view) > 0)
        await pilot.press("f", *"flag:UH", "enter")
        demo.app.change_applied.publish("Set mTLS PERMISSIVE on namespace kubestock-staging applied")
        await wait_for(pilot, lambda: "PERMISSIVE on namespace kubestock-staging applied ──" in
                       screen_text(demo.app))
        assert [e.record.kind for e in logs.log_view.view] == ["marker"]


def test_pods_that_shorten_alike_keep_distinct_names() -> None:
    from meshtui.logs.buffer import LogBuffer
    from meshtui.widgets.log_view import LogView

    view = LogView(LogBuffer(10))
    names = ["shop/web-5d8f7c9b6-x2k4p", "shop/web-7c9f5d8b4-x2k4p", "mall/web-5d8f7c9b6-x2k4p",
             "mall/web-7c9f5d8b4-x2k4p"]
    for pod in names:
        view.pod_labels[pod] = view._distinct_label(pod)
    # The first keeps the short name; later ones fall back to the full name, then a number.
    assert [view.pod_labels[p] for p in names] == ["web-x2k4p", "web-7c9f5d8b4-x2k4p", "web-5d8f7c9b6-x2k4p",
                                                    "web-7c9f5d8b4-x2k#2"]

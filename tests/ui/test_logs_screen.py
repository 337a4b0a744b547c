"""LogsScreen on the demo cluster (KubeBackend over HTTP, a hand-driven clock) and in file mode."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from textual.widgets import Static

from meshtui.config import Settings
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.logs.batch import Batch
from meshtui.logs.levels import parse_levels
from meshtui.logs.parser import time_key
from meshtui.screens.logs import LogsScreen
from meshtui.widgets.log_explain import LogExplain
from meshtui.widgets.log_view import LogView
from tests.shared_fixtures import FIXTURES
from tests.ui.pilot import ScreenHost, screen_text
from tests.ui.pilot import wait_for as until

NS = "tenant-a-orders"
FIXTURE = FIXTURES / "envoy" / "access-logs.txt"


def pods_of(backend: DemoBackend, prefix: str) -> list[tuple[str, str]]:
    return sorted(key for key in backend.snapshot().pods if key[0] == NS and key[1].startswith(prefix))


@pytest.fixture
def demo(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend()


def header(screen: LogsScreen) -> str:
    return str(screen.query_one("#logs-header", Static).render())


def logs_screen(backend: DemoBackend, targets: list[tuple[str, str]], **settings: Any) -> LogsScreen:
    return LogsScreen(
        backend, lambda: list(targets), "order-service (all pods)", Settings(demo=True, **settings)
    )


async def test_workload_pods_merge_in_time_order_with_a_colour_each(demo: DemoBackend) -> None:
    targets = pods_of(demo, "order-service")
    assert len(targets) == 2
    screen = logs_screen(demo, targets)
    batches: list[Batch] = []
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        await until(pilot, lambda: screen.tail is not None)
        ingest = screen._ingest
        screen._ingest = lambda batch: (batches.append(batch), ingest(batch))[1]  # type: ignore[method-assign]
        demo.cluster.advance(20)
        await until(pilot, lambda: len({pod for batch in batches for pod, _ in batch}) == 2)
        view = screen.query_one(LogView)
        assert {e.pod for e in view.view} == {f"{ns}/{pod}" for ns, pod in targets}
        for batch in batches:
            keys = [time_key(record.time) for _, record in batch]
            assert keys == sorted(keys)
        # Two pods: each row starts with its pod, coloured per pod.
        rows = [view._segments(e) for e in view.view]
        assert {r[0][1] for r in rows} == {"pod-0", "pod-1"}
        assert "2 pods" in header(screen) and "following" in header(screen)


async def test_at_80_columns_the_header_still_says_what_is_filtered(demo: DemoBackend) -> None:
    """The header's end is cut off at 80 columns: what changes what shows comes before the rest."""
    screen = logs_screen(demo, pods_of(demo, "order-service"))
    async with ScreenHost(screen).run_test(size=(80, 24)) as pilot:
        view = screen.query_one(LogView)
        await pilot.press("e")
        await until(pilot, lambda: len(view.view) > 0)  # a problem line to move up to (later on a loaded machine)
        await pilot.press("up")
        await until(pilot, lambda: "scrolled" in screen_text(pilot.app).splitlines()[0])
        top = screen_text(pilot.app).splitlines()[0]
        assert "scrolled · filter: problems" in top and len(header(screen)) > 80  # the pod count is what is cut


async def test_problem_and_code_filters(demo: DemoBackend) -> None:
    screen = logs_screen(demo, pods_of(demo, "order-service"), log_tail_lines=1000)
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) > 100)
        seen = -1
        for _ in range(50):  # until the history of every pod has arrived (bounded)
            if len(view.view) == seen:
                break
            seen = len(view.view)
            await pilot.pause(0.3)
        total = len(view.view)
        await pilot.press("e")
        problems = [e.record for e in view.view]
        assert 0 < len(problems) < total and all(r.problem for r in problems)
        assert "filter: problems" in header(screen)
        await pilot.press("f")
        await pilot.press("ctrl+u", *"5xx out", "enter")  # replace the prefilled filter
        shown = [e.record for e in view.view]
        assert shown and all(r.code // 100 == 5 and r.direction == "outbound" for r in shown if r.code)
        assert "filter: 5xx outbound" in header(screen)
        await pilot.press("f", "ctrl+u", *"sideways", "enter")
        assert "filter: 5xx outbound" in header(screen)  # a bad word keeps the old filter
        await pilot.press("escape", "f", "ctrl+u", "enter")
        assert len(view.view) == total and "filter:" not in header(screen)


async def test_regex_search_highlights_and_moves_between_matches(demo: DemoBackend) -> None:
    screen = logs_screen(demo, pods_of(demo, "order-service"), log_tail_lines=1000)
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) > 100)
        await pilot.press("slash", *r" 50[0-9] ", "enter")
        matches = [i for i, e in enumerate(view.view) if screen._search and screen._search.matches(e)]
        assert len(matches) >= 2
        assert view.cursor == matches[-1]  # the newest match first
        assert not view.follow
        await pilot.press("N")
        assert view.cursor == matches[-2]
        await pilot.press("n")
        assert view.cursor == matches[-1]
        await pilot.press("n")
        assert view.cursor == matches[0]  # wraps around
        assert "search: / 50[0-9] /" in header(screen)
        # The explain panel follows the cursor, once it rests.
        panel = screen.query_one(LogExplain)
        await until(pilot, lambda: panel.entry is not None and panel.entry.seq == view.view[matches[0]].seq)
        # The matched text is highlighted in the rendered row.
        strip = view._strip(view.view[matches[0]], True)
        match_style = view._palette().component["match"]
        assert any(
            seg.style and seg.style.bgcolor == match_style.bgcolor and seg.text.strip().startswith("50")
            for seg in strip
        )


async def test_pause_holds_lines_and_resume_shows_them(demo: DemoBackend) -> None:
    screen = logs_screen(demo, pods_of(demo, "order-service"))
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) > 0)
        await pilot.press("space")
        assert "PAUSED" in header(screen)
        before = len(view.view)
        demo.cluster.advance(30)
        await until(pilot, lambda: len(screen._held) > 0)
        await pilot.pause(0.3)
        assert len(view.view) == before
        await pilot.press("space")
        assert len(view.view) > before
        assert "following" in header(screen)


async def test_pods_that_appear_join_and_pods_that_go_leave(demo: DemoBackend) -> None:
    first, second = pods_of(demo, "order-service")
    targets = [first]
    screen = LogsScreen(demo, lambda: list(targets), "order-service", Settings(demo=True))
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        await until(pilot, lambda: screen.tail is not None and screen.tail.targets == [first])
        targets[:] = [second]
        screen.update_cluster(demo.snapshot(), None)
        assert screen.tail.targets == [second]
        demo.cluster.advance(10)
        view = screen.query_one(LogView)
        await until(pilot, lambda: any(e.pod == f"{NS}/{second[1]}" for e in view.view))
        assert "1 pod" in header(screen)


async def test_preset_restarts_the_tail_with_new_options(demo_backend: Callable[..., DemoBackend]) -> None:
    clock = ManualClock()
    demo = demo_backend(clock)
    screen = logs_screen(demo, pods_of(demo, "order-service")[:1])
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) > 0)
        assert "last 100 lines" in header(screen)
        await pilot.press("p")
        assert screen.options.tail_lines == 1000 and "last 1000 lines" in header(screen)
        await until(pilot, lambda: len(view.view) > 0)
        first = len(view.view)
        demo.cluster.advance(120)  # two more minutes of traffic: the log now reaches well past one minute
        await until(pilot, lambda: len(view.view) > first)
        await pilot.pause(0.5)
        everything = len(view.view)
        await pilot.press("p")
        assert (screen.options.tail_lines, screen.options.since_seconds) == (None, 60)
        assert "since 1m" in header(screen)
        await until(pilot, lambda: len(view.view) > 0)
        cutoff = time_key((clock.now() - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        assert all(time_key(e.record.time) >= cutoff for e in view.view)
        assert len(view.view) < everything


async def test_raise_log_level_shows_and_restores_on_leaving(demo: DemoBackend) -> None:
    targets = pods_of(demo, "order-service")
    screen = logs_screen(demo, targets)

    def levels() -> dict[str, str]:
        return parse_levels(demo.proxy_request(NS, targets[0][1], "/logging", "POST"))

    before = levels()
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        await until(pilot, lambda: screen.tail is not None and len(screen.tail.targets) == 2)
        await pilot.press("L")
        await until(pilot, lambda: "LOG LEVEL RAISED" in header(screen))
        # The demo's Envoy, like a real one, has no "tls" logger: only known loggers are raised.
        assert levels()["connection"] == "debug" and "tls" not in levels()
        assert "LOG LEVEL RAISED (connection=debug on 2 pods)" in header(screen)
        assert screen.query_one("#logs-header").has_class("-raised")
        await pilot.press("escape")  # leaving the screen puts the levels back
        await until(pilot, lambda: levels() == before)


async def test_restore_log_levels_for_the_app_on_quit(demo: DemoBackend) -> None:
    targets = pods_of(demo, "payment-service")
    screen = logs_screen(demo, targets)
    before = parse_levels(demo.proxy_request(NS, targets[1][1], "/logging", "POST"))
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        await until(pilot, lambda: screen.tail is not None and len(screen.tail.targets) == 2)
        await pilot.press("L")
        await until(pilot, lambda: "LOG LEVEL RAISED" in header(screen))
        assert screen.restore_log_levels() == []
        assert parse_levels(demo.proxy_request(NS, targets[1][1], "/logging", "POST")) == before


def fixture_lines() -> list[str]:
    return [line for line in FIXTURE.read_text().splitlines() if line and not line.startswith("#")]


async def test_file_mode_filters_saves_and_copies(tmp_path: Path) -> None:
    screen = LogsScreen.from_lines(fixture_lines(), "ticket.log")
    app = ScreenHost(screen)
    async with app.run_test(size=(160, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) == 16)
        assert "16 lines" in header(screen)
        assert not screen.check_action("pause", ()) and not screen.check_action("level", ())
        await pilot.press("f", *"UF", "enter")
        assert len(view.view) == 6
        target = tmp_path / "uf.log"
        await pilot.press("s", "ctrl+u", *str(target), "enter")
        await until(pilot, target.exists)
        await until(pilot, lambda: target.read_text().count("\n") == 6)
        assert target.read_text().splitlines() == [e.record.raw for e in view.view]
        await pilot.press("up")
        await pilot.press("y")
        assert app.clipboard == view.selected.record.raw  # type: ignore[union-attr]


async def test_wrap_and_timestamps_change_the_layout() -> None:
    long_path = "/" + "x" * 300
    line = fixture_lines()[0].replace("/status/418", long_path)
    screen = LogsScreen.from_lines([line] * 5, "wide.log")
    async with ScreenHost(screen).run_test(size=(120, 30)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) == 5)
        assert view.virtual_size.height == 5
        await pilot.press("w")
        assert view.virtual_size.height >= 5 * 3
        assert view.virtual_size.width <= view.scrollable_content_region.width
        assert view._plain(view.view[0]).startswith("21:26:18 out ")
        await pilot.press("t")
        # The time column goes and its room goes to the other columns.
        assert view._plain(view.view[0]).startswith("out ")
        await pilot.press("w")
        assert view.virtual_size.height == 5


async def test_scrolling_up_pauses_follow_and_end_resumes(demo: DemoBackend) -> None:
    screen = logs_screen(demo, pods_of(demo, "order-service"), log_tail_lines=1000)
    async with ScreenHost(screen).run_test(size=(180, 30)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) > 100)
        # Following converges on the last line once layout settles (a scrollbar appearing moves the end).
        await until(pilot, lambda: view.scroll_y == view.max_scroll_y)
        assert view.follow
        await pilot.press("pageup")
        assert not view.follow and "scrolled" in header(screen)
        top = view.scroll_y
        demo.cluster.advance(20)
        size = len(view.view)
        await until(pilot, lambda: len(view.view) > size)
        assert view.scroll_y == top  # new lines do not move what the user reads
        await pilot.press("end")
        assert view.follow
        await until(pilot, lambda: view.scroll_y == view.max_scroll_y)


async def test_read_only_never_raises_a_proxys_log_level(demo: DemoBackend) -> None:
    targets = pods_of(demo, "order-service")
    screen = logs_screen(demo, targets, read_only=True)
    before = parse_levels(demo.proxy_request(NS, targets[0][1], "/logging", "POST"))
    async with ScreenHost(screen).run_test(size=(180, 40)) as pilot:
        await until(pilot, lambda: screen.tail is not None and len(screen.tail.targets) == 2)
        await pilot.press("L")
        await pilot.pause(0.3)
        assert "LOG LEVEL RAISED" not in header(screen)
        screen.action_level()  # as from the command palette
        await pilot.pause(0.3)
        assert "read-only mode" in "\n".join(n.message for n in pilot.app._notifications)
    assert parse_levels(demo.proxy_request(NS, targets[0][1], "/logging", "POST")) == before


async def test_problems_key_over_rendered_rows_shows_the_current_layout() -> None:
    # Rows already drawn are kept across a filter change: they must still follow the layout
    # (t hides the time column) whichever of e and t came first, and the scrollbar the new length.
    screen = LogsScreen.from_lines(fixture_lines() * 20, "ticket.log")
    app = ScreenHost(screen)
    async with app.run_test(size=(160, 40)) as pilot:
        view = screen.query_one(LogView)
        await until(pilot, lambda: len(view.view) == 320)
        await pilot.pause()
        problem_time, ok_time = "21:26:18", "09:29:27"  # a 418 line and a PassthroughCluster TCP line
        text = screen_text(app)
        assert problem_time in text and ok_time in text
        assert view.vertical_scrollbar.window_virtual_size == 320
        await pilot.press("e")
        text = screen_text(app)
        assert problem_time in text and ok_time not in text
        assert view.vertical_scrollbar.window_virtual_size == len(view.view) < 320
        await pilot.press("t")
        assert problem_time not in screen_text(app)
        await pilot.press("e")
        text = screen_text(app)
        assert problem_time not in text and ok_time not in text and "PassthroughCluster" in text
        assert view.vertical_scrollbar.window_virtual_size == 320
        await pilot.press("t")
        text = screen_text(app)
        assert problem_time in text and ok_time in text

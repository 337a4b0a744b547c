"""ResourceTable keeps its columns as wide as its widest cell in every frame it paints."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from meshtui.widgets.resource_table import ResourceTable
from tests.ui.pilot import screen_text


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ResourceTable(["NAME", "mTLS", "DATA"], id="t")


@pytest.mark.parametrize("same_rows", [True, False], ids=["cells-change", "rows-change"])
async def test_a_frame_painted_before_idle_is_not_kept_with_old_widths(same_rows: bool) -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(ResourceTable)
        table.sync([("a", ["alpha", Text("…"), "none"])])
        await pilot.pause()
        rows = [("a", ["alpha", Text("STRICT ✗12"), "sidecar"])]
        if not same_rows:
            rows.append(("b", ["beta", Text("PERMISSIVE ✗3"), "ambient"]))
        table.sync(rows)
        # A paint that lands before the table's idle (a loaded machine) must already use the new
        # widths: DataTable caches painted lines without keying them on column widths.
        table.render_line(1)
        await pilot.pause()
        text = screen_text(app)
        assert "STRICT ✗12" in text and "sidecar" in text
        if not same_rows:
            assert "PERMISSIVE ✗3" in text


async def test_columns_shrink_when_the_wide_cell_goes() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(ResourceTable)
        table.sync([("a", ["alpha", Text("PERMISSIVE ✗3"), "none"])])
        await pilot.pause()
        table.sync([("a", ["alpha", Text("STRICT"), "none"])])
        await pilot.pause()
        header = next(ln for ln in screen_text(app).splitlines() if "NAME" in ln)
        assert "mTLS    DATA" in header

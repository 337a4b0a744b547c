"""A DataTable that live-updates in place: the cursor stays on the same object, the scroll stays put."""

from __future__ import annotations

from typing import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from meshtui.text import safe_line, safe_rich

Cell = Text | str
Row = tuple[str, Sequence[Cell]]


def _safe(cell: Cell) -> Text:
    """Cells come from the cluster: control characters made visible, and a str is never markup."""
    return safe_rich(cell) if isinstance(cell, Text) else Text(safe_line(cell))


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _width(cell: Cell) -> int:
    """What DataTable measures a cell as: its widest line."""
    return max(cell_len(line) for line in _plain(cell).split("\n"))


class ResourceTable(DataTable[Cell]):
    """Rows are keyed by a stable string (namespace/name); ``sync`` diffs against what is shown."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="nav.down"),
        Binding("k", "cursor_up", "Up", show=False, id="nav.up"),
        Binding("home", "scroll_top", "Top", show=False, id="nav.top"),
        Binding("end", "scroll_bottom", "Bottom", show=False, id="nav.bottom"),
    ]

    def __init__(self, columns: Sequence[str], *, row_height: int = 1, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._column_labels = list(columns)
        self._row_height = row_height
        self._rows_shown: list[Row] = []
        self._all_rows: list[Row] = []
        # The selected row (key, index) when set_columns emptied the table: the next sync restores it.
        self._reselect: tuple[str | None, int] | None = None
        # Per row key: the cells last given, made safe, and their widths. A caller that passes the same
        # cells object again (nothing changed) costs neither sanitizing nor measuring.
        self._made: dict[str, tuple[Sequence[Cell], list[Text], list[int]]] = {}
        self.filter_text = ""

    def on_mount(self) -> None:
        self.add_columns(*self._column_labels)

    def set_columns(self, columns: Sequence[str]) -> None:
        """Change the columns; the next ``sync`` (whose rows must match them) redraws every row."""
        if list(columns) == self._column_labels:
            return
        self._column_labels = list(columns)
        if self.is_mounted:
            if self._reselect is None:
                self._reselect = (self.selected_key, self.cursor_row)
            self.clear(columns=True)
            self.add_columns(*self._column_labels)
            self._rows_shown = []

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    @property
    def shown_keys(self) -> list[str]:
        return [key for key, _ in self._rows_shown]

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._show(self._all_rows)

    def sync(self, rows: Sequence[Row]) -> None:
        made: dict[str, tuple[Sequence[Cell], list[Text], list[int]]] = {}
        for key, cells in rows:
            before = self._made.get(key)
            if before is None or before[0] is not cells:
                safe = [_safe(c) for c in cells]
                before = (cells, safe, [_width(c) for c in safe])
            made[key] = before
        self._made = made
        self._all_rows = [(key, made[key][1]) for key, _ in rows]
        self._show(self._all_rows)

    def _show(self, rows: Sequence[Row]) -> None:
        needle = self.filter_text.lower()
        if needle:
            rows = [r for r in rows if any(needle in _plain(c).lower() for c in r[1])]
        new_keys = [k for k, _ in rows]
        if new_keys == [k for k, _ in self._rows_shown]:
            # Same rows in the same order: touch only the cells that changed (no flicker, no jump).
            for (key, cells), (_, old) in zip(rows, self._rows_shown, strict=True):
                if cells is old:
                    continue
                for col, (cell, before) in enumerate(zip(cells, old, strict=True)):
                    if cell != before:
                        # Widths come from _fit_columns: DataTable's own update_width re-measures the
                        # whole column for every changed cell narrower than it (seconds at 20,000 pods).
                        self.update_cell_at(Coordinate(self.get_row_index(key), col), cell)
            self._rows_shown = list(rows)
            self._fit_columns(rows)
            return
        keep, old_index = self._reselect or (self.selected_key, self.cursor_row)
        self._reselect = None
        scroll = self.scroll_offset
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key, height=self._row_height)
        self._rows_shown = list(rows)
        self._fit_columns(rows)
        if not rows:
            return
        if keep in new_keys:
            index = new_keys.index(keep)
        else:
            # The selected object went away: stay at the same height rather than jump to the top.
            index = min(old_index, len(rows) - 1)
        self.move_cursor(row=index, animate=False, scroll=False)
        self.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)
        self.call_after_refresh(self._keep_cursor_visible)

    def _fit_columns(self, rows: Sequence[Row]) -> None:
        """Columns as wide as their widest cell, set now rather than on the table's next idle.

        DataTable caches painted lines without keying them on column widths: a frame painted
        between an update and that idle (a loaded machine) would stay on screen with the old widths,
        cutting "STRICT ✗3" to "STRI". Setting them here also shrinks a column a long cell once grew.
        """
        widths = [self._made[key][2] if key in self._made else [_width(c) for c in cells] for key, cells in rows]
        for i, column in enumerate(self.ordered_columns):
            width = max([column.label.cell_len, *(w[i] for w in widths if i < len(w))])
            if width != column.content_width:
                column.content_width = width
                self._require_update_dimensions = True  # DataTable's flag: recompute the virtual size

    def _keep_cursor_visible(self) -> None:
        self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

    def action_scroll_top(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

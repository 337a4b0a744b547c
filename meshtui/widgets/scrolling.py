"""Scroll views whose content grows or changes often, without a screen layout each time."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Give ``view`` a new content size, updating only it and its scrollbars.

    Assigning virtual_size lays the whole screen out again and repaints every widget. A view with
    a fixed size on screen (a log that grows with each batch of lines, a side panel whose text
    changes) affects nothing but its own rows and scrollbars: set the size quietly and update those,
    as Textual's own _size_updated does when it needs no layout. A scrollbar that appears or goes
    asks for a layout itself. This leans on Textual's private _scroll_update (Textual 8): a Textual
    upgrade is checked by tests/ui/test_log_explain.py and the log view's tests.
    """
    if size == view.virtual_size:
        return
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)
    view.refresh()

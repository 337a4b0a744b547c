"""Scroll views whose content grows or changes often, without a screen layout each time."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Give ``view`` a new content size, updating only it and the scrollbars whose bar changes.

    Assigning virtual_size lays the whole screen out again and repaints every widget, and Textual's
    own scrollbar update repaints both bars whatever changed. A view with a fixed size on screen (a
    log that grows with each batch of lines, a side panel whose text changes) affects nothing but
    its rows and bars: set the size quietly and give each bar its new extent, which repaints a bar
    only when the value differs (they are reactives). A scrollbar that appears or goes asks for a
    layout itself. Showing or hiding them goes through Textual's private _refresh_scrollbars
    (Textual 8): tests/ui/test_log_explain.py and the log view's tests check it on an upgrade.
    """
    if size == view.virtual_size:
        return
    view.set_reactive(Widget.virtual_size, size)
    view._refresh_scrollbars()
    width, height = view.container_size
    if view.show_vertical_scrollbar and view.styles.scrollbar_size_vertical:
        view.vertical_scrollbar.window_virtual_size = size.height
        view.vertical_scrollbar.window_size = height - view.scrollbar_size_horizontal
    if view.show_horizontal_scrollbar and view.styles.scrollbar_size_horizontal:
        view.horizontal_scrollbar.window_virtual_size = size.width
        view.horizontal_scrollbar.window_size = width - view.scrollbar_size_vertical
    view.scroll_x = view.validate_scroll_x(view.scroll_x)
    view.scroll_y = view.validate_scroll_y(view.scroll_y)
    view.refresh()

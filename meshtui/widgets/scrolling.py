"""Scroll views whose content grows or changes often, without a screen layout each time, a
vertical scrollbar drawn once per change of what it shows, and the test for a widget whose rows
Textual's style pass would leave as they are."""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget


def plain_box(widget: Widget) -> bool:
    """Whether Textual's per-row style pass (Textual 8's _styles_cache) leaves ``widget``'s content
    rows as they are, but for the line filters: no border, outline, padding, hatch, tint or opacity.
    tests/ui/test_scrollbars.py checks, on an upgrade too, that rows drawn without it are Textual's."""
    styles = widget.styles
    return (not any(edge for edge, _color in styles.border) and not any(edge for edge, _color in styles.outline)
            and not any(styles.padding) and not styles.tint.a and widget.opacity == 1.0
            and styles.text_opacity == 1.0 and (not styles.has_rule("hatch") or styles.hatch == "none"))


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


class CachedScrollBar(ScrollBar):
    """A scrollbar that keeps its rendered rows until what it shows changes.

    Textual renders a scrollbar as a Rich renderable and passes each of its rows through the
    widget style pipeline: 3 ms per frame for a 48-row bar, a third of the log view's frame when
    the bar moves (a filter key, a growing filtered view; tests/bench/bench_logs.py). Its rows
    are a few distinct strips: they are rendered once per thumb position and size, and cropped.
    """

    _key: tuple[object, ...] | None = None
    _strips: list[Strip] = []

    def render_lines(self, crop: Region) -> list[Strip]:
        renderable = self.render()
        width, height = self.size
        filters = tuple(self.get_line_filters())
        background = self.background_colors[1]
        base = self.visual_style.rich_style  # under the bar's own colours, as Textual's pipeline puts it
        key = (width, height, filters, background, base, *_drawn(renderable))
        if key != self._key:
            console = self.app.console
            lines = console.render_lines(renderable, console.options.update_dimensions(width, height), pad=True)
            strips = [Strip(line, width).apply_style(base) for line in lines]
            for line_filter in filters:
                strips = [strip.apply_filter(line_filter, background) for strip in strips]
            self._key, self._strips = key, strips
        return [strip.crop(crop.x, crop.right) for strip in self._strips[crop.y:crop.bottom]]


def _drawn(renderable: object) -> tuple[object, ...]:
    """What a scrollbar's renderable draws."""
    if isinstance(renderable, ScrollBarRender):
        return (renderable.virtual_size, renderable.window_size, renderable.position, renderable.thickness,
                renderable.vertical, renderable.style)
    return (renderable,)


class CachedBarScrollView(ScrollView):
    """A ScrollView whose vertical scrollbar is a CachedScrollBar. Textual makes a widget's bars on
    first use, through the private _vertical_scrollbar and App._start_widget (Textual 8):
    tests/ui/test_scrollbars.py checks on an upgrade that the bar is this one and draws what
    Textual's would."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            bar = self._vertical_scrollbar = CachedScrollBar(
                vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

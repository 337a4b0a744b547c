"""Themes: YAML files holding a Textual theme plus meshtui's own colour variables.

meshtui's variables are filled with defaults (by light/dark) so a user theme may set only the
Textual colours. A broken file yields a notice and the caller falls back to the default theme.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from meshtui.resources import bundled, bundled_names
from meshtui.yamlfile import Readable, YamlFileError, load_yaml_file

DEFAULT_THEME = "meshtui-dark"

MESHTUI_VARIABLES_DARK: dict[str, str] = {
    "mtls-strict": "#3fb950",
    "mtls-permissive": "#d29922",
    "mtls-disabled": "#f85149",
    "mtls-mixed": "#a371f7",
    "mtls-inherited": "#8b949e",
    "sidecar-missing": "#f85149",
    "log-2xx": "#8b949e",
    "log-3xx": "#58a6ff",
    "log-4xx": "#d29922",
    "log-5xx": "#f85149",
    "log-flag": "#ff7b72",
}

MESHTUI_VARIABLES_LIGHT: dict[str, str] = {
    "mtls-strict": "#1a7f37",
    "mtls-permissive": "#9a6700",
    "mtls-disabled": "#cf222e",
    "mtls-mixed": "#8250df",
    "mtls-inherited": "#6e7781",
    "sidecar-missing": "#cf222e",
    "log-2xx": "#57606a",
    "log-3xx": "#0969da",
    "log-4xx": "#9a6700",
    "log-5xx": "#cf222e",
    "log-flag": "#a40e26",
}

_COLOR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)


class ThemeError(Exception):
    pass


def _check_color(label: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"theme {label}: '{key}' must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"theme {label}: '{key}': invalid colour '{value}'") from None
    return value


def theme_from_mapping(data: Any, label: str) -> Theme:
    if not isinstance(data, dict):
        raise ThemeError(f"theme {label}: expected a mapping")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"theme {label}: 'name' is required")
    if "primary" not in data:
        raise ThemeError(f"theme {label}: 'primary' colour is required")
    unknown = set(data) - {"name", "dark", "variables", *_COLOR_FIELDS}
    if unknown:
        raise ThemeError(f"theme {label}: unknown field '{sorted(unknown)[0]}'")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"theme {label}: 'dark' must be true or false")
    colors = {k: _check_color(label, k, data[k]) for k in _COLOR_FIELDS if k in data}
    variables = dict(MESHTUI_VARIABLES_DARK if dark else MESHTUI_VARIABLES_LIGHT)
    extra = data.get("variables") or {}
    if not isinstance(extra, dict):
        raise ThemeError(f"theme {label}: 'variables' must be a mapping")
    for key, value in extra.items():
        # Textual variables may be values like "bold" or "30%"; only meshtui's are colours.
        variables[str(key)] = _check_color(label, f"variables.{key}", value) if key in variables else str(value)
    get = colors.get
    return Theme(name=name, dark=dark, variables=variables, primary=colors["primary"], secondary=get("secondary"),
                 warning=get("warning"), error=get("error"), success=get("success"), accent=get("accent"),
                 foreground=get("foreground"), background=get("background"), surface=get("surface"),
                 panel=get("panel"), boost=get("boost"))


def load_theme_file(path: Readable, label: str) -> Theme:
    try:
        data = load_yaml_file(path)
    except YamlFileError as exc:
        raise ThemeError(f"theme {label}{exc.where}: {exc.problem}") from None
    return theme_from_mapping(data, label)


def bundled_themes() -> list[Theme]:
    return [load_theme_file(bundled("themes") / f"{n}.yaml", n) for n in bundled_names("themes")]


def resolve_theme(name_or_path: str, known: dict[str, Theme]) -> tuple[Theme | None, str | None]:
    """A registered theme by name, or a theme file by path. Returns (theme, problem)."""
    if name_or_path in known:
        return known[name_or_path], None
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            return load_theme_file(path, str(path)), None
        except ThemeError as exc:
            return None, f"{exc}; using {DEFAULT_THEME}"
    names = ", ".join(sorted(known))
    return None, f"theme '{name_or_path}' not found (available: {names}); using {DEFAULT_THEME}"

from pathlib import Path

import pytest

from meshtui.theming import (
    DEFAULT_THEME,
    MESHTUI_VARIABLES_DARK,
    ThemeError,
    bundled_themes,
    load_theme_file,
    resolve_theme,
)


def test_bundled_themes_define_every_meshtui_variable() -> None:
    themes = {t.name: t for t in bundled_themes()}
    assert {"meshtui-dark", "meshtui-light", "meshtui-high-contrast"} <= set(themes)
    for theme in themes.values():
        assert set(MESHTUI_VARIABLES_DARK) <= set(theme.variables), theme.name
    assert themes["meshtui-light"].dark is False


def test_user_theme_with_only_textual_colours_gets_meshtui_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nprimary: '#123456'\ndark: false\n")
    theme = load_theme_file(path, str(path))
    assert theme.name == "mine" and theme.primary == "#123456"
    assert theme.variables["mtls-strict"] == "#1a7f37"  # the light default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nprimary: notacolour\n", "'primary': invalid colour 'notacolour'"),
        ("primary: '#fff'\n", "'name' is required"),
        ("name: x\n", "'primary' colour is required"),
        ("name: x\nprimary: '#fff'\nsparkle: true\n", "unknown field 'sparkle'"),
        ("name: x\nprimary: '#fff'\nvariables:\n  mtls-strict: blurple\n", "variables.mtls-strict"),
        ("name: x\nprimary: '#fff\n", "invalid YAML"),
        ("- a\n", "expected a mapping"),
    ],
)
def test_broken_theme_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ThemeError, match=message):
        load_theme_file(path, str(path))


def test_resolve_falls_back_with_a_notice(tmp_path: Path) -> None:
    known = {t.name: t for t in bundled_themes()}
    theme, problem = resolve_theme("meshtui-light", known)
    assert theme is known["meshtui-light"] and problem is None
    theme, problem = resolve_theme("no-such-theme", known)
    assert theme is None and "not found" in problem and DEFAULT_THEME in problem
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [")
    theme, problem = resolve_theme(str(bad), known)
    assert theme is None and str(bad) in problem

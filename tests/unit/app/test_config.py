from pathlib import Path

import pytest

from meshtui.config import ConfigError, Settings, build_settings, default_config_path, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_missing_default_file_is_fine(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.yaml") == {}


def test_missing_required_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml", required=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("theme: [unclosed", r"config.yaml:1: invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("colour: red\n", "unknown setting 'colour'"),
        ("read_only: 1\n", "'read_only' must be true or false"),
        ("log_buffer_lines: yes\n", "'log_buffer_lines' must be a whole number"),
        ("log_buffer_lines: 5\n", "at least 100"),
        ("theme: 3\n", "'theme' must be a string"),
    ],
)
def test_bad_config_gives_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_flags_override_file_and_none_means_not_given(tmp_path: Path) -> None:
    values = load_config(write(tmp_path, "theme: meshtui-light\nkeymap: vim\nlog_buffer_lines: 1000\n"))
    settings = build_settings(values, {"theme": "meshtui-high-contrast", "keymap": None, "demo": True})
    assert settings == Settings(demo=True, theme="meshtui-high-contrast", keymap="vim", log_buffer_lines=1000)


def test_xdg_config_home_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESHTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "meshtui" / "config.yaml"

"""Settings: the config file (XDG), then command-line flags on top. No Textual here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from meshtui.yamlfile import YamlFileError, load_yaml_file


class ConfigError(Exception):
    """An unusable config file; the message is one line naming the file and the problem."""


@dataclass(frozen=True, slots=True)
class Settings:
    demo: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    theme: str = "meshtui-dark"
    keymap: str = "default"
    log_buffer_lines: int = 50_000
    log_tail_lines: int = 100
    read_only: bool = False
    root_namespace: str = "istio-system"
    seed: int = 7
    # The migration wizard's windows, in seconds: observe sampling, quiet period, verify.
    migrate_window_s: int = 30
    migrate_quiet_s: int = 300
    migrate_verify_s: int = 120
    auto_rollback: bool = False


# Keys the config file may set, with the type each must have.
_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "theme": str,
    "keymap": str,
    "log_buffer_lines": int,
    "log_tail_lines": int,
    "read_only": bool,
    "root_namespace": str,
    "kubeconfig": str,
    "context": str,
    "namespace": str,
    "migrate_window_s": int,
    "migrate_quiet_s": int,
    "migrate_verify_s": int,
    "auto_rollback": bool,
}


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "meshtui"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "meshtui"


def default_config_path() -> Path:
    env = os.environ.get("MESHTUI_CONFIG")
    return Path(env) if env else config_dir() / "config.yaml"


def load_config(path: Path, *, required: bool = False) -> dict[str, Any]:
    """Read and validate the config file. A missing default file is fine; a broken one is not."""
    try:
        data = load_yaml_file(path)
    except YamlFileError as exc:
        if exc.missing and not required:
            return {}
        problem = "no such config file" if exc.missing else exc.problem
        raise ConfigError(f"{path}{exc.where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    for key, value in data.items():
        expected = _FILE_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(_FILE_KEYS))
            raise ConfigError(f"{path}: unknown setting '{key}' (known: {known})")
        # bool is an int subclass; a number where a flag is expected is still a mistake.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: setting '{key}' must be {_type_name(expected)}, got {value!r}")
    if "log_buffer_lines" in data and data["log_buffer_lines"] < 100:
        raise ConfigError(f"{path}: setting 'log_buffer_lines' must be at least 100")
    for key in ("migrate_window_s", "migrate_quiet_s", "migrate_verify_s"):
        if key in data and data[key] < 1:
            raise ConfigError(f"{path}: setting '{key}' must be at least 1 (seconds)")
    return dict(data)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false"}
    return names.get(expected, str(expected)) if isinstance(expected, type) else str(expected)


def build_settings(file_values: Mapping[str, Any], overrides: Mapping[str, Any]) -> Settings:
    """Defaults, then the config file, then flags (only those the user actually gave: not None)."""
    names = {f.name for f in fields(Settings)}
    merged = {k: v for k, v in file_values.items() if k in names}
    merged.update({k: v for k, v in overrides.items() if k in names and v is not None})
    return replace(Settings(), **merged)

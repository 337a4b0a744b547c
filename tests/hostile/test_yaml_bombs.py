"""Resource bombs in YAML: refused quickly, in bounded memory, with one line naming the limit."""

from __future__ import annotations

import io
import time
import tracemalloc
from pathlib import Path

import pytest

from meshtui import yamlfile
from meshtui.config import ConfigError, load_config
from meshtui.manifests import ManifestError, load_paths
from tests.hostile.counter import count


def _laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "kind: Namespace\nmetadata: {name: x}\n" + "\n".join(lines) + "\n"


BOMBS = {
    "billion laughs": (_laughs(), "expands to more than"),
    "many aliases": ("a: &a x\nb: [" + ",".join(["*a"] * (yamlfile.MAX_ALIASES + 1)) + "]\n",
                     "more than 10000 aliases"),
    # libyaml's scanner stops a deep flow collection itself, before meshtui sees the events.
    "deep flow": ("[" * 5000 + "]" * 5000, "nested deeper than 100 levels|exceeded maximum nesting depth"),
    "deep block": ("".join(f"{' ' * i}k:\n" for i in range(300)), "nested deeper than 100 levels"),
    "many documents": ("---\n" * (yamlfile.MAX_DOCUMENTS + 5), "more than 10000 documents"),
    "huge scalar": ("k: " + "x" * (yamlfile.MAX_YAML_BYTES + 10), "larger than 32 MiB"),
}


@pytest.mark.parametrize(("text", "message"), BOMBS.values(), ids=BOMBS.keys())
def test_manifest_bombs_are_refused_in_bounded_time_and_memory(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    count("YAML bombs")
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ManifestError, match=message) as info:
            load_paths([str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    # The text itself is read once (the 32 MiB scalar); nothing is expanded from it.
    assert peak < 2 * yamlfile.MAX_YAML_BYTES + 50_000_000
    assert str(info.value).startswith(f"{path}") and "\n" not in str(info.value)


def test_stdin_is_bounded_too() -> None:
    count("YAML bombs")
    with pytest.raises(ManifestError, match=r"<stdin>: refused: larger than 32 MiB"):
        load_paths(["-"], stdin=io.StringIO("x" * (yamlfile.MAX_YAML_BYTES + 1)))


def test_config_bomb_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(_laughs())
    count("YAML bombs")
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: refused: expands to more than"):
        load_config(path, required=True)


def test_anchors_within_limits_still_load() -> None:
    docs = yamlfile.load_all("base: &b {a: 1}\nuse: *b\n---\nother: 2\n")
    assert docs == [{"base": {"a": 1}, "use": {"a": 1}}, {"other": 2}]


def test_the_c_loader_is_used_when_available() -> None:
    import yaml

    assert yamlfile.Loader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


@pytest.mark.parametrize("name", ["billion laughs", "deep block", "deep flow", "many aliases"])
def test_the_pure_loader_enforces_the_same_limits(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    import yaml

    monkeypatch.setattr(yamlfile, "Loader", yaml.SafeLoader)
    count("YAML bombs")
    with pytest.raises(yamlfile.YamlLimitError, match=BOMBS[name][1]):
        yamlfile.load_all(BOMBS[name][0])

"""Read a small YAML file (config, keymap, theme) or say in one line what is wrong with it."""

from __future__ import annotations

from typing import Any, Protocol

import yaml


class Readable(Protocol):
    def read_text(self, encoding: str = ...) -> str: ...


class YamlFileError(Exception):
    """``where`` is ":LINE" for a YAML error (empty otherwise); ``problem`` says what is wrong."""

    def __init__(self, problem: str, *, where: str = "", missing: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where
        self.missing = missing


def load_yaml_file(path: Readable) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError("no such file", missing=True) from None
    except OSError as exc:
        raise YamlFileError(f"cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlFileError(f"invalid YAML: {problem}", where=where) from None

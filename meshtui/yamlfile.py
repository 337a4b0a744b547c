"""Reading YAML from outside with bounded time and memory, and saying in one line what is wrong.

Every YAML meshtui reads (manifests, config, keymaps, themes) goes through :func:`load_all`, which
first walks the parser's events and refuses, before anything is built:

- more than MAX_YAML_BYTES of text (a 50 MB scalar),
- more than MAX_DOCUMENTS documents,
- nesting deeper than MAX_DEPTH,
- more than MAX_ALIASES aliases, or documents that would expand to more than MAX_NODES nodes
  ("billion laughs": nine levels of ten aliases each are a billion nodes in ~200 bytes).

libyaml's C parser is used when PyYAML was built with it (several times faster); the pure-Python
one otherwise. The limits are documented in docs/limits.md.
"""

from __future__ import annotations

from typing import Any, Protocol

import yaml

MAX_YAML_BYTES = 32 * 1024 * 1024
MAX_DOCUMENTS = 10_000
MAX_DEPTH = 100
MAX_ALIASES = 10_000
MAX_NODES = 2_000_000

Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Readable(Protocol):
    def read_text(self, encoding: str = ...) -> str: ...


class YamlLimitError(yaml.YAMLError):
    """Input over one of the limits; the message says which, with its line where one is known."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


class YamlFileError(Exception):
    """``where`` is ":LINE" for a YAML error (empty otherwise); ``problem`` says what is wrong."""

    def __init__(self, problem: str, *, where: str = "", missing: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where
        self.missing = missing


def _line(event: yaml.Event) -> int | None:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None


def check_limits(text: str) -> None:
    """Raise YamlLimitError if ``text`` is over a limit (or yaml.YAMLError if it is not YAML)."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(f"larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB")
    documents = aliases = expanded = 0
    # Per open collection: [its expanded size so far, its anchor]; anchors map to their expanded size.
    stack: list[list[Any]] = []
    anchors: dict[str, int] = {}
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > MAX_DOCUMENTS:
                raise YamlLimitError(f"more than {MAX_DOCUMENTS} documents", _line(event))
            anchors.clear()  # anchors do not cross documents
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels", _line(event))
            stack.append([1, event.anchor])
            expanded += 1
            continue
        if isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
            expanded += 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases", _line(event))
            size, anchor = anchors.get(event.anchor or "", 1), None
            expanded += size
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = stack.pop()
        else:
            continue
        if expanded > MAX_NODES:
            raise YamlLimitError(f"expands to more than {MAX_NODES} nodes (aliases of aliases)", _line(event))
        if anchor:
            anchors[anchor] = size
        if stack:
            stack[-1][0] += size


def load_all(text: str) -> list[Any]:
    """Every document of a YAML stream, within the limits. Raises yaml.YAMLError (YamlLimitError)."""
    check_limits(text)
    return list(yaml.load_all(text, Loader=Loader))


def load_yaml_file(path: Readable) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError("no such file", missing=True) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        documents = load_all(text)
    except YamlLimitError as exc:
        raise YamlFileError(f"refused: {exc.problem}", where=f":{exc.line}" if exc.line else "") from None
    except yaml.YAMLError as exc:
        # An unclosed bracket or quote is found where the stream ends; where it began is what helps.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlFileError(f"invalid YAML: {problem}", where=where) from None
    return documents[0] if documents else None

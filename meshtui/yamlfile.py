"""Reading YAML from outside with bounded time and memory, and saying in one line what is wrong.

Every YAML meshtui reads (manifests, config, keymaps, themes) goes through :func:`load_all`, which
refuses, from the parser's events and before anything is expanded:

- more than MAX_YAML_BYTES of text (a 50 MB scalar),
- more than MAX_DOCUMENTS documents,
- nesting deeper than MAX_DEPTH,
- more than MAX_ALIASES aliases, or documents that would expand to more than MAX_NODES nodes
  ("billion laughs": nine levels of ten aliases each are a billion nodes in ~200 bytes).

libyaml's C parser is used when PyYAML was built with it (several times faster); the pure-Python
one otherwise. The limits are documented in docs/limits.md.

The documents are built from the parser's events in the same pass that checks the limits: PyYAML's
own way composes a node graph and walks it with its pure-Python constructor, which took three
quarters of the time for 10,000 small manifests (tests/bench/bench_manifests.py). What that pass
does not build itself (explicit tags, merge keys, keys that are maps) is left to PyYAML whole.
"""

from __future__ import annotations

from functools import lru_cache
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


class YamlValueError(yaml.YAMLError):
    """A value PyYAML parsed but its constructor cannot build (an empty ``!!int``, the 30th of
    February): PyYAML raises a bare IndexError or ValueError there, which would end in a traceback."""


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


class _Unusual(Exception):
    """A construct the event pass leaves to PyYAML's constructor."""


_STR = "tag:yaml.org,2002:str"
# Plain scalars with these tags are left to PyYAML whole; the others (null, bool, int, float,
# timestamp) are built with its safe constructor's own functions.
_UNUSUAL_TAGS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value", "tag:yaml.org,2002:yaml"})


_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# The first characters of plain scalars some implicit resolver may take for something else than a
# string (None: any character may).
_MAYBE_TYPED = None if None in _RESOLVER.yaml_implicit_resolvers else frozenset(_RESOLVER.yaml_implicit_resolvers)


@lru_cache(maxsize=4096)
def _plain(value: str) -> Any:
    """The Python value PyYAML's safe loader makes of a plain scalar: keys such as "name" and values
    such as 8080 repeat in every document, and resolving them anew took a fifth of the time. Every
    value is immutable (str, int, float, bool, None, datetime), so sharing one is safe."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]  # stubs leave it bare
    if tag == _STR:
        return value
    if tag in _UNUSUAL_TAGS or tag not in _CONSTRUCTOR.yaml_constructors:
        raise _Unusual
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    except Exception:  # an impossible date, say: PyYAML's own error (or traceback) as before
        raise _Unusual from None


def _load_checked(text: str) -> list[Any]:
    """check_limits and yaml.load_all in one pass over the events. Per-event Python work is where the
    time goes: the common case (a plain scalar in an open collection) is kept short, with the open
    collection, its kind and its pending key in locals rather than at the top of a stack."""
    documents: list[Any] = []
    count = aliases = expanded = 0
    # The collection the next value goes into (the documents at the top), whether it is a mapping,
    # its pending key, the expanded count before it (its expanded size is the count after it less
    # that) and its anchor; `outer` keeps the same for each collection around it.
    container: Any = documents
    in_map = False
    before = 0
    anchor: str | None = None
    outer: list[tuple[Any, bool, Any, int, str | None]] = []
    no_key: Any = outer  # a marker no key can be
    key = no_key
    anchors: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    first, plain, max_nodes, max_depth = _MAYBE_TYPED, _plain, MAX_NODES, MAX_DEPTH
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    loader = Loader(text)
    get_event = loader.get_event
    try:
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                tag = event.tag
                if tag is not None and tag != "!":
                    raise _Unusual
                value = event.value
                if event.implicit[0] and (first is None or value[:1] in first):
                    value = plain(value)
                expanded += 1
                if expanded > max_nodes:
                    raise YamlLimitError(f"expands to more than {MAX_NODES} nodes (aliases of aliases)", _line(event))
                if event.anchor:
                    if event.anchor in anchors:
                        raise _Unusual  # PyYAML refuses a duplicate anchor
                    anchors[event.anchor] = value
                    sizes[event.anchor] = 1
            elif kind is map_end or kind is seq_end:
                value = container
                if anchor:
                    sizes[anchor] = expanded - before
                container, in_map, key, before, anchor = outer.pop()
                if in_map and key is no_key:
                    raise _Unusual  # a collection as a key: PyYAML refuses it (unhashable) in its own words
            elif kind is map_start or kind is seq_start:
                if event.tag is not None and event.tag != "!":
                    raise _Unusual
                if len(outer) >= max_depth:
                    raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels", _line(event))
                outer.append((container, in_map, key, before, anchor))
                in_map = kind is map_start
                container = {} if in_map else []
                key, before, anchor = no_key, expanded, event.anchor
                if anchor:
                    if anchor in anchors:
                        raise _Unusual
                    anchors[anchor] = container  # an alias inside it is the collection itself
                expanded += 1
                if expanded > max_nodes:
                    raise YamlLimitError(f"expands to more than {MAX_NODES} nodes (aliases of aliases)", _line(event))
                continue
            elif kind is alias_event:
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise YamlLimitError(f"more than {MAX_ALIASES} aliases", _line(event))
                if event.anchor not in anchors:
                    raise _Unusual  # undefined: PyYAML's composer says so
                value = anchors[event.anchor]
                # An alias of a collection still open counts 1, as in check_limits.
                expanded += sizes.get(event.anchor, 1)
                if expanded > max_nodes:
                    raise YamlLimitError(f"expands to more than {MAX_NODES} nodes (aliases of aliases)", _line(event))
                if in_map and key is no_key and (type(value) is dict or type(value) is list):
                    raise _Unusual
            elif kind is yaml.DocumentStartEvent:
                count += 1
                if count > MAX_DOCUMENTS:
                    raise YamlLimitError(f"more than {MAX_DOCUMENTS} documents", _line(event))
                anchors.clear()  # anchors do not cross documents
                sizes.clear()
                continue
            elif kind is yaml.StreamEndEvent:
                return documents
            else:
                continue
            if not in_map:
                container.append(value)
            elif key is no_key:
                key = value
            else:
                container[key] = value
                key = no_key
    finally:
        loader.dispose()


def load_all(text: str) -> list[Any]:
    """Every document of a YAML stream, within the limits. Raises yaml.YAMLError (YamlLimitError,
    YamlValueError)."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(f"larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB")
    try:
        return _load_checked(text)
    except _Unusual:
        check_limits(text)
        try:
            return list(yaml.load_all(text, Loader=Loader))
        except (ArithmeticError, LookupError, ValueError, TypeError) as exc:
            raise YamlValueError(f"a value that cannot be built ({exc})") from None


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

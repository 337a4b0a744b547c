"""The one-pass YAML loader (meshtui.yamlfile.load_all) against PyYAML's own safe loader, on any input:
the same documents when PyYAML reads them, a YAMLError (never another exception: a traceback for the
user) when PyYAML refuses them or fails on them."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from meshtui import yamlfile
from tests.hostile.strategies import json_values

# Pieces of YAML syntax (anchors, aliases, tags, merge keys, flow and block collections, scalars that
# resolve to other types), to be strung together at random.
TOKENS = ["a", "b", ": ", ":", "- ", "-", "\n", "  ", "    ", "&x ", "*x", "&y ", "*y", "!!str ", "!!int ",
          "!custom ", "<<: ", "? ", "{", "}", "[", "]", ", ", "'", '"', "#c", "1", "0x1F", "1.5", ".nan",
          "yes", "No", "~", "null", "2001-02-03", "2001-02-30", "12:30:45", "---\n", "...\n", "|\n", ">-\n",
          "\\", "é", "\t", "%YAML 1.1\n"]
yaml_text = st.lists(st.sampled_from(TOKENS), max_size=24).map("".join)


def same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Equal values of equal types (True is not 1, NaN is NaN); aliases may make either recursive."""
    seen = set() if seen is None else seen
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (dict, list)):
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
        if len(a) != len(b):
            return False
        if isinstance(a, list):
            return all(same(x, y, seen) for x, y in zip(a, b, strict=True))
        return list(a) == list(b) and all(same(a[k], b[k], seen) for k in a)
    return bool(a == b)


def pyyaml(text: str) -> list[Any] | Exception:
    try:
        return list(yaml.load_all(text, Loader=yamlfile.Loader))
    except (yaml.YAMLError, ArithmeticError, LookupError, ValueError, TypeError) as exc:
        return exc  # PyYAML's constructor fails with bare errors on some values ("!!int" with none)


def meshtui(text: str) -> list[Any] | yaml.YAMLError:
    try:
        return yamlfile.load_all(text)
    except yaml.YAMLError as exc:
        return exc


def check(text: str) -> None:
    theirs, ours = pyyaml(text), meshtui(text)
    if isinstance(theirs, Exception):
        # Refused too, though not always in PyYAML's words: the limits pass reads every event first,
        # so a syntax error later in the text can be named before PyYAML's composer gets that far.
        assert isinstance(ours, yaml.YAMLError), (text, ours)
    else:
        assert not isinstance(ours, yaml.YAMLError), (text, ours)
        assert same(ours, theirs), (text, ours, theirs)


@given(text=yaml_text)
def test_any_text_loads_as_pyyaml_loads_it(text: str) -> None:
    check(text)


@given(docs=st.lists(json_values, min_size=1, max_size=3), flow=st.sampled_from([None, True, False]))
def test_any_dumped_value_round_trips_as_with_pyyaml(docs: list[Any], flow: bool | None) -> None:
    try:
        text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True)
    except yaml.YAMLError:
        pytest.skip("PyYAML cannot write it")  # a lone surrogate, say
    check(text)


@pytest.mark.parametrize(("text", "words"), [("a: !!int\n", "a value that cannot be built"),
                                             ("a: 2001-02-30\n", "day is out of range for month")])
def test_a_value_pyyaml_cannot_build_is_a_yaml_error(text: str, words: str) -> None:
    with pytest.raises(yamlfile.YamlValueError, match=words):
        yamlfile.load_all(text)

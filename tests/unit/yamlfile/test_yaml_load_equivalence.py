"""meshtui's one-pass YAML loading gives what PyYAML's safe loader gives: the same values, the same
shared objects for aliases, and the same error for what it refuses."""

from __future__ import annotations

import math

import pytest
import yaml

from meshtui import yamlfile

SAME_VALUES = {
    "manifest": "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\nspec:\n  ports:\n"
                "  - {port: 80, targetPort: http}\n",
    "YAML 1.1 scalars": "a: yes\nb: No\nc: on\nd: OFF\ne: ~\nf: null\ng: ''\nh: 0x1F\ni: 0o17\nj: 017\n"
                        "k: 1_000\nl: 190:20:30\nm: -.5\nn: 6.8523015e+5\no: .inf\np: -.Inf\nq: 2001-12-14\n"
                        "r: 2001-12-14t21:59:43.10-05:00\ns: =x\nt: '123'\nu: \"true\"\nv: 1.0.0\nw: n\n",
    "empty documents": "---\n---\n# only a comment\n---\na: 1\n...\n",
    "nothing": "",
    "a bare scalar": "just text\n",
    "block and flow": "list:\n- a\n- [b, {c: d}]\n- {e: [f, g]}\n"
                      "literal: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "duplicate keys": "a: 1\nb: 2\na: 3\n",
    "null and number keys": "? \n: empty\n1: one\n1.5: x\ntrue: t\n~: n\n",
    "non-specific tag": "a: ! 12\nb: ! [x]\n",
    "anchors": "base: &b {a: 1, l: [1, 2]}\nuse: *b\nagain: *b\ns: &s text\nt: *s\n---\nother: 2\n",
    "anchor redefined (refused)": "a: &x 1\nb: *x\nc: &x 2\nd: *x\n",
    # Left to PyYAML whole: explicit tags, merge keys, keys that are collections.
    "explicit tags": "a: !!str 12\nb: !!int '7'\nc: !!binary aGk=\nd: !!set {x, y}\ne: !!omap [a: 1]\n",
    "merge keys": "base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\n",
    "complex key": "? [a, b]\n: c\n",
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yamlfile.Loader], ids=["pure", "chosen"])
@pytest.mark.parametrize("text", SAME_VALUES.values(), ids=SAME_VALUES.keys())
def test_values_are_pyyamls(monkeypatch: pytest.MonkeyPatch, loader: type, text: str) -> None:
    monkeypatch.setattr(yamlfile, "Loader", loader)
    try:
        expected = list(yaml.load_all(text, Loader=loader))
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)) as got:
            yamlfile.load_all(text)
        assert str(got.value) == str(exc)
        return
    got = yamlfile.load_all(text)
    assert got == expected
    flat_got, flat_expected = [], []

    def walk(value: object, out: list) -> None:
        out.append(value)
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            walk(child, out)

    for doc in got:
        walk(doc, flat_got)
    for doc in expected:
        walk(doc, flat_expected)
    assert all(_same(a, b) for a, b in zip(flat_got, flat_expected, strict=True))


def test_aliases_share_the_object_and_may_be_recursive() -> None:
    doc = yamlfile.load_all("a: &x [1, 2]\nb: *x\nc: &r {self: *r}\n")[0]
    assert doc["a"] is doc["b"]
    assert doc["c"]["self"] is doc["c"]


ERRORS = {
    "unhashable key": "? {a: 1}\n: b\n",
    "unhashable key in flow": "{[a]: b}\n",
    "alias of a collection as a key": "a: &x [1]\n? *x\n: b\n",
    "the enclosing mapping as its own key": "&m {*m : 1}\n",
    "undefined alias": "a: *nowhere\n",
    "unknown tag": "a: !custom x\n",
    "bad indentation": "a:\n  b: 1\n c: 2\n",
    "unclosed flow": "a: [1, 2\n",
    "tab": "a:\n\tb: 1\n",
}


@pytest.mark.parametrize("text", ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_pyyamls(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        list(yaml.load_all(text, Loader=yamlfile.Loader))
    with pytest.raises(yaml.YAMLError) as got:
        yamlfile.load_all(text)
    assert type(got.value) is type(expected.value) and str(got.value) == str(expected.value)


def test_an_impossible_date_fails_with_pyyamls_words_as_a_yaml_error() -> None:
    text = "when: 2001-13-45\n"
    with pytest.raises(ValueError) as expected:
        list(yaml.load_all(text, Loader=yamlfile.Loader))
    # PyYAML's bare ValueError would end in a traceback: a YAMLError with its words instead.
    with pytest.raises(yamlfile.YamlValueError) as got:
        yamlfile.load_all(text)
    assert str(expected.value) in str(got.value)

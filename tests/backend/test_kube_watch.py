"""Re-list differences; watch behaviour over HTTP is in test_kube_backend.py."""

from __future__ import annotations

import pytest

from meshtui.model.objects import Namespace
from meshtui.model.snapshot import diff, key_of


def index(*names_rv: tuple[str, str]) -> dict:
    objs = [Namespace(name=n, resource_version=rv) for n, rv in names_rv]
    return {key_of(o): o for o in objs}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (index(), index(), []),
        (index(("a", "1")), index(("a", "1")), []),
        (index(("a", "1")), index(("a", "2")), [("MODIFIED", "a", "2")]),
        (index(("a", "1")), index(), [("DELETED", "a", "1")]),
        (index(), index(("b", "3")), [("ADDED", "b", "3")]),
        (index(("a", "1"), ("b", "1")), index(("b", "2"), ("c", "5")),
         [("DELETED", "a", "1"), ("MODIFIED", "b", "2"), ("ADDED", "c", "5")]),
    ],
)
def test_diff(old: dict, new: dict, expected: list) -> None:
    assert [(e.type, e.obj.name, e.obj.resource_version) for e in diff(old, new)] == expected

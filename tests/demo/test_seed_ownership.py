"""The demo hands its seed objects to the store without copying them (Emulator.add(owned=True)):
no dict or list may appear in two places, or a change to one object would show in another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meshtui.demo.mesh import demo_objects


def shared_containers(objects: list[dict[str, Any]]) -> list[str]:
    seen: dict[int, str] = {}
    shared: list[str] = []

    def walk(value: object, where: str) -> None:
        if not isinstance(value, (dict, list)):
            return
        if id(value) in seen:
            shared.append(f"{where} is {seen[id(value)]}")
            return
        seen[id(value)] = where
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
            walk(item, f"{where}.{key}")

    for obj in objects:
        walk(obj, f"{obj['kind']}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}")
    return shared


@pytest.mark.parametrize("seed", [7, 1, 42])
def test_no_seed_object_shares_a_container(seed: int) -> None:
    objects = list(demo_objects(datetime(2026, 11, 30, tzinfo=UTC), seed))
    assert objects
    assert shared_containers(objects) == []


def test_the_check_sees_sharing() -> None:
    labels = {"app": "a"}
    assert shared_containers([{"kind": "X", "metadata": {"name": "x", "labels": labels},
                               "spec": {"template": {"metadata": {"labels": labels}}}}]) != []

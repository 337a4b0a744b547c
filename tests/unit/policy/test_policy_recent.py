"""The identity cache behind analyze(): equal but distinct snapshots are different entries."""

from __future__ import annotations

from meshtui.policy.recent import Recent


def test_identity_hits_and_eviction() -> None:
    built: list[object] = []

    def build(key: object) -> object:
        built.append(key)
        return object()

    cache: Recent[object, object] = Recent(size=2)
    a, b, c = [], [], []  # equal to each other, distinct objects
    first = cache.get(a, build)
    assert cache.get(a, build) is first and built == [a]
    cache.get(b, build)
    cache.get(c, build)  # evicts a, the least recently added
    assert cache.get(a, build) is not first
    assert [id(k) for k in built] == [id(a), id(b), id(c), id(a)]

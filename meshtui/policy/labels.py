"""Label-selector indexes, so matching N pods against M selectors costs about N + M, not N × M."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Generic, Iterable, Mapping, TypeVar

T = TypeVar("T")


def matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


class SelectorIndex(Generic[T]):
    """Objects with a non-empty matchLabels selector, bucketed by namespace and one of their pairs.

    Every selector pair must match, so any single pair is a complete pre-filter: a pod can only be
    selected by an object filed under one of the pod's own (key, value) pairs.
    """

    def __init__(self, items: Iterable[T], namespace: Callable[[T], str],
                 selector: Callable[[T], Mapping[str, str]]):
        self._selector = selector
        self._buckets: dict[tuple[str, str, str], list[T]] = defaultdict(list)
        for item in items:
            sel = selector(item)
            key, value = min(sel.items())
            self._buckets[(namespace(item), key, value)].append(item)

    def selecting(self, namespace: str, labels: Mapping[str, str]) -> list[T]:
        out: list[T] = []
        for k, v in labels.items():
            for item in self._buckets.get((namespace, k, v), ()):
                if matches(self._selector(item), labels):
                    out.append(item)
        return out


class LabelIndex(Generic[T]):
    """Objects with labels (pods), bucketed by namespace and each label pair, for selector look-ups."""

    def __init__(self, items: Iterable[T], namespace: Callable[[T], str],
                 labels: Callable[[T], Mapping[str, str]]):
        self._labels = labels
        self._buckets: dict[tuple[str, str, str], list[T]] = defaultdict(list)
        for item in items:
            ns = namespace(item)
            for k, v in labels(item).items():
                self._buckets[(ns, k, v)].append(item)

    def selected_by(self, namespace: str, selector: Mapping[str, str]) -> list[T]:
        """Items in the namespace whose labels satisfy a non-empty selector."""
        if not selector:
            return []
        shortest = min(
            (self._buckets.get((namespace, k, v), []) for k, v in selector.items()), key=len
        )
        return [item for item in shortest if matches(selector, self._labels(item))]

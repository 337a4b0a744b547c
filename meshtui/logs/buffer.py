"""A bounded ring buffer of parsed log lines, filtered views over it, and regex search.

No Textual. Every entry gets a sequence number that only grows, so a view can remember "what it
has seen" across evictions: an entry whose sequence number is below ``first_seq`` is gone.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, NamedTuple, TypeVar

from meshtui.logs.flags import RESPONSE_FLAGS
from meshtui.logs.record import LogRecord

DEFAULT_CAPACITY = 50_000
# Index keys besides status classes (2..5) and directions ("inbound", "outbound").
PROBLEMS = "problems"
MARKERS = "markers"
FLAG = "flag:"


class LogEntry(NamedTuple):
    seq: int
    pod: str  # "namespace/pod", or a file name in file mode
    record: LogRecord


class LogBuffer:
    """Keeps the newest ``capacity`` entries; O(1) append and lookup by sequence number.

    Pods and records sit in two parallel rings and entries are built on lookup: every object the
    buffer holds is one more for CPython's cyclic GC to walk on a full collection, and those walks
    are pauses the user feels as key latency.

    As entries arrive their sequence numbers are also filed by class (problem, status class, flag,
    direction, change marker), so a filter on a class reads its index instead of testing every
    held entry on the UI thread.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._pods: list[str] = [""] * capacity
        self._records: list[LogRecord | None] = [None] * capacity
        self._next = 0
        self._first = 0
        self._index: dict[object, list[int]] = {}
        self._trim_at = capacity

    def __len__(self) -> int:
        return self._next - self._first

    @property
    def first_seq(self) -> int:
        return self._first

    @property
    def next_seq(self) -> int:
        return self._next

    def append(self, pod: str, record: LogRecord) -> int:
        seq = self._next
        slot = seq % self.capacity
        self._pods[slot] = pod
        self._records[slot] = record
        self._next = seq + 1
        if seq - self._first >= self.capacity:
            self._first = seq + 1 - self.capacity
        index = self._index
        if record.kind == "marker":
            index.setdefault(MARKERS, []).append(seq)
        if record.problem:
            index.setdefault(PROBLEMS, []).append(seq)
        if record.code is not None:
            index.setdefault(record.code // 100, []).append(seq)
        if record.direction is not None:
            index.setdefault(record.direction, []).append(seq)
        for flag in record.flags:
            index.setdefault(FLAG + flag, []).append(seq)
        if seq >= self._trim_at:
            self._trim()
        return seq

    def _trim(self) -> None:
        """Drop evicted sequence numbers from the indexes, once per ``capacity`` appends."""
        first = self._first
        for key, seqs in list(self._index.items()):
            cut = bisect.bisect_left(seqs, first)
            if cut == len(seqs):
                del self._index[key]
            elif cut:
                del seqs[:cut]
        self._trim_at = self._next + self.capacity

    def extend(self, entries: Iterable[tuple[str, LogRecord]]) -> None:
        for pod, record in entries:
            self.append(pod, record)

    def get(self, seq: int) -> LogEntry | None:
        if seq < self._first or seq >= self._next:
            return None
        slot = seq % self.capacity
        record = self._records[slot]
        return None if record is None else LogEntry(seq, self._pods[slot], record)

    def indexed(self, keys: Iterable[object], seq: int) -> list[int]:
        """Held sequence numbers >= ``seq`` filed under any of ``keys``, ascending."""
        start = max(seq, self._first)
        parts = [seqs[bisect.bisect_left(seqs, start):] for key in keys if (seqs := self._index.get(key))]
        if len(parts) == 1:
            return parts[0]
        # A line carries several flags and a marker may carry a code: each number once.
        return sorted({s for part in parts for s in part})

    def pods_of(self, seqs: Iterable[int]) -> dict[str, None]:
        """The distinct pods of held entries ``seqs``, in order of first appearance."""
        pods, cap = self._pods, self.capacity
        return dict.fromkeys(pods[s % cap] for s in seqs)

    def select(self, seq: int, predicate: Callable[[str, LogRecord], bool],
               candidates: Iterable[int] | None = None) -> list[int]:
        """Sequence numbers >= ``seq`` of held entries whose (pod, record) satisfy ``predicate``,
        among ``candidates`` (ascending) when given."""
        pods, records, cap = self._pods, self._records, self.capacity
        seqs = range(max(seq, self._first), self._next) if candidates is None else candidates
        return [s for s in seqs if predicate(pods[s % cap], records[s % cap])]  # type: ignore[arg-type]

    def clear(self) -> None:
        """Forget every entry; sequence numbers keep growing so views notice."""
        self._pods = [""] * self.capacity
        self._records = [None] * self.capacity
        self._first = self._next
        self._index = {}


CodeClass = Literal[2, 3, 4, 5]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What a view shows. Empty/None fields do not filter. Several code classes or several flags
    are alternatives (a line passes with any of them); different fields must all hold. Change
    markers pass every filter: they are the timeline the filtered lines are read against."""

    problems_only: bool = False
    code_classes: tuple[CodeClass, ...] = ()
    flags: tuple[str, ...] = ()
    direction: Literal["inbound", "outbound"] | None = None
    upstream: str = ""  # substring of the upstream cluster or host
    pod: str | None = None  # substring of the "namespace/pod" key

    @property
    def active(self) -> bool:
        return self != LogFilter()

    def matches(self, pod: str, r: LogRecord) -> bool:
        if r.kind == "marker":
            return True
        if self.problems_only and not r.problem:
            return False
        if self.code_classes and (r.code is None or r.code // 100 not in self.code_classes):
            return False
        if self.flags and not any(flag in r.flags for flag in self.flags):
            return False
        if self.direction is not None and r.direction != self.direction:
            return False
        if self.upstream and self.upstream not in (r.upstream_cluster or "") \
                and self.upstream not in (r.upstream_host or ""):
            return False
        return self.pod is None or self.pod in pod

    def index_keys(self) -> tuple[tuple[object, ...], bool] | None:
        """(the buffer index keys that together hold every entry this filter can pass, whether those
        indexes alone answer it), or None when no field of the filter is indexed. Flags are the most
        selective, then status classes, problems, the direction; markers pass every filter."""
        fields: tuple[tuple[str, tuple[object, ...]], ...] = (
            ("flags", tuple(FLAG + flag for flag in self.flags)),
            ("code_classes", self.code_classes),
            ("problems_only", (PROBLEMS,) if self.problems_only else ()),
            ("direction", (self.direction,) if self.direction else ()),
        )
        for name, keys in fields:
            if keys:
                return (*keys, MARKERS), self == LogFilter(**{name: getattr(self, name)})
        return None

    def spec(self) -> str:
        """The filter in the words :func:`parse_filter` reads, e.g. "problems 4xx,5xx flag:UF,UC"."""
        parts: list[str] = []
        if self.problems_only:
            parts.append("problems")
        if self.code_classes:
            parts.append(",".join(f"{c}xx" for c in self.code_classes))
        if self.flags:
            parts.append("flag:" + ",".join(self.flags))
        if self.direction:
            parts.append(self.direction)
        if self.upstream:
            parts.append(f"upstream:{self.upstream}")
        if self.pod:
            parts.append(f"pod:{self.pod}")
        return " ".join(parts)


_CODE_CLASSES: dict[str, CodeClass] = {"2xx": 2, "3xx": 3, "4xx": 4, "5xx": 5}
_DIRECTIONS: dict[str, Literal["inbound", "outbound"]] = {
    "in": "inbound", "inbound": "inbound", "out": "outbound", "outbound": "outbound",
}


def parse_filter(text: str) -> LogFilter:
    """Read a filter typed by the user: words in any order, e.g. "problems 5xx UF,UC out upstream:reviews".

    Words: problems (or !), 2xx..5xx, in/inbound, out/outbound, a response flag (UF or flag:UF),
    upstream:TEXT (or up:TEXT), pod:TEXT. Code classes and flags may be listed with commas
    ("4xx,5xx", "UF,UC", "flag:UF,UC") or as several words: any of them passes. Raises ValueError
    naming the first word it cannot read.
    """
    problems_only = False
    direction: Literal["inbound", "outbound"] | None = None
    upstream = ""
    pod: str | None = None
    classes: list[CodeClass] = []
    flags: list[str] = []
    for word in text.split():
        key, sep, value = word.partition(":")
        lower = word.lower()
        if lower in ("problems", "problem", "!"):
            problems_only = True
        elif lower in _DIRECTIONS:
            direction = _DIRECTIONS[lower]
        elif sep and key.lower() == "flag" and value:
            flags.extend(_list(value, word, lambda part: part.upper() if part else None))
        elif sep and key.lower() in ("upstream", "up") and value:
            upstream = value
        elif sep and key.lower() == "pod" and value:
            pod = value
        elif not sep and all(part.lower() in _CODE_CLASSES for part in lower.split(",")):
            classes.extend(_list(lower, word, _CODE_CLASSES.get))
        elif not sep:
            flags.extend(_list(word, word, lambda part: part.upper() if part.upper() in RESPONSE_FLAGS else None))
        else:
            raise ValueError(f"cannot read filter word {word!r}")
    return LogFilter(problems_only=problems_only, code_classes=tuple(dict.fromkeys(classes)),
                     flags=tuple(dict.fromkeys(flags)), direction=direction, upstream=upstream, pod=pod)


_T = TypeVar("_T")


def _list(value: str, word: str, read: Callable[[str], _T | None]) -> list[_T]:
    """The comma-separated parts of ``value``, each read by ``read`` (None: not readable)."""
    out: list[_T] = []
    for part in value.split(","):
        item = read(part)
        if item is None:
            raise ValueError(f"cannot read filter word {word!r}")
        out.append(item)
    return out


class FilteredView:
    """The entries of a buffer that pass a filter, indexable 0..len-1 (oldest first).

    ``sync()`` picks up appended entries and drops evicted ones; changing the filter reads the
    buffer's indexes for the filter's most selective field and tests only those entries (a filter on
    upstream or pod alone still tests every held entry).
    """

    def __init__(self, buffer: LogBuffer, log_filter: LogFilter | None = None) -> None:
        self.buffer = buffer
        self.filter = log_filter or LogFilter()
        self._seqs: list[int] = []
        self._start = 0  # index into _seqs of the first live entry; compacted lazily
        self._seen = buffer.first_seq
        self.sync()

    def __len__(self) -> int:
        return len(self._seqs) - self._start

    def __getitem__(self, index: int) -> LogEntry:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        entry = self.buffer.get(self._seqs[self._start + index])
        if entry is None:  # evicted since the last sync
            raise IndexError(index)
        return entry

    def __iter__(self) -> Iterator[LogEntry]:
        for i in range(len(self)):
            yield self[i]

    def set_filter(self, log_filter: LogFilter) -> None:
        self.filter = log_filter
        self._seqs = []
        self._start = 0
        self._seen = self.buffer.first_seq
        self.sync()

    def sync(self) -> tuple[int, int]:
        """Catch up with the buffer. Returns (added, removed_from_front) counts."""
        first = self.buffer.first_seq
        removed = 0
        seqs = self._seqs
        while self._start < len(seqs) and seqs[self._start] < first:
            self._start += 1
            removed += 1
        if self._start > 4096 and self._start * 2 > len(seqs):
            del seqs[: self._start]
            self._start = 0
        before = len(seqs)
        flt = self.filter
        indexed = flt.index_keys()
        if indexed is not None:
            keys, exact = indexed
            candidates = self.buffer.indexed(keys, self._seen)
            seqs.extend(candidates if exact else self.buffer.select(self._seen, flt.matches, candidates))
        elif flt.active:
            seqs.extend(self.buffer.select(self._seen, flt.matches))
        else:
            seqs.extend(range(max(self._seen, first), self.buffer.next_seq))
        self._seen = self.buffer.next_seq
        return len(seqs) - before, removed

    def last_pods(self, count: int) -> dict[str, None]:
        """The distinct pods of the view's last ``count`` entries, in order of first appearance."""
        return self.buffer.pods_of(self._seqs[len(self._seqs) - count:]) if count > 0 else {}

    def index_of(self, seq: int) -> int | None:
        """Position of an entry in the view, or None when it is filtered out or gone."""
        i = bisect.bisect_left(self._seqs, seq, self._start)
        if i < len(self._seqs) and self._seqs[i] == seq:
            return i - self._start
        return None


class Search:
    """A compiled regex over the raw line. Case-insensitive unless the pattern has a capital."""

    def __init__(self, pattern: str) -> None:
        flags = 0 if any(c.isupper() for c in pattern) else re.IGNORECASE
        self.pattern = pattern
        self.regex = re.compile(pattern, flags)  # re.error is the caller's to show

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each non-empty match, for highlighting."""
        return [m.span() for m in self.regex.finditer(text) if m.end() > m.start()]

    def matches(self, entry: LogEntry) -> bool:
        return self.regex.search(entry.record.raw) is not None

    def find(self, view: FilteredView, start: int, forward: bool = True) -> int | None:
        """Index of the next (or previous) matching entry after ``start``, wrapping around."""
        n = len(view)
        if n == 0:
            return None
        step = 1 if forward else -1
        for k in range(1, n + 1):
            i = (start + step * k) % n
            if self.matches(view[i]):
                return i
        return None

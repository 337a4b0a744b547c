"""Ring buffer, filtered views, filter words and regex search."""

from __future__ import annotations

import random
import re

import pytest

from meshtui.logs.buffer import FilteredView, LogBuffer, LogFilter, Search, parse_filter
from meshtui.logs.record import LogRecord


def rec(raw: str = "x", **fields: object) -> LogRecord:
    return LogRecord(raw=raw, **fields)  # type: ignore[arg-type]


def test_ring_keeps_the_newest_capacity_entries() -> None:
    buf = LogBuffer(3)
    seqs = [buf.append("ns/a", rec(str(i))) for i in range(5)]
    assert seqs == [0, 1, 2, 3, 4]
    assert len(buf) == 3
    assert (buf.first_seq, buf.next_seq) == (2, 5)
    assert buf.get(1) is None
    assert buf.select(0, lambda pod, r: True) == [2, 3, 4]
    assert buf.select(3, lambda pod, r: r.raw != "4") == [3]
    assert buf.get(4).record.raw == "4"  # type: ignore[union-attr]


def test_clear_keeps_sequence_numbers_growing() -> None:
    buf = LogBuffer(10)
    buf.extend([("p", rec("a")), ("p", rec("b"))])
    buf.clear()
    assert len(buf) == 0
    assert buf.append("p", rec("c")) == 2


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LogBuffer(0)


def test_view_follows_appends_and_evictions() -> None:
    buf = LogBuffer(4)
    view = FilteredView(buf, LogFilter(problems_only=True))
    buf.extend([("p", rec("ok1")), ("p", rec("bad1", problem=True)), ("p", rec("ok2"))])
    assert view.sync() == (1, 0)
    assert [e.record.raw for e in view] == ["bad1"]
    buf.extend([("p", rec("bad2", problem=True)), ("p", rec("ok3")), ("p", rec("ok4"))])
    # bad1 (seq 1) has been evicted: capacity 4 holds seqs 2..5.
    assert view.sync() == (1, 1)
    assert [e.record.raw for e in view] == ["bad2"]
    assert view.index_of(3) == 0 and view.index_of(1) is None


def test_unfiltered_view_indexes_everything() -> None:
    buf = LogBuffer(100)
    view = FilteredView(buf)
    buf.extend(("p", rec(str(i))) for i in range(10))
    view.sync()
    assert len(view) == 10
    assert view[-1].record.raw == "9"
    with pytest.raises(IndexError):
        view[10]


def test_view_compacts_after_many_evictions() -> None:
    buf = LogBuffer(10)
    view = FilteredView(buf)
    for i in range(20_000):
        buf.append("p", rec(str(i)))
        if i % 100 == 0:
            view.sync()
    view.sync()
    assert [e.record.raw for e in view] == [str(i) for i in range(19_990, 20_000)]


A = rec(
    "a", code=200, direction="outbound", upstream_cluster="outbound|9080||reviews.bookinfo.svc.cluster.local"
)
B = rec("b", code=503, flags=("UF", "URX"), direction="outbound", upstream_host="10.0.0.7:9080", problem=True)
C = rec("c", code=403, direction="inbound", problem=True, mtls_problem="rbac_denied")
D = rec("d", code=0, kind="tcp", direction="inbound")


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (LogFilter(), "abcd"),
        (LogFilter(problems_only=True), "bc"),
        (LogFilter(code_classes=(5,)), "b"),
        (LogFilter(code_classes=(2,)), "a"),
        (LogFilter(code_classes=(2, 4)), "ac"),  # several classes: any of them
        (LogFilter(flags=("URX",)), "b"),
        (LogFilter(flags=("UC", "URX")), "b"),  # several flags: any of them
        (LogFilter(flags=("UC", "NR")), ""),
        (LogFilter(code_classes=(4, 5), direction="outbound"), "b"),  # different fields: all of them
        (LogFilter(direction="inbound"), "cd"),
        (LogFilter(upstream="reviews"), "a"),
        (LogFilter(upstream="10.0.0.7"), "b"),
        (LogFilter(pod="ns/p2"), "cd"),
        (LogFilter(problems_only=True, direction="inbound"), "c"),
    ],
)
def test_filters(flt: LogFilter, expected: str) -> None:
    buf = LogBuffer(10)
    buf.extend([("ns/p1", A), ("ns/p1", B), ("ns/p2", C), ("ns/p2", D)])
    view = FilteredView(buf)
    view.set_filter(flt)
    assert "".join(e.record.raw for e in view) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", LogFilter()),
        ("problems", LogFilter(problems_only=True)),
        ("! 5xx", LogFilter(problems_only=True, code_classes=(5,))),
        ("UF out", LogFilter(flags=("UF",), direction="outbound")),
        ("flag:uaex inbound", LogFilter(flags=("UAEX",), direction="inbound")),
        ("upstream:reviews pod:ratings-v1", LogFilter(upstream="reviews", pod="ratings-v1")),
        ("up:Reviews 4XX", LogFilter(upstream="Reviews", code_classes=(4,))),
        ("UF,UC", LogFilter(flags=("UF", "UC"))),
        ("flag:UF flag:UC", LogFilter(flags=("UF", "UC"))),
        ("flag:uf,uc NR", LogFilter(flags=("UF", "UC", "NR"))),
        ("4xx,5xx", LogFilter(code_classes=(4, 5))),
        ("4xx 5xx 4xx", LogFilter(code_classes=(4, 5))),
    ],
)
def test_parse_filter(text: str, expected: LogFilter) -> None:
    assert parse_filter(text) == expected
    assert parse_filter(expected.spec()) == expected


@pytest.mark.parametrize("text", ["6xx", "sideways", "upstream:", "XYZ", "UF,XYZ", "4xx,6xx", "UF,", "flag:UF,"])
def test_parse_filter_rejects_unknown_words(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read filter word"):
        parse_filter(text)


def _view(*raws: str) -> FilteredView:
    buf = LogBuffer(100)
    buf.extend(("p", rec(r)) for r in raws)
    return FilteredView(buf)


def test_search_spans_and_case() -> None:
    assert Search("uf").spans("503 UF,URX uf") == [(4, 6), (11, 13)]
    assert Search("UF").spans("503 UF,URX uf") == [(4, 6)]  # a capital makes it case-sensitive
    assert Search("x*").spans("abc") == []  # empty matches highlight nothing


def test_search_next_previous_wraps() -> None:
    view = _view("a 503", "b 200", "c 503", "d 200")
    search = Search("503")
    assert search.find(view, -1) == 0
    assert search.find(view, 0) == 2
    assert search.find(view, 2) == 0
    assert search.find(view, 0, forward=False) == 2
    assert search.find(view, len(view), forward=False) == 2
    assert Search("404").find(view, 0) is None
    assert search.find(_view(), 0) is None


def test_bad_regex_raises_re_error() -> None:
    with pytest.raises(re.error):
        Search("(")


def test_change_markers_pass_every_filter() -> None:
    buf = LogBuffer(10)
    marker = rec("── 08:12:24 STRICT on ns applied ──", kind="marker")
    buf.extend([("ns/p1", A), ("", marker), ("ns/p1", B)])
    view = FilteredView(buf, LogFilter(flags=("NR",), pod="elsewhere"))
    assert [e.record.kind for e in view] == ["marker"]


def _random_record(rng: random.Random, i: int) -> LogRecord:
    if rng.random() < 0.03:
        return rec(f"marker {i}", kind="marker")  # a change marker passes every filter
    code = rng.choice((None, 200, 204, 302, 404, 503, 504))
    flags = tuple(rng.sample(("UF", "URX", "UH", "NR", "DC"), rng.randrange(3)))
    return rec(f"line {i}", code=code, flags=flags, problem=bool(flags) or (code or 0) >= 500,
               direction=rng.choice((None, "inbound", "outbound")), upstream_cluster=rng.choice(("a", "b")))


FILTERS = [LogFilter(problems_only=True), LogFilter(code_classes=(5,)), LogFilter(code_classes=(4, 5)),
           LogFilter(flags=("UF",)), LogFilter(flags=("UF", "NR")), LogFilter(direction="outbound"),
           LogFilter(problems_only=True, code_classes=(4,), upstream="a"),
           LogFilter(flags=("NR",), direction="inbound"), LogFilter(upstream="b"), LogFilter()]


@pytest.mark.parametrize("seed", range(5))
def test_indexed_filters_equal_a_full_scan_through_evictions(seed: int) -> None:
    rng = random.Random(seed)
    buffer = LogBuffer(capacity=300)
    views = [FilteredView(buffer, f) for f in FILTERS]
    for i in range(2000):
        buffer.append(rng.choice(("ns/a", "ns/b")), _random_record(rng, i))
        if rng.random() < 0.05:
            for view in views:
                view.sync()
        if rng.random() < 0.01:
            views = [FilteredView(buffer, f) for f in FILTERS]  # a fresh filter reads the index
    for flt, view in zip(FILTERS, views, strict=True):
        view.sync()
        expected = [s for s in range(buffer.first_seq, buffer.next_seq)
                    if flt.matches(buffer.get(s).pod, buffer.get(s).record)]  # type: ignore[union-attr]
        assert [e.seq for e in view] == expected, flt
    # Evicted sequence numbers leave the indexes: they stay within about two capacities.
    assert all(len(seqs) <= 2 * buffer.capacity for seqs in buffer._index.values())


def test_a_filter_on_one_indexed_field_is_answered_by_its_indexes() -> None:
    assert LogFilter(flags=("UF", "NR")).index_keys() == (("flag:UF", "flag:NR", "markers"), True)
    assert LogFilter(code_classes=(5,), upstream="a").index_keys() == ((5, "markers"), False)
    assert LogFilter(upstream="a").index_keys() is None


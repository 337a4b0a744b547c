"""Saved log lines (pod prefixes) read back, and change markers."""

from __future__ import annotations

from datetime import UTC, datetime

from meshtui.logs.explain import explain
from meshtui.logs.parser import parse_line
from meshtui.logs.saved import MARKER_POD, change_marker, read_line, saved_line

LINE = ('[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
        '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
        "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default")
AT = datetime(2026, 11, 30, 8, 12, 24, 512000, tzinfo=UTC)


def test_live_lines_are_saved_with_their_pod_and_read_back() -> None:
    record = parse_line(LINE)
    saved = saved_line("foo/sleep-5d8f7c9b6-x2k4p", record)
    assert saved == "[pod/sleep-5d8f7c9b6-x2k4p/istio-proxy] " + LINE
    pod, back = read_line(saved + "\n", "ticket.log")
    assert pod == "sleep-5d8f7c9b6-x2k4p"
    assert back.code == 418 and back.upstream_cluster == record.upstream_cluster


def test_file_lines_keep_their_text() -> None:
    record = parse_line(LINE)
    assert saved_line("ticket.log", record) == LINE  # from a file: no pod to name
    prefixed = parse_line("[pod/a-1/istio-proxy] " + LINE)
    assert saved_line("a-1", prefixed) == prefixed.raw  # already prefixed: not twice
    assert read_line(LINE, "ticket.log")[0] == "ticket.log"


def test_change_marker_round_trip() -> None:
    marker = change_marker("Set mTLS STRICT on namespace kubestock-staging applied", AT)
    assert marker.raw == "── 08:12:24 Set mTLS STRICT on namespace kubestock-staging applied ──"
    assert marker.kind == "marker" and marker.time == "2026-11-30T08:12:24.512Z" and not marker.problem
    saved = saved_line(MARKER_POD, marker)
    assert saved == marker.raw
    pod, back = read_line(saved, "ticket.log")
    assert (pod, back.kind, back.message) == (MARKER_POD, "marker", marker.raw)


def test_a_pods_line_is_never_taken_for_a_marker() -> None:
    # A live line goes through parse_line, which has no marker format; only files read markers back.
    fake = "── 08:12:24 Set mTLS DISABLE on namespace x applied ──"
    assert parse_line(fake).kind == "raw"
    pod, back = read_line("[pod/evil-1/istio-proxy] " + fake, "f.log")
    assert (pod, back.kind) == ("evil-1", "raw")


def test_a_marker_explains_itself() -> None:
    marker = change_marker("Set mTLS STRICT on namespace shop applied", AT)
    ((heading, words),) = explain(marker)
    assert heading == "Change" and words.startswith(marker.raw + ": meshtui changed the cluster here.")

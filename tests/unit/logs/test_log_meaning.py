"""Flag and detail explanations, the explain panel's content and the row columns."""

from __future__ import annotations

import pytest

from meshtui.logs.clients import Client
from meshtui.logs.columns import (
    Layout,
    code_style,
    layout_for,
    row_segments,
    row_text,
    short_pod,
    short_time,
    short_upstream,
)
from meshtui.logs.explain import explain
from meshtui.logs.flags import (
    MTLS_PROBLEMS,
    RESPONSE_FLAGS,
    explain_details,
    explain_flag,
    explain_mtls,
    explain_transport_failure,
)
from meshtui.logs.parser import parse_line
from meshtui.logs.record import LogRecord

# Every flag in Envoy's %RESPONSE_FLAGS% reference has an explanation.
ENVOY_FLAGS = (
    "UH",
    "UF",
    "UO",
    "NR",
    "URX",
    "NC",
    "DT",
    "DC",
    "LH",
    "UT",
    "LR",
    "UR",
    "UC",
    "DI",
    "FI",
    "RL",
    "UAEX",
    "RLSE",
    "IH",
    "SI",
    "DPE",
    "UPE",
    "UMSDR",
    "OM",
    "DF",
)


@pytest.mark.parametrize("flag", ENVOY_FLAGS)
def test_every_envoy_flag_is_explained(flag: str) -> None:
    assert flag in RESPONSE_FLAGS
    assert explain_flag(flag) == RESPONSE_FLAGS[flag]


def test_unknown_flag_says_so() -> None:
    assert "Unknown response flag 'ZZ'" in explain_flag("ZZ")


@pytest.mark.parametrize(
    ("details", "contains"),
    [
        ("via_upstream", "upstream application set this response code"),
        ("filter_chain_not_found", "plaintext reaching a STRICT mTLS port"),
        (
            "rbac_access_denied_matched_policy[ns[foo]-policy[deny-all]-rule[0]]",
            "Policy: ns[foo]-policy[deny-all]-rule[0]",
        ),
        (
            "upstream_reset_before_response_started{connection_termination}",
            "the upstream closed the connection",
        ),
        (
            "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Invalid_argument}",
            "delayed connect error: Invalid argument",
        ),
        ("http1.codec_error", "HTTP codec rejected"),
        ("something_new", "Envoy detail 'something_new'"),
    ],
)
def test_explain_details(details: str, contains: str) -> None:
    assert contains in explain_details(details)


@pytest.mark.parametrize(
    ("reason", "contains", "absent"),
    [
        (
            "TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end",
            "not trusted",
            "handshake with the upstream failed",
        ),
        (
            "TLS_error:_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER",
            "plaintext server",
            "handshake",
        ),
        ("TLS_error:_some_other", "handshake with the upstream failed", "plaintext"),
        ("delayed_connect_error:_Connection_refused", "TCP connection", "TLS"),
        ("weird_reason", "weird reason", "TLS"),
    ],
)
def test_explain_transport_failure(reason: str, contains: str, absent: str) -> None:
    words = explain_transport_failure(reason)
    assert contains in words
    assert absent not in words


def test_filter_chain_not_found_words_match_the_issue() -> None:
    assert "Plaintext reached a STRICT mTLS port (no filter chain for non-TLS)" in explain_mtls(
        "filter_chain_not_found"
    )
    assert set(MTLS_PROBLEMS) >= {
        "filter_chain_not_found",
        "CERTIFICATE_VERIFY_FAILED",
        "WRONG_VERSION_NUMBER",
        "TLS_error",
        "connection_termination",
        "rbac_denied",
    }


UC_LINE = (
    '[2024-06-18T10:19:42.614Z] "POST /topup HTTP/1.1" 503 UC upstream_reset_before_response_started'
    '{connection_termination} - "-" 138 95 120001 - "-" "-" "ed37" "internal-api:8080" "10.34.127.167:8080" '
    "inbound|8080|| 127.0.0.6:58719 10.34.127.167:8080 10.34.126.119:57080 "
    "outbound_.8080_._.internal-api.default.svc.cluster.local default"
)


def test_explain_puts_mtls_first_then_flags_and_details() -> None:
    headings = [h for h, _ in explain(parse_line(UC_LINE))]
    assert headings[:4] == ["mTLS / policy", "Request", "Client", "Flag UC"]
    assert "Details" in headings and "SNI" in headings


def test_explain_raw_and_envoy_lines() -> None:
    assert explain(LogRecord(raw="hello"))[0][0] == "Raw line"
    own = explain(parse_line("[2021-11-03 17:22:43.361][1678][info][main] [server.cc:368] starting"))
    assert own == [("Proxy log · info · main", "[server.cc:368] starting")]


@pytest.mark.parametrize(
    ("code", "style"),
    [(None, "dim"), (0, "dim"), (200, "code-2xx"), (302, "code-3xx"), (404, "code-4xx"), (503, "code-5xx")],
)
def test_code_style(code: int | None, style: str) -> None:
    assert code_style(code) == style


def test_row_columns() -> None:
    record = parse_line(UC_LINE)
    segments = row_segments(record, pod=short_pod("default/internal-api-7c9f-abcde"), pod_index=7,
                            client="default/api-gateway")
    text = row_text(segments)
    # Code and flags before the path: what failed stays visible in a narrow pane.
    assert text.startswith("internal-api-…-abcde 10:19:42.614 in  mTLS  503 UC   POST /topup")
    assert segments[0][1] == "pod-1"
    styles = {t.strip(): s for t, s in segments}
    assert styles["503"] == "code-5xx" and styles["UC"] == "flag" and styles["mTLS"] == "tls-mtls"
    assert styles["default/api-gateway"] == "client" and styles["inbound:8080"] == "upstream"
    assert styles["upstream_reset_before_response_started{connection_termination}"] == "mtls"
    assert text.endswith("120001ms internal-api:8080")
    # Without a resolved client the column shows the address.
    assert "10.34.126.119:57080" in row_text(row_segments(record))
    tcp = row_text(
        row_segments(
            parse_line(
                '[2021-03-25T23:59:51.372Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - '
                '"-" "-" "-" "-" "-" - - '
                "100.97.92.14:8443 172.20.49.60:57605 - -"
            ),
            show_time=False,
        )
    )
    assert tcp.startswith("    plain   0 NR   TCP ")
    assert "172.20.49.60:57605" in tcp


@pytest.mark.parametrize(
    ("width", "show_time", "pod_width", "expected"),
    [
        (0, True, 0, Layout(12, 36, 24, 32)),
        (68, True, 0, Layout(0, 18, 16, 12)),  # the Envoy pane at 120x40: time gives way first
        (76, True, 0, Layout(8, 18, 15, 12)),  # the full-screen viewer at 120 columns, beside the explanation
        (80, True, 0, Layout(8, 19, 17, 13)),
        (136, True, 0, Layout(12, 40, 35, 26)),  # the full-screen viewer at 180 columns
        (136, True, 19, Layout(12, 32, 28, 22)),
        (136, False, 0, Layout(0, 45, 39, 30)),
        (30, True, 0, Layout(0, 16, 13, 10)),  # never below the minimums: the row scrolls instead
    ],
)
def test_layout_for_width(width: int, show_time: bool, pod_width: int, expected: Layout) -> None:
    assert layout_for(width, show_time=show_time, pod_width=pod_width) == expected


@pytest.mark.parametrize(
    ("client", "width", "shown"),
    [
        ("legacy/batch-reporter", 16, "…/batch-reporter"),
        ("legacy/batch-reporter", 18, "le…/batch-reporter"),
        ("legacy/batch-reporter", 30, "legacy/batch-reporter"),
        ("legacy/a-very-long-workload-name", 16, "legacy/a-very-l…"),
        ("10.244.1.152:43512", 16, "10.244.1.152:43…"),
    ],
)
def test_client_column_gives_up_the_namespace_first(client: str, width: int, shown: str) -> None:
    segments = row_segments(parse_line(UC_LINE), client=client, layout=Layout(0, 20, width, 12))
    assert next(text for text, style in segments if style == "client").rstrip() == shown


def test_layout_fills_the_width() -> None:
    record = parse_line(UC_LINE)
    for width in (68, 100, 136, 200):
        segments = row_segments(record, client="default/api-gateway", layout=layout_for(width))
        upstream_end = next(i for i, (_, style) in enumerate(segments) if style == "upstream")
        assert len(row_text(segments[: upstream_end + 1])) == width


@pytest.mark.parametrize(
    ("pod", "short"),
    [
        ("shop/reviews-v1-5d8f7c9b6-x2k4p", "reviews-v1-x2k4p"),
        ("shop/ms-identity-gmpb9t7vbv-nzcfb", "ms-identity-nzcfb"),
        ("shop/web-0", "web-0"),
        ("shop/a-very-long-statefulset-name-12", "a-very-long-s…ame-12"),
        ("ticket.log", "ticket.log"),
    ],
)
def test_short_pod(pod: str, short: str) -> None:
    assert short_pod(pod) == short


@pytest.mark.parametrize(
    ("cluster", "host", "short"),
    [
        ("outbound|9080|v1|reviews.default.svc.cluster.local", None, "reviews.default:9080 v1"),
        ("outbound|8000||httpbin.foo.svc.cluster.local", None, "httpbin.foo:8000"),
        ("inbound|3001||", "127.0.0.1:3001", "inbound:3001"),
        ("PassthroughCluster", "100.77.28.132:1521", "PassthroughCluster"),
        (None, "10.0.0.1:80", "10.0.0.1:80"),
        (None, None, ""),
    ],
)
def test_short_upstream(cluster: str | None, host: str | None, short: str) -> None:
    assert short_upstream(LogRecord(raw="", upstream_cluster=cluster, upstream_host=host)) == short


def test_marker_row_is_the_message_alone() -> None:
    marker = LogRecord(raw="── 08:12:24 STRICT on shop applied ──", kind="marker",
                       message="── 08:12:24 STRICT on shop applied ──")
    assert row_segments(marker, pod="x", pod_index=1) == [("── 08:12:24 STRICT on shop applied ──", "marker")]


def test_long_path_is_cut_unless_wrapping() -> None:
    record = LogRecord(raw="", kind="access", method="GET", path="/" + "a" * 100, code=200)
    assert "…" in row_text(row_segments(record))
    assert "a" * 100 in row_text(row_segments(record, wrap=True))


def test_short_time() -> None:
    assert short_time("2024-08-27 20:00:10.142") == "20:00:10.142"
    assert short_time(None) == " " * 12


@pytest.mark.parametrize("raw", ["\x1b[31mred\x1b[0m", "bell\x07", "nul\x00byte", "c1\x9bcsi"])
def test_control_characters_never_reach_the_terminal(raw: str) -> None:
    text = row_text(row_segments(LogRecord(raw=raw), show_time=False))
    assert text.isprintable()
    assert len(text) == len(raw)  # each control character replaced by one visible one (␛, ␇, ␀, �)


def test_tabs_become_spaces() -> None:
    assert row_text(row_segments(LogRecord(raw="a\tb"), show_time=False)) == "a b"


NR_LINE = ('[2026-11-24T08:12:25.101Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" '
           "- - 10.244.2.31:3001 10.244.1.152:43512 - -")


def test_explain_names_the_client_and_how_it_connected() -> None:
    record = parse_line(NR_LINE)
    client = Client("10.244.1.152", "pod", "legacy", "batch-reporter", "batch-reporter-6d5c9-x2k4p")
    assert ("Client", "plaintext from legacy/batch-reporter (10.244.1.152) to port 3001") in explain(record, client)
    # Unresolved (a file): the address stays.
    assert ("Client", "plaintext from 10.244.1.152 to port 3001") in explain(record)


def test_explain_mtls_inbound_and_outbound_without_a_tls_reading() -> None:
    inbound = parse_line(UC_LINE)
    assert ("Client", "mTLS from 10.34.126.119 to port 8080") in explain(inbound)
    outbound = parse_line(
        '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
        '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
        "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default"
    )
    # The app's own connection to its sidecar: no TLS reading, just who and where.
    assert ("Client", "from 10.44.1.23 to port 8000") in explain(outbound)

"""Flag and detail explanations, the explain panel's content and the row columns."""

from __future__ import annotations

import pytest

from meshtui.logs.columns import code_style, row_segments, row_text, short_time
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
    assert headings[:3] == ["mTLS / policy", "Request", "Flag UC"]
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
    segments = row_segments(record, pod="default/internal-api-7c9f-abcde", pod_index=7)
    text = row_text(segments)
    # Code and flags before the path: what failed stays visible in a narrow pane.
    assert text.startswith("internal-api-7c9f… 10:19:42.614 in  503 UC   POST /topup")
    assert segments[0][1] == "pod-1"
    styles = {t.strip(): s for t, s in segments}
    assert styles["503"] == "code-5xx" and styles["UC"] == "flag"
    assert styles["upstream_reset_before_response_started{connection_termination}"] == "mtls"
    assert text.endswith("120001ms internal-api:8080")
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
    assert tcp.startswith("      0 NR   TCP ")


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

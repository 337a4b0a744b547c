"""The parser on real istio-proxy lines (../shared/fixtures/envoy/access-logs.txt) and on junk."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.logs.parser import parse_line, time_key
from meshtui.logs.record import DOCUMENTED_FIELDS, LogRecord
from tests.shared_fixtures import FIXTURES

FIXTURE = FIXTURES / "envoy" / "access-logs.txt"


def fixture_lines() -> list[str]:
    return [
        line
        for line in FIXTURE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


# One row per record line of the fixture, in file order: the fields a reader sees in the line.
EXPECTED: list[dict[str, object]] = [
    dict(
        kind="access",
        time="2020-11-25T21:26:18.409Z",
        direction="outbound",
        method="GET",
        path="/status/418",
        protocol="HTTP/1.1",
        code=418,
        flags=(),
        details="via_upstream",
        termination=None,
        transport_failure=None,
        bytes_in=0,
        bytes_out=135,
        duration_ms=4,
        upstream_host="10.44.1.27:80",
        upstream_cluster="outbound|8000||httpbin.foo.svc.cluster.local",
        authority="httpbin:8000",
        sni=None,
        mtls_problem=None,
    ),
    dict(
        kind="access",
        direction="inbound",
        code=418,
        duration_ms=3,
        upstream_host="127.0.0.1:80",
        upstream_cluster="inbound|8000||",
        sni="outbound_.8000_._.httpbin.foo.svc.cluster.local",
        user_agent="curl/7.73.0-DEV",
        request_id="84961386-6d84-929d-98bd-c5aee93b5c88",
        route="default",
    ),
    dict(
        kind="tcp",
        time="2021-03-25T23:59:51.372Z",
        method=None,
        path=None,
        protocol=None,
        code=0,
        flags=("NR",),
        details="filter_chain_not_found",
        upstream_cluster=None,
        upstream_host=None,
        downstream_local="100.97.92.14:8443",
        mtls_problem="filter_chain_not_found",
        problem=True,
    ),
    dict(
        kind="access",
        method="GET",
        path="/.env",
        code=404,
        flags=("NR",),
        details="route_not_found",
        authority="34.213.68.78",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/81.0.4044.129 Safari/537.36",
        mtls_problem=None,
        problem=True,
    ),
    dict(
        kind="access",
        method="POST",
        path="/",
        code=404,
        flags=("NR",),
        downstream_remote="100.127.250.64:29826",
    ),
    dict(
        kind="tcp",
        time="2021-09-28T14:55:12.134Z",
        code=0,
        flags=("NR",),
        details="filter_chain_not_found",
        mtls_problem="filter_chain_not_found",
    ),
    dict(
        kind="access",
        direction="inbound",
        method="GET",
        path="/headers",
        code=403,
        flags=(),
        details="rbac_access_denied_matched_policy[default-deny-all-due-to-bad-CUSTOM-action]",
        upstream_cluster="inbound|80||",
        upstream_host=None,
        authority="httpbin.foo:8000",
        mtls_problem="rbac_denied",
        problem=True,
    ),
    dict(
        kind="access",
        direction="inbound",
        method="POST",
        code=503,
        flags=("UC",),
        path="/v1/accounting/api-portal/card/CSP_XXXXXXX/ORE00000/DEC000000/topup",
        details="upstream_reset_before_response_started{connection_termination}",
        bytes_in=138,
        bytes_out=95,
        duration_ms=120001,
        upstream_host="10.34.127.167:8080",
        mtls_problem="connection_termination",
    ),
    dict(
        kind="tcp",
        direction="outbound",
        code=0,
        flags=(),
        details=None,
        bytes_in=6238,
        bytes_out=6291,
        duration_ms=84,
        upstream_host="100.77.28.132:1521",
        upstream_cluster="PassthroughCluster",
        problem=False,
        mtls_problem=None,
    ),
    dict(
        kind="tcp",
        direction="inbound",
        code=0,
        flags=("UF", "URX"),
        duration_ms=2285,
        upstream_cluster="inbound|12950||",
        problem=True,
    ),
    dict(
        kind="tcp",
        direction="outbound",
        flags=("UF", "URX"),
        transport_failure="delayed_connect_error:_Connection_refused",
        upstream_cluster="connect_originate",
        mtls_problem=None,
        problem=True,
    ),
    dict(
        kind="access",
        direction="outbound",
        method="GET",
        path="/",
        code=503,
        flags=("UF",),
        details="upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Invalid_argument}",
        transport_failure="delayed_connect_error:_Invalid_argument",
        upstream_host="envoy://connect_originate/10.244.0.17:80",
        upstream_cluster="outbound|80||echo.default.svc.cluster.local",
        authority="172.18.0.101",
    ),
    dict(
        kind="tcp", flags=("UF", "URX"), duration_ms=3, mtls_problem="CERTIFICATE_VERIFY_FAILED", problem=True
    ),
    dict(
        kind="json",
        time="2019-09-17T08:33:45.970Z",
        direction="outbound",
        method=None,
        path=None,
        protocol=None,
        code=0,
        flags=("UF", "URX"),
        bytes_in=0,
        bytes_out=0,
        duration_ms=10001,
        upstream_host="REDACTED_IP1:7600",
        upstream_cluster="outbound|7600||keycloak-headless.our_ns.svc.cluster.local",
        authority=None,
        details=None,
        termination=None,
        problem=True,
    ),
    dict(kind="json", duration_ms=10002, downstream_remote="REDACTED_IP2:45621"),
    dict(
        kind="json",
        direction="inbound",
        code=0,
        flags=(),
        bytes_in=5120,
        bytes_out=759108,
        duration_ms=288127,
        upstream_cluster="InboundPassthroughClusterIpv4",
        problem=False,
    ),
]


def test_fixture_has_the_lines_the_table_describes() -> None:
    assert len(fixture_lines()) == len(EXPECTED)


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED)))
def test_fixture_line_fields(index: int, expected: dict[str, object]) -> None:
    line = fixture_lines()[index]
    record = parse_line(line)
    assert record.raw == line
    for name, value in expected.items():
        assert getattr(record, name) == value, name


def test_tls_error_reason_is_kept_whole() -> None:
    line = next(line for line in fixture_lines() if "CERTIFICATE_VERIFY_FAILED" in line)
    record = parse_line(line)
    assert record.transport_failure is not None
    assert record.transport_failure.startswith("TLS_error:|67108971")
    assert record.transport_failure.endswith(":TLS_error_end")


def _pre_19(line: str) -> str:
    """The same line in Istio <= 1.8's format: no %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%."""
    head, _, rest = line.partition('" ')
    code, flags, _details, _termination, tail = rest.split(" ", 4)
    return f'{head}" {code} {flags} {tail}'


@pytest.mark.parametrize("index", [0, 1, 7, 9])
def test_pre_1_9_format_reads_the_same_fields(index: int) -> None:
    current = parse_line(fixture_lines()[index])
    old = parse_line(_pre_19(fixture_lines()[index]))
    assert old.kind == current.kind
    assert old.details is None and old.termination is None
    for name in (
        "time",
        "direction",
        "method",
        "path",
        "code",
        "flags",
        "transport_failure",
        "bytes_in",
        "bytes_out",
        "duration_ms",
        "upstream_host",
        "upstream_cluster",
        "authority",
        "sni",
    ):
        assert getattr(old, name) == getattr(current, name), name


@pytest.mark.parametrize(
    "prefix",
    [
        "2020-11-25T21:26:19.123456789Z ",
        "[pod/httpbin-74fb669cc6-qvlb7/istio-proxy] ",
        "[pod/httpbin-74fb669cc6-qvlb7/istio-proxy] 2020-11-25T21:26:19.123456789Z ",
    ],
)
def test_kubectl_prefixes_are_stripped(prefix: str) -> None:
    line = fixture_lines()[0]
    record = parse_line(prefix + line)
    assert record.kind == "access"
    assert record.raw == prefix + line
    assert record.time == "2020-11-25T21:26:18.409Z"
    assert record.upstream_cluster == "outbound|8000||httpbin.foo.svc.cluster.local"


def test_kubectl_timestamp_gives_a_raw_line_its_time() -> None:
    record = parse_line("2024-01-02T03:04:05.678901Z some text")
    assert (record.kind, record.time) == ("raw", "2024-01-02T03:04:05.678901Z")


@pytest.mark.parametrize(
    ("line", "level", "logger", "problem", "mtls"),
    [
        (
            "[2021-11-03 17:22:43.361][1678][info][main] [source/server/server.cc:368] initializing epoch 0",
            "info",
            "main",
            False,
            None,
        ),
        (
            "[2024-08-27 20:00:10.142][15][warning][config] [source/common/config/grpc_stream.h:191] "
            "StreamAggregatedResources gRPC config stream closed",
            "warning",
            "config",
            True,
            None,
        ),
        (
            "[2024-08-27 20:00:10.142][22][debug][connection] [source/common/tls/ssl_socket.cc:246] [C7] "
            "remote address:10.0.0.4:5000,TLS_error:|268435581:SSL routines:OPENSSL_internal:"
            "CERTIFICATE_VERIFY_FAILED",
            "debug",
            "connection",
            True,
            "CERTIFICATE_VERIFY_FAILED",
        ),
        (
            "2024-08-27T20:00:10.142108Z\tinfo\txdsproxy\t"
            "connected to upstream XDS server: istiod.istio-system.svc:15012",
            "info",
            "xdsproxy",
            False,
            None,
        ),
        (
            "2024-08-27T20:00:10.142108Z\terror\tcache\tresource:default failed to sign",
            "error",
            "cache",
            True,
            None,
        ),
    ],
)
def test_proxy_own_lines(line: str, level: str, logger: str, problem: bool, mtls: str | None) -> None:
    record = parse_line(line)
    assert (record.kind, record.level, record.logger, record.problem, record.mtls_problem) == (
        "envoy",
        level,
        logger,
        problem,
        mtls,
    )
    assert record.time is not None and time_key(record.time).startswith(record.time[:10])


def test_json_with_typed_values_and_details() -> None:
    line = json.dumps(
        {
            "start_time": "2024-05-01T10:00:00.000Z",
            "method": "GET",
            "path": "/ratings/0",
            "protocol": "HTTP/1.1",
            "response_code": 503,
            "response_flags": "UF,URX",
            "response_code_details": "upstream_reset_before_response_started{connection_failure,TLS_error:"
            "_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER}",
            "upstream_transport_failure_reason": "TLS_error:_268435703:SSL_routines:OPENSSL_internal:"
            "WRONG_VERSION_NUMBER",
            "bytes_received": 0,
            "bytes_sent": 91,
            "duration": 2,
            "upstream_cluster": "outbound|9080||ratings.bookinfo.svc.cluster.local",
            "authority": "ratings:9080",
            "requested_server_name": None,
        }
    )
    record = parse_line(line)
    assert (record.kind, record.code, record.flags, record.bytes_out, record.direction) == (
        "json",
        503,
        ("UF", "URX"),
        91,
        "outbound",
    )
    assert record.mtls_problem == "WRONG_VERSION_NUMBER"
    assert record.sni is None


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "-",
        '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream',  # cut short
        '[2020-11-25T21:26:18.409Z] "GET /status/418',
        '{"start_time": ',
        '{"a": 1}',
        "[1] [2] [3]",
        "[pod/x/istio-proxy] ",
        "2024-01-02T03:04:05Z",
        "[" * 10000,
        '"- - -" 0 NR filter_chain_not_found',
        "\x00\x01\x02 binary \udcff",
    ],
)
def test_fragments_stay_raw(line: str) -> None:
    record = parse_line(line)
    assert record.kind == "raw"
    assert record.raw == line.rstrip("\r\n")
    assert not record.problem


def test_every_fixture_fragment_cut_never_raises() -> None:
    for line in fixture_lines():
        for cut in range(0, len(line), 7):
            assert isinstance(parse_line(line[:cut]), LogRecord)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    record = parse_line(text)
    assert record.raw == text.rstrip("\r\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "[",
                "]",
                '"',
                " ",
                "-",
                "0",
                "{",
                "}",
                ":",
                "GET",
                "/x",
                "HTTP/1.1",
                "\t",
                "2024-01-02T03:04:05.000Z",
                "[2024-01-02 03:04:05.000]",
                "UF,URX",
                "inbound|80||",
            ]
        ),
        max_size=60,
    )
)
def test_near_miss_lines_never_raise(parts: list[str]) -> None:
    assert isinstance(parse_line("".join(parts)), LogRecord)


def test_documented_fields_are_json_ready() -> None:
    out = json.loads(msgspec.json.encode(parse_line(fixture_lines()[9]).documented()))
    assert list(out) == list(DOCUMENTED_FIELDS)
    assert out["flags"] == ["UF", "URX"]
    assert out["method"] is None and out["client"] is None


@pytest.mark.parametrize(
    ("time", "key"),
    [
        ("2024-08-27 20:00:10.142", "2024-08-27T20:00:10.142"),
        ("2024-08-27T20:00:10.142Z", "2024-08-27T20:00:10.142"),
        ("2024-08-27T20:00:10.142108123Z", "2024-08-27T20:00:10.142"),
        (None, ""),
        ("garbage", ""),
    ],
)
def test_time_key(time: str | None, key: str) -> None:
    assert time_key(time) == key

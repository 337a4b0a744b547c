"""Lines written from Istio's documented default format strings, old and new, with the prefixes
kubectl and log shippers add. The format strings are Istio's (pilot/pkg/model/telemetry_logging.go
today; the 1.5–1.8 strings are the ones istiod put in its listeners' FileAccessLog then, see
../shared/fixtures/envoy/envoy-log-format.md); each line is the format with its operators filled in."""

from __future__ import annotations

import pytest

from meshtui.logs.parser import parse_line, pod_prefix

FORMAT_1_9 = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
    '%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" '
    '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" '
    '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% '
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
    "%ROUTE_NAME%"
)
# Istio 1.5–1.7 (Mixer's policy status still in the default format).
FORMAT_MIXER = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
    '%RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%" '
    '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" '
    '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% '
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
    "%ROUTE_NAME%"
)
# Istio 1.8: Mixer gone, response-code details not yet there.
FORMAT_1_8 = FORMAT_MIXER.replace('"%DYNAMIC_METADATA(istio.mixer:status)%" ', "")

INBOUND_HTTP = {
    "%START_TIME%": "2020-06-12T08:12:24.345Z", "%REQ(:METHOD)%": "POST",
    "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%": "/api/stock", "%PROTOCOL%": "HTTP/1.1", "%RESPONSE_CODE%": "503",
    "%RESPONSE_FLAGS%": "UC",
    "%RESPONSE_CODE_DETAILS%": "upstream_reset_before_response_started{connection_termination}",
    "%CONNECTION_TERMINATION_DETAILS%": "-", "%DYNAMIC_METADATA(istio.mixer:status)%": "-",
    "%UPSTREAM_TRANSPORT_FAILURE_REASON%": "-", "%BYTES_RECEIVED%": "138", "%BYTES_SENT%": "95",
    "%DURATION%": "12", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%": "-", "%REQ(X-FORWARDED-FOR)%": "203.0.113.9",
    "%REQ(USER-AGENT)%": "Go-http-client/1.1", "%REQ(X-REQUEST-ID)%": "ed37e325-1a4e-9827-b994-1a3317bcc0b1",
    "%REQ(:AUTHORITY)%": "stock:3001", "%UPSTREAM_HOST%": "127.0.0.1:3001",
    "%UPSTREAM_CLUSTER_RAW%": "inbound|3001||", "%UPSTREAM_CLUSTER%": "inbound|3001|http|stock.shop.svc.cluster.local",
    "%UPSTREAM_LOCAL_ADDRESS%": "127.0.0.1:50312", "%DOWNSTREAM_LOCAL_ADDRESS%": "10.244.2.31:3001",
    "%DOWNSTREAM_REMOTE_ADDRESS%": "10.244.1.152:43512",
    "%REQUESTED_SERVER_NAME%": "outbound_.3001_._.stock.shop.svc.cluster.local", "%ROUTE_NAME%": "default",
}
OUTBOUND_TLS_FAILURE = INBOUND_HTTP | {
    "%RESPONSE_FLAGS%": "UF,URX",
    "%RESPONSE_CODE_DETAILS%": "upstream_reset_before_response_started{connection_failure}",
    "%UPSTREAM_TRANSPORT_FAILURE_REASON%": "TLS_error:_WRONG_VERSION_NUMBER", "%UPSTREAM_HOST%": "10.244.2.31:3001",
    "%UPSTREAM_CLUSTER_RAW%": "outbound|3001||stock.shop.svc.cluster.local",
    "%UPSTREAM_CLUSTER%": "outbound|3001||stock.shop.svc.cluster.local",
    "%UPSTREAM_LOCAL_ADDRESS%": "10.244.1.152:50312", "%DOWNSTREAM_LOCAL_ADDRESS%": "10.96.4.20:3001",
    "%DOWNSTREAM_REMOTE_ADDRESS%": "10.244.1.152:43510", "%REQUESTED_SERVER_NAME%": "-",
}
PLAINTEXT_TCP = INBOUND_HTTP | {
    "%REQ(:METHOD)%": "-", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%": "-", "%PROTOCOL%": "-", "%RESPONSE_CODE%": "0",
    "%RESPONSE_FLAGS%": "NR", "%RESPONSE_CODE_DETAILS%": "filter_chain_not_found", "%BYTES_RECEIVED%": "0",
    "%BYTES_SENT%": "0", "%DURATION%": "0", "%REQ(X-FORWARDED-FOR)%": "-", "%REQ(USER-AGENT)%": "-",
    "%REQ(X-REQUEST-ID)%": "-", "%REQ(:AUTHORITY)%": "-", "%UPSTREAM_HOST%": "-", "%UPSTREAM_CLUSTER_RAW%": "-",
    "%UPSTREAM_CLUSTER%": "-", "%UPSTREAM_LOCAL_ADDRESS%": "-", "%REQUESTED_SERVER_NAME%": "-", "%ROUTE_NAME%": "-",
}


def render(fmt: str, values: dict[str, str]) -> str:
    line = fmt
    for operator, value in sorted(values.items(), key=lambda kv: -len(kv[0])):  # longest first: no prefix clash
        line = line.replace(operator, value)
    assert "%" not in line.replace("%2F", ""), line
    return line


FORMATS = {"1.9+": FORMAT_1_9, "1.8": FORMAT_1_8, "1.5-1.7 mixer": FORMAT_MIXER}
PREFIXES = {
    "none": "",
    "kubectl --timestamps": "2020-06-12T08:12:24.412345678Z ",
    "kubectl --prefix --timestamps": "[pod/stock-7d9f8b6c5-x2k4p/istio-proxy] 2020-06-12T08:12:24.412345678Z ",
    "CRI node log (log shipper)": "2020-06-12T08:12:24.412345678Z stdout F ",
}


@pytest.mark.parametrize("prefix", PREFIXES.values(), ids=PREFIXES.keys())
@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_inbound_http_line_reads_every_field(fmt: str, prefix: str) -> None:
    line = prefix + render(fmt, INBOUND_HTTP)
    r = parse_line(line)
    assert (r.kind, r.time, r.direction, r.method, r.path, r.protocol) == (
        "access", "2020-06-12T08:12:24.345Z", "inbound", "POST", "/api/stock", "HTTP/1.1")
    assert (r.code, r.flags, r.bytes_in, r.bytes_out, r.duration_ms) == (503, ("UC",), 138, 95, 12)
    assert r.transport_failure is None
    assert (r.x_forwarded_for, r.user_agent, r.request_id, r.authority) == (
        "203.0.113.9", "Go-http-client/1.1", "ed37e325-1a4e-9827-b994-1a3317bcc0b1", "stock:3001")
    assert r.upstream_host == "127.0.0.1:3001" and r.upstream_cluster.startswith("inbound|3001|")
    assert (r.upstream_local, r.downstream_local, r.downstream_remote) == (
        "127.0.0.1:50312", "10.244.2.31:3001", "10.244.1.152:43512")
    assert (r.sni, r.route, r.tls) == ("outbound_.3001_._.stock.shop.svc.cluster.local", "default", "mtls")
    assert r.problem
    if fmt is FORMAT_1_9:
        assert r.details == "upstream_reset_before_response_started{connection_termination}"
        assert r.mtls_problem == "connection_termination"
    else:
        assert r.details is None and r.termination is None


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_transport_failure_is_the_second_quoted_field_in_mixer_lines(fmt: str) -> None:
    r = parse_line(render(fmt, OUTBOUND_TLS_FAILURE))
    assert r.direction == "outbound" and r.flags == ("UF", "URX")
    assert r.transport_failure == "TLS_error:_WRONG_VERSION_NUMBER"
    assert r.mtls_problem == "WRONG_VERSION_NUMBER"
    assert r.tls is None  # outbound: the line does not say what the sidecar sent
    assert r.upstream_local == "10.244.1.152:50312"


def test_mixer_status_with_a_value_is_not_taken_for_the_transport_failure() -> None:
    values = OUTBOUND_TLS_FAILURE | {"%DYNAMIC_METADATA(istio.mixer:status)%": "UNAVAILABLE:no healthy upstream"}
    r = parse_line(render(FORMAT_MIXER, values))
    assert r.transport_failure == "TLS_error:_WRONG_VERSION_NUMBER"
    assert r.upstream_cluster == "outbound|3001||stock.shop.svc.cluster.local"


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_plaintext_tcp_into_strict(fmt: str) -> None:
    r = parse_line(render(fmt, PLAINTEXT_TCP))
    assert (r.kind, r.code, r.flags, r.downstream_remote) == ("tcp", 0, ("NR",), "10.244.1.152:43512")
    assert r.direction is None  # no cluster and no SNI
    # 1.9+ says no filter chain took it: the inbound listener refused plaintext. Older lines do not say.
    assert r.tls == ("plaintext" if fmt is FORMAT_1_9 else None)


def test_inbound_without_sni_is_plaintext_and_foreign_sni_is_tls() -> None:
    plain = parse_line(render(FORMAT_1_9, INBOUND_HTTP | {"%REQUESTED_SERVER_NAME%": "-"}))
    assert (plain.direction, plain.tls) == ("inbound", "plaintext")
    foreign = parse_line(render(FORMAT_1_9, INBOUND_HTTP | {"%REQUESTED_SERVER_NAME%": "stock.example.com"}))
    assert foreign.tls == "tls"


def test_pod_prefix() -> None:
    assert pod_prefix("[pod/stock-7d9f8b6c5-x2k4p/istio-proxy] [2020-06-12T08:12:24.345Z] x") == \
        "stock-7d9f8b6c5-x2k4p"
    assert pod_prefix("[2020-06-12T08:12:24.345Z] x") is None
    assert pod_prefix("[pod/broken x") is None

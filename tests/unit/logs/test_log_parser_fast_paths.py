"""The parser's per-line paths written for speed: the TEXT access line built positionally,
JSON-encoded lines decoded straight into the fields read, and access lines built straight into
their printed form (`meshtui logs -o json`). Each row is a line and what the record must hold; rows
cover the edges where those paths could drift from the plain reading (empty quoted fields, absent
vs null keys, non-object JSON, duplicate keys, values of other JSON types)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.logs.parser import parse_documented, parse_line
from tests.hostile.strategies import json_values
from tests.unit.logs.test_log_parser import fixture_lines

ACCESS = (
    '[2024-06-18T10:19:42.614Z] "POST /topup HTTP/1.1" 503 UC upstream_reset_before_response_started'
    '{{connection_termination}} - "{transport}" 138 95 120001 - "{xff}" "{ua}" "{rid}" "{authority}" '
    '"{upstream}" inbound|8080|| 127.0.0.6:58719 10.34.127.167:8080 10.34.126.119:57080 '
    "outbound_.8080_._.internal-api.default.svc.cluster.local default"
)
_EMPTY = dict(transport="", xff="", ua="", rid="", authority="", upstream="")
_FULL = dict(transport="TLS_error:_CERTIFICATE_VERIFY_FAILED", xff="203.0.113.9", ua="curl/8", rid="r-1",
             authority="internal-api:8080", upstream="10.34.127.167:8080")


@pytest.mark.parametrize(("fields", "expected"), [
    (_EMPTY, dict(transport_failure=None, x_forwarded_for=None, user_agent=None, request_id=None, authority=None,
                  upstream_host=None, mtls_problem="connection_termination")),
    ({k: "-" for k in _EMPTY}, dict(transport_failure=None, x_forwarded_for=None, user_agent=None,
                                    request_id=None, authority=None, upstream_host=None)),
    (_FULL, dict(transport_failure="TLS_error:_CERTIFICATE_VERIFY_FAILED", x_forwarded_for="203.0.113.9",
                 user_agent="curl/8", request_id="r-1", authority="internal-api:8080",
                 upstream_host="10.34.127.167:8080", mtls_problem="CERTIFICATE_VERIFY_FAILED")),
], ids=["empty-quoted", "dash-quoted", "filled"])
def test_access_line_fields(fields: dict[str, str], expected: dict[str, Any]) -> None:
    r = parse_line(ACCESS.format(**fields))
    common = dict(kind="access", time="2024-06-18T10:19:42.614Z", direction="inbound", method="POST", path="/topup",
                  protocol="HTTP/1.1", code=503, flags=("UC",), termination=None, bytes_in=138, bytes_out=95,
                  duration_ms=120001, upstream_cluster="inbound|8080||", upstream_local="127.0.0.6:58719",
                  downstream_local="10.34.127.167:8080", downstream_remote="10.34.126.119:57080",
                  sni="outbound_.8080_._.internal-api.default.svc.cluster.local", route="default", level=None,
                  logger=None, message=None, problem=True, ztunnel=None)
    for name, value in (common | expected).items():
        assert getattr(r, name) == value, name


def _j(**fields: Any) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(("line", "expected"), [
    # Not an access line: the raw fallback.
    ("[1, 2]", dict(kind="raw")),
    ('"start_time"', dict(kind="raw")),
    ("{}", dict(kind="raw")),
    (_j(level="info", msg="hello"), dict(kind="raw")),
    ('{"start_time": "2024-01-01T00:00:00Z"', dict(kind="raw")),  # cut short
    # Present but null still marks an access line (absent does not).
    (_j(response_code=None), dict(kind="json", code=None, time=None, problem=False)),
    (_j(start_time=None), dict(kind="json", time=None)),
    # Numbers as numbers or digit strings; anything else is no number.
    (_j(response_code=503, bytes_received="12", bytes_sent=7, duration="x"),
     dict(kind="json", code=503, bytes_in=12, bytes_out=7, duration_ms=None, problem=True)),
    (_j(response_code=True, duration=1.5), dict(kind="json", code=None, duration_ms=None)),
    # Text fields: "-" and "" are absent; other JSON types are shown as text.
    (_j(start_time="-", method="", path=["/a"], authority={"h": 1}, user_agent=5),
     dict(kind="json", time=None, method=None, path="['/a']", authority="{'h': 1}", user_agent="5")),
    # A repeated key: the last one counts, as in a JSON object read into a dict.
    ('{"response_code": "200", "response_code": "503", "response_flags": "UF,URX"}',
     dict(kind="json", code=503, flags=("UF", "URX"), problem=True)),
    # Keys the record does not read are skipped, whatever they hold.
    (_j(start_time="2024-01-01T00:00:00Z", extra={"deep": [[[{}]]]}, istio_policy_status="-"),
     dict(kind="json", time="2024-01-01T00:00:00Z")),
    (_j(response_code="0", upstream_cluster="outbound|7600||k.ns.svc.cluster.local",
        upstream_transport_failure_reason="TLS_error:WRONG_VERSION_NUMBER", requested_server_name="-",
        route_name="default", downstream_remote_address="10.0.0.1:5", upstream_local_address="10.0.0.2:6",
        downstream_local_address="10.0.0.3:7", x_forwarded_for="-", request_id="r",
        connection_termination_details="-", response_code_details="-"),
     dict(kind="json", code=0, direction="outbound", transport_failure="TLS_error:WRONG_VERSION_NUMBER",
          mtls_problem="WRONG_VERSION_NUMBER", problem=True, sni=None, route="default",
          downstream_remote="10.0.0.1:5", upstream_local="10.0.0.2:6", downstream_local="10.0.0.3:7",
          x_forwarded_for=None, request_id="r", termination=None, details=None)),
], ids=["array", "string", "empty-object", "other-json", "cut-short", "null-code", "null-time", "numbers",
        "not-numbers", "other-types", "repeated-key", "unread-keys", "every-field"])
def test_json_line_fields(line: str, expected: dict[str, Any]) -> None:
    r = parse_line(line)
    assert r.raw == line
    for name, value in expected.items():
        assert getattr(r, name) == value, name


def test_json_line_after_kubectl_time_prefix_takes_that_time_when_it_has_none() -> None:
    r = parse_line("2024-08-27T20:00:10.142Z " + _j(response_code="200"))
    assert (r.kind, r.time, r.code) == ("json", "2024-08-27T20:00:10.142Z", 200)


# The JSON access keys the record reads, and the attribute each lands in.
_TEXT_KEYS = {
    "method": "method", "path": "path", "protocol": "protocol", "response_code_details": "details",
    "connection_termination_details": "termination", "upstream_transport_failure_reason": "transport_failure",
    "upstream_host": "upstream_host", "upstream_cluster": "upstream_cluster", "authority": "authority",
    "requested_server_name": "sni", "request_id": "request_id", "user_agent": "user_agent",
    "x_forwarded_for": "x_forwarded_for", "upstream_local_address": "upstream_local",
    "downstream_local_address": "downstream_local", "downstream_remote_address": "downstream_remote",
    "route_name": "route",
}
_NUMBER_KEYS = {"response_code": "code", "bytes_received": "bytes_in", "bytes_sent": "bytes_out",
                "duration": "duration_ms"}


def _as_text(value: Any) -> str | None:
    text = value if isinstance(value, str) or value is None else str(value)
    return None if text in (None, "-", "") else text


def _as_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.sampled_from([*_TEXT_KEYS, *_NUMBER_KEYS, "response_flags", "other"]),
                              json_values, max_size=8),
       time=json_values)
def test_any_json_values_read_as_the_object_says(fields: dict[str, Any], time: Any) -> None:
    """Pod-written JSON: whatever type each key holds, the line parses (never raises) and each field
    reads as the decoded object says: text fields as text ("-" and "" absent), numbers only from
    integers or digit strings."""
    line = json.dumps({"start_time": time, **fields})
    try:
        msgspec.json.decode(line)
    except msgspec.DecodeError:  # an escaped lone surrogate: not JSON msgspec reads, a raw line
        assert parse_line(line).kind == "raw"
        return
    r = parse_line(line)
    assert r.kind == "json" and r.raw == line
    assert r.time == _as_text(time)
    for key, attribute in _TEXT_KEYS.items():
        assert getattr(r, attribute) == _as_text(fields.get(key)), key
    for key, attribute in _NUMBER_KEYS.items():
        assert getattr(r, attribute) == _as_number(fields.get(key)), key
    flags = _as_text(fields.get("response_flags"))
    assert r.flags == (tuple(flags.split(",")) if flags else ())


def _printed_alike(line: str) -> None:
    assert parse_documented(line) == parse_line(line).documented()


def test_printed_form_of_every_fixture_line_is_the_records() -> None:
    lines = [*fixture_lines(), ACCESS.format(**_EMPTY), ACCESS.format(**_FULL), _j(response_code="503")]
    for line in lines:
        _printed_alike(line)


_field = st.one_of(st.sampled_from(["-", "", "0", "UF,URX", "outbound_.80_._.a", "inbound|80||", "via_upstream",
                                    "filter_chain_not_found", "TLS_error:_CERTIFICATE_VERIFY_FAILED"]),
                   st.text(st.characters(blacklist_characters='"\n\r'), max_size=12))


@settings(max_examples=300, deadline=None)
@given(quoted=st.fixed_dictionaries({k: _field for k in _EMPTY}),
       prefix=st.sampled_from(["", "[pod/a-1/istio-proxy] ", "2024-08-27T20:00:10.142Z "]),
       other=st.text(max_size=40),
       fields=st.dictionaries(st.sampled_from([*_TEXT_KEYS, *_NUMBER_KEYS]), json_values, max_size=6))
def test_printed_form_is_the_records_for_any_line(quoted: dict[str, str], prefix: str, other: str,
                                                   fields: dict[str, Any]) -> None:
    """Whatever an access line holds (TEXT or JSON), and for any other text, what `-o json` prints
    equals the record's documented form: the short cut never drifts from the record."""
    _printed_alike(prefix + ACCESS.format(**quoted))
    _printed_alike(prefix + json.dumps(fields))
    _printed_alike(other)

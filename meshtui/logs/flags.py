"""Plain-words meanings of Envoy response flags, response-code details, connection-termination
details and upstream transport failures, worded for someone operating an Istio mesh.

Meanings follow Envoy's access-log reference (%RESPONSE_FLAGS%) and its response-code-details
table; the mTLS readings follow Istio's "Understanding Envoy's access logs" guidance.
"""

from __future__ import annotations

import re

RESPONSE_FLAGS: dict[str, str] = {
    "UH": "No healthy upstream: every endpoint of the upstream cluster is unhealthy or there are none "
          "(503). Check the destination's pods are Ready and selected by the Service.",
    "UF": "Upstream connection failure (503): the proxy could not open a connection to the endpoint — "
          "refused, unreachable, or a failed TLS handshake (see the transport failure reason).",
    "UO": "Upstream overflow (503): a circuit breaker (DestinationRule connectionPool) refused the request "
          "before it left this proxy.",
    "NR": "No route (404), or no matching filter chain for the connection: nothing in the config accepts "
          "this host/port — often a missing VirtualService/Service port or a plaintext/mTLS mismatch.",
    "URX": "Retry limit reached: the request (HTTP retries) or connection (TCP connect attempts) was given "
           "up after the configured number of tries.",
    "NC": "Upstream cluster not found: the route points at a cluster the proxy does not know "
          "(e.g. a DestinationRule subset with no matching pods).",
    "DT": "Duration timeout: the request or connection exceeded max_connection_duration / "
          "max_downstream_connection_duration.",
    "DC": "Downstream connection termination: the client went away before the response was complete.",
    "LH": "Local service failed its health check (503).",
    "UT": "Upstream request timeout (504): the route's timeout expired before the upstream answered.",
    "LR": "Connection local reset (503): this proxy reset the stream itself.",
    "UR": "Upstream remote reset (503): the upstream reset the stream.",
    "UC": "Upstream connection termination (503): the upstream closed the connection — an app crash, an "
          "idle-timeout race, or a server that rejected the proxy's protocol (plaintext vs mTLS).",
    "DI": "Delayed by fault injection (VirtualService fault.delay).",
    "FI": "Aborted by fault injection (VirtualService fault.abort) with the configured code.",
    "RL": "Rate limited locally by the HTTP rate-limit filter (429).",
    "UAEX": "Denied by the external authorization service (AuthorizationPolicy action CUSTOM).",
    "RLSE": "Rejected because the rate-limit service returned an error.",
    "IH": "Rejected: a strictly-checked x-envoy header had an invalid value (400).",
    "SI": "Stream idle timeout (408 or 504): no bytes moved for the idle timeout.",
    "DPE": "Downstream protocol error: the client's HTTP request was malformed.",
    "UPE": "Upstream protocol error: the upstream's HTTP response was malformed (often HTTP spoken to a "
           "TLS port or the wrong HTTP version).",
    "UMSDR": "The upstream request reached its max stream duration.",
    "OM": "Terminated by Envoy's overload manager (the proxy is short of memory or connections).",
    "DF": "DNS resolution failure for the upstream host.",
    "DO": "Dropped by the cluster's drop-overload policy.",
}

# Exact %RESPONSE_CODE_DETAILS% values (prefix before any {..} or [..] part).
RESPONSE_DETAILS: dict[str, str] = {
    "via_upstream": "The upstream application set this response code; Envoy only passed it on.",
    "route_not_found": "No route matched the request's host and path.",
    "filter_chain_not_found": "No listener filter chain matched the connection. Inbound, this is the classic "
                              "sign of plaintext reaching a STRICT mTLS port (no filter chain for non-TLS).",
    "cluster_not_found": "The route's cluster does not exist in this proxy's config.",
    "no_healthy_upstream": "No healthy endpoint in the upstream cluster.",
    "upstream_reset_before_response_started": "The upstream connection was reset before any response "
                                              "headers arrived; the part in braces says why.",
    "upstream_reset_after_response_started": "The upstream connection was reset in the middle of a response.",
    "upstream_per_try_timeout": "The last retry attempt timed out.",
    "upstream_response_timeout": "The upstream did not answer within the route timeout.",
    "response_timeout": "The upstream did not answer within the route timeout.",
    "stream_idle_timeout": "The stream was idle longer than the idle timeout.",
    "upstream_max_stream_duration_reached": "The request ran past the configured max stream duration.",
    "rbac_access_denied_matched_policy": "An AuthorizationPolicy denied the request; the name in brackets "
                                         "is the matched policy (ns.name or a DENY/CUSTOM rule).",
    "rbac_access_denied": "An AuthorizationPolicy denied the request.",
    "ext_authz_denied": "The external authorizer (CUSTOM AuthorizationPolicy) denied the request.",
    "ext_authz_error": "The external authorizer could not be reached or failed.",
    "request_rate_limited": "The request was rate limited.",
    "local_rate_limited": "The local rate limiter rejected the request.",
    "downstream_remote_disconnect": "The client disconnected before the response was sent.",
    "overload_manager": "Envoy's overload manager rejected the request.",
    "direct_response": "A direct response configured in the route answered the request.",
    "duration_timeout": "The connection or request exceeded its maximum duration.",
    "maintenance_mode": "The upstream cluster is in maintenance mode.",
}

# Reasons that appear inside upstream_reset_*{...}.
RESET_REASONS: dict[str, str] = {
    "connection_termination": "the upstream closed the connection (often a server refusing the proxy's "
                              "protocol: plaintext to an mTLS-only port, or mTLS to a plaintext one)",
    "connection_failure": "the connection to the upstream could not be established",
    "remote_connection_failure": "the remote end refused or dropped the connection attempt",
    "local_reset": "this proxy reset the stream",
    "remote_reset": "the upstream reset the stream",
    "overflow": "a circuit breaker refused the request",
    "protocol_error": "the upstream spoke malformed HTTP",
    "remote_refused_stream_reset": "the upstream refused the stream",
    "connect_timeout": "connecting to the upstream timed out",
}

# Markers inside %UPSTREAM_TRANSPORT_FAILURE_REASON% (BoringSSL error strings).
TRANSPORT_FAILURES: dict[str, str] = {
    "CERTIFICATE_VERIFY_FAILED": "The peer's certificate was not trusted: a different root CA, an "
                                 "expired certificate or a SAN that does not match.",
    "WRONG_VERSION_NUMBER": "TLS met something that is not TLS: a plaintext server on an mTLS port "
                            "(e.g. DestinationRule ISTIO_MUTUAL toward a pod without a sidecar).",
    "TLS_error": "The TLS handshake with the upstream failed.",
    "delayed_connect_error": "The TCP connection to the upstream failed (the text after says why).",
}

# mtls_problem keys set by the parser, and what each means for mesh mTLS.
MTLS_PROBLEMS: dict[str, str] = {
    "filter_chain_not_found": "Plaintext reached a STRICT mTLS port (no filter chain for non-TLS). "
                              "The client has no sidecar, or its DestinationRule disables TLS.",
    "CERTIFICATE_VERIFY_FAILED": "mTLS handshake failed: the certificate was not trusted "
                                 "(different mesh root CA or trust domain, or an expired cert).",
    "WRONG_VERSION_NUMBER": "mTLS was sent to a server that speaks plaintext (no sidecar on the "
                            "destination, or a port excluded from interception).",
    "TLS_error": "The TLS handshake with the upstream failed.",
    "connection_termination": "The upstream closed the connection before answering; with a sidecar "
                              "mismatch this is plaintext reaching STRICT mTLS (or the reverse).",
    "rbac_denied": "An AuthorizationPolicy denied the request (the peer identity from mTLS did not match).",
    "ztunnel_policy": "ztunnel refused the connection by policy: plaintext to an ambient pod whose "
                      "PeerAuthentication is STRICT (istiod makes it a deny rule for unauthenticated "
                      "traffic), or an AuthorizationPolicy.",
}

_BRACKET = re.compile(r"[{\[]")


def explain_flag(flag: str) -> str:
    return RESPONSE_FLAGS.get(flag, f"Unknown response flag {flag!r} (newer Envoy?).")


def explain_details(details: str) -> str:
    """Explain a %RESPONSE_CODE_DETAILS% value, including the reasons in `{a|b}` and the policy in `[..]`."""
    cut = _BRACKET.search(details)
    head = details[: cut.start()] if cut else details
    words = RESPONSE_DETAILS.get(head)
    if words is None and head.startswith(("http1.", "http2.", "http3.")):
        words = "The HTTP codec rejected the traffic (" + head + ")."
    if words is None:
        words = f"Envoy detail {head!r}."
    if cut is None:
        return words
    inner = details[cut.start() + 1 : -1] if details[-1:] in "}]" else details[cut.start() + 1 :]
    if details[cut.start()] == "[":
        return f"{words} Policy: {inner}."
    reasons = [RESET_REASONS.get(part, part.replace("_", " ")) for part in inner.split("|") if part]
    return words + " Why: " + "; ".join(reasons) + "." if reasons else words


def explain_transport_failure(reason: str) -> str:
    found = [words for marker, words in TRANSPORT_FAILURES.items() if marker in reason]
    # TLS_error is implied by the more specific BoringSSL reasons; keep only the most specific.
    if len(found) > 1 and TRANSPORT_FAILURES["TLS_error"] in found:
        found.remove(TRANSPORT_FAILURES["TLS_error"])
    return " ".join(found) if found else f"Upstream transport failure: {reason.replace('_', ' ')}."


def explain_mtls(key: str) -> str:
    return MTLS_PROBLEMS.get(key, key)

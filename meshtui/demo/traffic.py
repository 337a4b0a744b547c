"""A deterministic traffic model for the demo mesh: who calls whom, and what each istio-proxy logs.

Every call is decided against the current snapshot with the policy engine's client prediction
(mTLS, plaintext or refused) and the namespace's AuthorizationPolicies, then written as the access-log
lines real sidecars would write in Istio's default TEXT format: the client's outbound line and the
server's inbound line, each only if that pod has a proxy. The model also keeps the counters behind
``/stats`` and ``/stats/prometheus``, and remembers plaintext callers for the migration preview.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from meshtui.model.objects import Pod, Ref, Service
from meshtui.model.snapshot import Snapshot
from meshtui.policy.ambient import waypoint_for_service, waypoint_pods, ztunnel_for
from meshtui.policy.authorization import authorization, principal_of
from meshtui.policy.clients import FAIL, ISTIO_MUTUAL, MTLS, outcome, predict
from meshtui.policy.engine import analyze, port_mode
from meshtui.policy.labels import matches
from meshtui.policy.report import DISABLE, NONE

HISTORY_LINES = 2000
# Calls older than this are not replayed after a long pause (a laptop waking up): the model jumps.
MAX_CATCH_UP = timedelta(seconds=60)
PLAINTEXT_MEMORY = timedelta(minutes=5)
EXTERNAL_CLIENTS = ("203.0.113.24", "198.51.100.77", "192.0.2.140")
INBOUND_PASSTHROUGH_SOURCE = "127.0.0.6"

ENVOY_LOGGERS = (
    "admin",
    "alternate_protocols_cache",
    "aws",
    "assert",
    "backtrace",
    "client",
    "config",
    "connection",
    "conn_handler",
    "dns",
    "dubbo",
    "envoy_bug",
    "ext_authz",
    "file",
    "filter",
    "forward_proxy",
    "grpc",
    "happy_eyeballs",
    "hc",
    "health_checker",
    "http",
    "http2",
    "init",
    "io",
    "jwt",
    "lua",
    "main",
    "matcher",
    "misc",
    "multi_connection",
    "oauth2",
    "pool",
    "rbac",
    "router",
    "runtime",
    "secret",
    "stats",
    "tracing",
    "upstream",
    "udp",
    "wasm",
    "websocket",
)
ENVOY_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")


@dataclass(frozen=True, slots=True)
class Route:
    """One edge of the call graph: pods labelled app=client_app call service:port about every interval s."""

    client_namespace: str
    client_app: str
    namespace: str
    service: str
    port: int
    interval: float
    requests: tuple[tuple[str, str], ...]
    user_agent: str
    # Set for edges entering through the ingress gateway: the public host and the gateway's route.
    authority: str = ""


CALL_GRAPH: tuple[Route, ...] = (
    Route(
        "istio-system",
        "istio-ingressgateway",
        "kubestock-staging",
        "frontend",
        3000,
        0.3,
        (
            ("GET", "/"),
            ("GET", "/products"),
            ("GET", "/static/js/main.4f1c2e.js"),
            ("GET", "/cart"),
            ("GET", "/favicon.ico"),
            ("POST", "/checkout"),
        ),
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        authority="shop.kubestock.example",
    ),
    Route(
        "kubestock-staging",
        "frontend",
        "kubestock-staging",
        "ms-identity",
        3006,
        0.8,
        (("GET", "/api/v1/auth/verify"), ("POST", "/api/v1/auth/refresh")),
        "axios/1.7.7",
    ),
    Route(
        "kubestock-staging",
        "frontend",
        "kubestock-staging",
        "ms-product",
        3003,
        0.5,
        (
            ("GET", "/api/v1/products?page=1"),
            ("GET", "/api/v1/products/4711"),
            ("GET", "/api/v1/products/search?q=bolts"),
        ),
        "axios/1.7.7",
    ),
    Route(
        "kubestock-staging",
        "frontend",
        "kubestock-staging",
        "ms-order-management",
        3002,
        1.0,
        (("GET", "/api/v1/orders"), ("POST", "/api/v1/orders")),
        "axios/1.7.7",
    ),
    Route(
        "kubestock-staging",
        "ms-order-management",
        "kubestock-staging",
        "ms-inventory",
        3001,
        1.0,
        (("GET", "/api/v1/stock/SKU-10442"), ("PUT", "/api/v1/stock/SKU-10442/reserve")),
        "axios/1.7.7",
    ),
    Route(
        "kubestock-staging",
        "ms-order-management",
        "kubestock-staging",
        "ms-supplier",
        3004,
        2.0,
        (("GET", "/api/v1/suppliers/17"),),
        "axios/1.7.7",
    ),
    *(
        edge
        for tenant, short in (("tenant-a-orders", "a"), ("tenant-b-orders", "b"))
        for edge in (
            Route(
                "istio-system",
                "istio-ingressgateway",
                tenant,
                "order-service",
                8080,
                1.0,
                (("POST", f"/{short}/orders"), ("GET", f"/{short}/orders/9931")),
                "Go-http-client/2.0",
                authority="orders.example.com",
            ),
            Route(
                tenant,
                "order-service",
                tenant,
                "payment-service",
                8080,
                1.5,
                (("POST", "/v2/payments"),),
                "Go-http-client/1.1",
            ),
            Route(
                tenant,
                "order-service",
                tenant,
                "inventory-service",
                8080,
                1.2,
                (("POST", "/v2/reservations"), ("GET", "/v2/items/552")),
                "Go-http-client/1.1",
            ),
            Route(
                tenant,
                "order-service",
                tenant,
                "notify-service",
                8080,
                2.0,
                (("POST", "/v2/notifications"),),
                "Go-http-client/1.1",
            ),
        )
    ),
    Route(
        "researchflow",
        "orchestrator",
        "researchflow",
        "worker",
        8000,
        1.0,
        (("POST", "/tasks"), ("GET", "/tasks/8c1f/status")),
        "python-httpx/0.27.2",
    ),
    Route(
        "legacy",
        "batch-reporter",
        "kubestock-staging",
        "ms-inventory",
        3001,
        4.0,
        (("GET", "/api/v1/stock/report?format=csv"),),
        "python-requests/2.31.0",
    ),
)

# The ambient namespace (demo_mesh.AMBIENT_NAMESPACE): ambient → ambient through its waypoint,
# sidecar → ambient, ambient → sidecar, and a client outside the mesh into STRICT (refused by ztunnel).
AMBIENT_ROUTES: tuple[Route, ...] = (
    Route("payments", "payments-api", "payments", "ledger", 8080, 0.7,
          (("POST", "/v1/entries"), ("GET", "/v1/balance")), "Go-http-client/1.1"),
    Route("tenant-a-orders", "order-service", "payments", "payments-api", 8080, 1.5,
          (("POST", "/v1/charges"),), "Go-http-client/1.1"),
    Route("payments", "payments-api", "kubestock-staging", "ms-product", 3003, 2.0,
          (("GET", "/api/v1/products?ids=4"),), "Go-http-client/1.1"),
    Route("legacy", "batch-reporter", "payments", "ledger", 8080, 3.0,
          (("GET", "/v1/export?format=csv"),), "python-requests/2.31.0"),
)
CALL_GRAPH = CALL_GRAPH + AMBIENT_ROUTES


def _dash(value: str | int | None) -> str:
    return "-" if value is None or value == "" else str(value)


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """The fields of Istio's default TEXT access-log format (pilot/pkg/model/telemetry_logging.go)."""

    start: datetime
    method: str | None
    path: str | None
    protocol: str | None
    code: int
    flags: str
    details: str
    termination: str
    transport_failure: str
    received: int
    sent: int
    duration: int
    upstream_time: int | None
    xff: str
    user_agent: str
    request_id: str
    authority: str
    upstream_host: str
    upstream_cluster: str
    upstream_local: str
    downstream_local: str
    downstream_remote: str
    sni: str
    route: str

    def format(self) -> str:
        start = self.start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.start.microsecond // 1000:03d}Z"
        request = f"{_dash(self.method)} {_dash(self.path)} {_dash(self.protocol)}"
        return (
            f'[{start}] "{request}" {self.code} {_dash(self.flags)} {_dash(self.details)} '
            f'{_dash(self.termination)} "{_dash(self.transport_failure)}" {self.received} {self.sent} '
            f'{self.duration} {_dash(self.upstream_time)} "{_dash(self.xff)}" "{_dash(self.user_agent)}" '
            f'"{_dash(self.request_id)}" "{_dash(self.authority)}" "{_dash(self.upstream_host)}" '
            f"{_dash(self.upstream_cluster)} {_dash(self.upstream_local)} {_dash(self.downstream_local)} "
            f"{_dash(self.downstream_remote)} {_dash(self.sni)} {_dash(self.route)}"
        )


@dataclass(slots=True)
class PodLog:
    """A bounded istio-proxy log; ``total`` counts every line ever written so readers can follow."""

    lines: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=HISTORY_LINES))
    total: int = 0

    def append(self, at: datetime, line: str) -> None:
        self.lines.append((at, line))
        self.total += 1

    def since(self, seen: int) -> list[tuple[datetime, str]]:
        """Lines written after the first ``seen`` ones (as many as are still kept)."""
        missing = min(self.total - seen, len(self.lines))
        return list(self.lines)[len(self.lines) - missing :] if missing > 0 else []


# istio_requests_total labels, in the order Istio's stats filter writes them.
REQUEST_LABELS = (
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_canonical_service",
    "destination_canonical_revision",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
)


@dataclass(slots=True)
class ProxyCounters:
    requests: Counter[tuple[str, ...]] = field(default_factory=Counter)
    envoy: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Call:
    at: datetime
    route: Route
    client: Pod
    service: Service
    server: Pod | None
    target_port: int
    method: str
    path: str
    request_id: str
    authority: str
    xff: str
    cluster_ip: str


def _running(pods: Iterable[Pod]) -> list[Pod]:
    return sorted((p for p in pods if p.phase == "Running" and not p.deleting and p.ip), key=lambda p: p.name)


def _ready(pod: Pod) -> bool:
    ready, total = pod.ready_count
    return total > 0 and ready == total


class TrafficModel:
    """Generates calls in time order from one seeded RNG: same seed and same steps, same lines."""

    def __init__(
        self,
        seed: int,
        start: datetime,
        history: int = HISTORY_LINES,
        max_catch_up: timedelta | None = MAX_CATCH_UP,
    ) -> None:
        self._rng = random.Random(seed)
        self._now = start
        self._history = history
        self._max_catch_up = max_catch_up
        self._indexed: Snapshot | None = None
        self._by_app: dict[tuple[str, str], list[Pod]] = {}
        self._endpoints: dict[tuple[str, str], list[Pod]] = {}
        self._due: list[datetime] = [
            start + timedelta(seconds=self._rng.uniform(0, r.interval)) for r in CALL_GRAPH
        ]
        self._logs: dict[tuple[str, str], PodLog] = {}
        self._counters: dict[tuple[str, str], ProxyCounters] = {}
        self._debug: dict[tuple[str, str], dict[str, str]] = {}
        self._plaintext: dict[tuple[str, str, str, int], datetime] = {}
        self._connection_id = 1000
        self._ztunnel_counts: dict[tuple[str, str], Counter[tuple[str, ...]]] = {}

    # --- reading -------------------------------------------------------------------------------
    def log(self, namespace: str, pod: str) -> PodLog:
        return self._logs.setdefault((namespace, pod), PodLog(lines=deque(maxlen=self._history)))

    def observed_plaintext(self) -> list[tuple[str, str, str, int]]:
        """(client workload ref, server namespace, service, port) of plaintext calls seen recently
        by a server sidecar, refused ones included."""
        cutoff = self._now - PLAINTEXT_MEMORY
        return sorted(k for k, seen in self._plaintext.items() if seen >= cutoff)

    def log_levels(self, namespace: str, pod: str) -> dict[str, str]:
        return {name: "warning" for name in ENVOY_LOGGERS} | self._debug.get((namespace, pod), {})

    def set_log_levels(self, namespace: str, pod: str, changes: Mapping[str, str]) -> None:
        """``changes`` maps a logger (or "*" for all) to a level; the caller validated both."""
        levels = self._debug.setdefault((namespace, pod), {})
        for logger, level in changes.items():
            for name in ENVOY_LOGGERS if logger == "*" else (logger,):
                levels[name] = level

    def counters(self, namespace: str, pod: str) -> ProxyCounters:
        return self._counters.setdefault((namespace, pod), ProxyCounters())

    def forget(self, namespace: str, pod: str) -> None:
        for store in (self._logs, self._counters, self._debug):
            store.pop((namespace, pod), None)

    # --- advancing -----------------------------------------------------------------------------
    def run(self, until: datetime, snapshot: Snapshot, cluster_ips: Mapping[tuple[str, str], str]) -> None:
        """Make every call due up to ``until`` against ``snapshot``, in time order."""
        if until <= self._now:
            return
        if self._max_catch_up is not None and until - self._now > self._max_catch_up:
            self._now = until - self._max_catch_up
            self._due = [
                max(d, self._now + timedelta(seconds=self._rng.uniform(0, r.interval)))
                for d, r in zip(self._due, CALL_GRAPH, strict=True)
            ]
        while True:
            i = min(range(len(self._due)), key=lambda j: (self._due[j], j))
            at = self._due[i]
            if at > until:
                break
            route = CALL_GRAPH[i]
            self._due[i] = at + timedelta(seconds=route.interval * self._rng.uniform(0.5, 1.5))
            self._call(route, at, snapshot, cluster_ips)
        self._now = until

    def _call(
        self, route: Route, at: datetime, snapshot: Snapshot, cluster_ips: Mapping[tuple[str, str], str]
    ) -> None:
        rng = self._rng
        clients, service, endpoints = self._parties(route, snapshot)
        if not clients or service is None:
            return
        client = rng.choice(clients)
        server = rng.choice(endpoints) if endpoints else None
        target = next((p.target_port for p in service.ports if p.port == route.port), route.port)
        method, path = rng.choice(route.requests)
        call = _Call(
            at=at,
            route=route,
            client=client,
            service=service,
            server=server,
            target_port=target if isinstance(target, int) else route.port,
            method=method,
            path=path,
            request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            # Callers in the same namespace use the short name, others the FQDN.
            authority=route.authority
            or (
                f"{route.service}:{route.port}"
                if route.namespace == client.namespace
                else f"{service.fqdn}:{route.port}"
            ),
            xff=rng.choice(EXTERNAL_CLIENTS) if route.authority else "",
            cluster_ip=cluster_ips.get((service.namespace, service.name), ""),
        )
        if server is None:
            self._client_line(
                call,
                code=503,
                flags="UH",
                details="no_healthy_upstream",
                sent=19,
                upstream_host="",
                upstream_time=None,
            )
            return
        sends, result = self._decide(snapshot, client, service, server, call.target_port, route.port)
        if result == FAIL:
            self._refused(call, sends)
            return
        mtls = result == MTLS
        if not mtls and (server.has_sidecar or self._captured(server)):
            self._plaintext[(str(self._caller_ref(client)), service.namespace, service.name, route.port)] = at
        principal = principal_of(client) if mtls else ""
        denied = (
            authorization(snapshot, server, principal, call.target_port, method, path)
            if server.has_sidecar
            else None
        )
        if denied:
            self._exchange(
                call, mtls, code=403, server_details=denied, server_flags="", sent=19, reached_app=False
            )
            return
        roll = rng.random()
        if roll < 0.02:
            # Connect refused by the server pod (app restarting); retries exhausted.
            self._client_line(
                call,
                code=503,
                flags="UF,URX",
                details="upstream_reset_before_response_started"
                "{remote_connection_failure|delayed_connect_error:_Connection_refused}",
                transport_failure="delayed_connect_error:_Connection_refused",
                sent=145,
                upstream_time=None,
            )
        elif roll < 0.04:
            self._exchange(
                call,
                mtls,
                code=503,
                server_flags="UC",
                server_details="upstream_reset_before_response_started{connection_termination}",
                sent=95,
                reached_app=True,
            )
        elif roll < 0.10:
            self._exchange(
                call,
                mtls,
                code=404,
                server_details="via_upstream",
                server_flags="",
                sent=rng.randint(20, 160),
                reached_app=True,
            )
        else:
            self._exchange(
                call,
                mtls,
                code=201 if method == "POST" else 200,
                server_details="via_upstream",
                server_flags="",
                sent=rng.randint(180, 24000),
                reached_app=True,
            )

    def _parties(self, route: Route, snapshot: Snapshot) -> tuple[list[Pod], Service | None, list[Pod]]:
        """Running client pods, the Service and its ready endpoints; indexed once per snapshot."""
        if snapshot is not self._indexed:
            self._indexed = snapshot
            self._by_app = {}
            for p in _running(snapshot.pods.values()):
                self._by_app.setdefault((p.namespace, p.labels.get("app", "")), []).append(p)
            self._endpoints = {}
        service = snapshot.services.get((route.namespace, route.service))
        clients = self._by_app.get((route.client_namespace, route.client_app), [])
        if service is None:
            return clients, None, []
        key = (service.namespace, service.name)
        if key not in self._endpoints:
            self._endpoints[key] = [
                p
                for p in _running(snapshot.pods_in(service.namespace))
                if service.selector and matches(service.selector, p.labels) and _ready(p)
            ]
        return clients, service, self._endpoints[key]

    @staticmethod
    def _decide(
        snapshot: Snapshot, client: Pod, service: Service, server: Pod, port: int, service_port: int
    ) -> tuple[str, str]:
        """(what the client sends, outcome) for the one endpoint this call reaches.

        ``predict`` answers for the worst endpoint of the Service; during a rollout endpoints differ,
        so auto-mTLS is re-applied to the chosen one, as the client's Envoy does per endpoint.
        """
        prediction = predict(snapshot, client, service, service_port)
        mode = port_mode(snapshot, server, port).mode
        sends = prediction.sends
        if client.has_sidecar and prediction.rule is None and snapshot.mesh.auto_mtls:
            sends = ISTIO_MUTUAL if mode not in (NONE, DISABLE) else DISABLE
        return sends, outcome(sends, mode, port)[0]

    @staticmethod
    def _caller_ref(pod: Pod) -> Ref:
        return Ref(
            "Deployment" if pod.owner_kind == "ReplicaSet" else pod.owner_kind or "Pod",
            pod.namespace,
            pod.workload_name,
        )

    def _ephemeral(self) -> int:
        return self._rng.randint(32768, 60999)

    def _exchange(
        self,
        call: _Call,
        mtls: bool,
        *,
        code: int,
        server_details: str,
        server_flags: str,
        sent: int,
        reached_app: bool,
    ) -> None:
        """A request that reached the server's sidecar: its inbound line, then the client's outbound one."""
        rng = self._rng
        assert call.server is not None
        received = rng.randint(300, 2400) if call.method in ("POST", "PUT") else 0
        app_ms = rng.randint(1, 40) if reached_app else 0
        inbound_ms = app_ms + rng.randint(0, 2)
        client_port = self._ephemeral()
        server_host = f"{call.server.ip}:{call.target_port}"
        if call.server.has_sidecar:
            fqdn = call.service.fqdn
            self._write(
                call.server,
                AccessRecord(
                    start=call.at + timedelta(milliseconds=1),
                    method=call.method,
                    path=call.path,
                    protocol="HTTP/1.1",
                    code=code,
                    flags=server_flags,
                    details=server_details,
                    termination="",
                    transport_failure="",
                    received=received,
                    sent=sent,
                    duration=inbound_ms,
                    upstream_time=app_ms if reached_app and code != 503 else None,
                    xff=call.xff,
                    user_agent=call.route.user_agent,
                    request_id=call.request_id,
                    authority=call.authority,
                    upstream_host=server_host if reached_app else "",
                    upstream_cluster=f"inbound|{call.target_port}||",
                    upstream_local=f"{INBOUND_PASSTHROUGH_SOURCE}:{self._ephemeral()}" if reached_app else "",
                    downstream_local=server_host,
                    downstream_remote=f"{call.client.ip}:{client_port}",
                    sni=f"outbound_.{call.route.port}_._.{fqdn}" if mtls else "",
                    route="default",
                ),
            )
            self._count(call, reporter="destination", code=code, flags=server_flags, mtls=mtls)
        self._client_line(
            call,
            code=code,
            flags="",
            details="via_upstream",
            sent=sent,
            received=received,
            duration=inbound_ms + rng.randint(1, 3),
            upstream_time=inbound_ms,
            local_port=client_port,
        )
        self._ztunnel_exchange(call, mtls, code=code, sent=sent + 180, received=received + 240,
                               duration=inbound_ms + 1)

    def _refused(self, call: _Call, sends: str) -> None:
        """The connection never became a request: plaintext into STRICT, or mTLS into a pod without
        a sidecar."""
        assert call.server is not None
        if sends == DISABLE and self._captured(call.server):
            self._ztunnel_refused(call)
        client_port = self._ephemeral()
        if sends == DISABLE:
            if call.server.has_sidecar:
                self._plaintext[
                    (
                        str(self._caller_ref(call.client)),
                        call.service.namespace,
                        call.service.name,
                        call.route.port,
                    )
                ] = call.at
                self._write(
                    call.server,
                    AccessRecord(
                        start=call.at,
                        method=None,
                        path=None,
                        protocol=None,
                        code=0,
                        flags="NR",
                        details="filter_chain_not_found",
                        termination="",
                        transport_failure="",
                        received=0,
                        sent=0,
                        duration=0,
                        upstream_time=None,
                        xff="",
                        user_agent="",
                        request_id="",
                        authority="",
                        upstream_host="",
                        upstream_cluster="",
                        upstream_local="",
                        downstream_local=f"{call.server.ip}:{call.target_port}",
                        downstream_remote=f"{call.client.ip}:{client_port}",
                        sni="",
                        route="",
                    ),
                )
                self.counters(call.server.namespace, call.server.name).envoy[
                    "listener.0.0.0.0_15006.no_filter_chain_match"
                ] += 1
            self._client_line(
                call,
                code=503,
                flags="UC",
                details="upstream_reset_before_response_started{connection_termination}",
                sent=95,
                upstream_time=None,
                local_port=client_port,
            )
        else:
            tls_error = (
                "TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end"
            )
            self._client_line(
                call,
                code=503,
                flags="UF,URX",
                details=f"upstream_reset_before_response_started{{remote_connection_failure|{tls_error}}}",
                transport_failure=tls_error,
                sent=195,
                upstream_time=None,
                local_port=client_port,
            )

    def _client_line(
        self,
        call: _Call,
        *,
        code: int,
        flags: str,
        details: str,
        sent: int,
        upstream_time: int | None,
        transport_failure: str = "",
        received: int = 0,
        duration: int | None = None,
        upstream_host: str | None = None,
        local_port: int | None = None,
    ) -> None:
        client = call.client
        if not client.has_sidecar:
            return
        rng = self._rng
        if upstream_host is None:
            upstream_host = f"{call.server.ip}:{call.target_port}" if call.server else ""
        gateway = bool(call.route.authority)
        # A gateway's downstream is the external caller; a sidecar's is its own app via iptables.
        downstream_local = f"{client.ip}:8080" if gateway else f"{call.cluster_ip}:{call.route.port}"
        downstream_remote = (
            f"{call.xff}:{self._ephemeral()}" if gateway else f"{client.ip}:{self._ephemeral()}"
        )
        self._write(
            client,
            AccessRecord(
                start=call.at,
                method=call.method,
                path=call.path,
                protocol="HTTP/1.1",
                code=code,
                flags=flags,
                details=details,
                termination="",
                transport_failure=transport_failure,
                received=received,
                sent=sent,
                duration=rng.randint(0, 3) if duration is None else duration,
                upstream_time=upstream_time,
                xff=call.xff,
                user_agent=call.route.user_agent,
                request_id=call.request_id,
                authority=call.authority,
                upstream_host=upstream_host,
                upstream_cluster=f"outbound|{call.route.port}||{call.service.fqdn}",
                upstream_local=f"{client.ip}:{local_port or self._ephemeral()}" if upstream_host else "",
                downstream_local=downstream_local,
                downstream_remote=downstream_remote,
                sni="",
                route="-" if gateway else "default",
            ),
        )
        self._count(call, reporter="source", code=code, flags=flags, mtls=None)

    def _count(self, call: _Call, *, reporter: str, code: int, flags: str, mtls: bool | None) -> None:
        src, dst = call.client, call.server
        src_app = src.labels.get("app", "unknown")
        dst_app = dst.labels.get("app", "unknown") if dst else "unknown"
        src_principal = (
            f"spiffe://{principal_of(src)}" if mtls or (mtls is None and src.has_sidecar) else "unknown"
        )
        dst_principal = f"spiffe://{principal_of(dst)}" if dst and dst.has_sidecar else "unknown"
        values: tuple[str, ...] = (
            reporter,
            src.workload_name,
            src.namespace,
            src_principal,
            src_app,
            src.labels.get("version", "unknown"),
            src_app,
            src.labels.get("version", "latest"),
            dst.workload_name if dst else "unknown",
            call.service.namespace,
            dst_principal,
            dst_app,
            dst.labels.get("version", "unknown") if dst else "unknown",
            call.service.fqdn,
            call.service.name,
            call.service.namespace,
            dst_app,
            dst.labels.get("version", "latest") if dst else "latest",
            "http",
            str(code),
            "",
            flags or "-",
            "unknown" if mtls is None else ("mutual_tls" if mtls else "none"),
        )
        if reporter == "destination" and not src.has_sidecar:
            values = anonymous_source(values)
        owner = src if reporter == "source" else dst
        assert owner is not None
        counters = self.counters(owner.namespace, owner.name)
        counters.requests[values] += 1
        if reporter == "destination":
            counters.envoy["tls_inspector.tls_found" if mtls else "tls_inspector.tls_not_found"] += 1
            if mtls:
                counters.envoy["listener.0.0.0.0_15006.ssl.handshake"] += 1
            counters.envoy["listener.0.0.0.0_15006.downstream_cx_total"] += 1

    # --- ambient ---------------------------------------------------------------------------------
    def ztunnel_counts(self, namespace: str, pod: str) -> Counter[tuple[str, ...]]:
        return self._ztunnel_counts.setdefault((namespace, pod), Counter())

    def _captured(self, pod: Pod) -> bool:
        snapshot = self._indexed
        return snapshot is not None and analyze(snapshot).pod(pod).captured

    def _ztunnel_write(self, party: Pod, at: datetime, line: str) -> None:
        """Append to the log of the ztunnel on ``party``'s node (none there: nothing is logged)."""
        assert self._indexed is not None
        ztunnel = ztunnel_for(self._indexed, party)
        if ztunnel is not None:
            self.log(ztunnel.namespace, ztunnel.name).append(at, line)

    def _ztunnel_count(self, party: Pod, values: tuple[str, ...]) -> None:
        assert self._indexed is not None
        ztunnel = ztunnel_for(self._indexed, party)
        if ztunnel is not None:
            self.ztunnel_counts(ztunnel.namespace, ztunnel.name)[values] += 1

    @staticmethod
    def _peer_labels(pod: Pod | None, mtls: bool) -> tuple[str, ...]:
        if pod is None:
            return ("unknown",) * 8
        app = pod.labels.get("app", "unknown")
        version = pod.labels.get("version", "unknown")
        principal = f"spiffe://{principal_of(pod)}" if mtls else "unknown"
        return (pod.workload_name, app, version, pod.namespace, principal, app, version, "Kubernetes")

    def _metric(self, reporter: str, src: Pod, dst: Pod, service: Service, mtls: bool, flags: str) -> tuple[str, ...]:
        # ztunnel always knows the destination's identity; a source proves one only over mTLS.
        dst_labels = self._peer_labels(dst, True)
        return (reporter, *self._peer_labels(src, mtls), service.fqdn, service.namespace, service.name,
                dst_labels[0], dst_labels[1], dst_labels[2], dst_labels[3], dst_labels[4], dst_labels[5],
                dst_labels[6], dst_labels[7], "tcp", flags, "mutual_tls" if mtls else "unknown")

    def _ztunnel_fields(self, src: Pod, dst: Pod, service: Service, direction: str, *, src_port: int,
                        dst_addr: str, hbone: str | None, mtls: bool, sent: int, received: int,
                        duration: int) -> dict[str, str | int | None]:
        return {
            "src.addr": f"{src.ip}:{src_port}", "src.workload": src.name, "src.namespace": src.namespace,
            "src.identity": f"spiffe://{principal_of(src)}" if mtls else None,
            "dst.addr": dst_addr, "dst.hbone_addr": hbone, "dst.service": service.fqdn,
            "dst.workload": dst.name, "dst.namespace": dst.namespace,
            "dst.identity": f"spiffe://{principal_of(dst)}" if mtls else None,
            "direction": direction, "bytes_sent": sent, "bytes_recv": received, "duration": f"{duration}ms",
        }

    def _ztunnel_exchange(self, call: _Call, mtls: bool, *, code: int, sent: int, received: int,
                          duration: int) -> None:
        """A completed call as the ztunnels of the client (outbound) and server (inbound) log it,
        through the waypoint serving the Service when there is one (its Envoy logs the request)."""
        server, client = call.server, call.client
        assert server is not None and self._indexed is not None
        client_in, server_in = self._captured(client), self._captured(server)
        if not (client_in or server_in):
            return
        target = f"{server.ip}:{call.target_port}"
        use = waypoint_for_service(self._indexed, call.service)
        waypoints = waypoint_pods(self._indexed, use.waypoint) if use and use.waypoint and client_in else []
        hop = waypoints[0] if waypoints else server
        if client_in:
            port = self._ephemeral()
            fields = self._ztunnel_fields(client, hop, call.service, "outbound", src_port=port,
                                          dst_addr=f"{hop.ip}:15008", hbone=target, mtls=True, sent=received,
                                          received=sent, duration=duration + 1)
            self._ztunnel_write(client, call.at, ztunnel_line(call.at, fields))
            self._ztunnel_count(client, ("tcp_connections_opened",
                                         *self._metric("source", client, server, call.service, True, "-")))
        if waypoints:
            self._waypoint_line(call, hop, code=code, sent=sent, received=received, duration=duration)
        if server_in:
            src = hop if waypoints else client
            fields = self._ztunnel_fields(src, server, call.service, "inbound", src_port=self._ephemeral(),
                                          dst_addr=target, hbone=target if mtls else None, mtls=mtls, sent=sent,
                                          received=received, duration=duration)
            self._ztunnel_write(server, call.at + timedelta(milliseconds=1),
                                ztunnel_line(call.at + timedelta(milliseconds=1), fields))
            # The server's ztunnel names the peer at the source address: the waypoint when one routed the call.
            self._ztunnel_count(server, ("tcp_connections_opened",
                                         *self._metric("destination", src, server, call.service, mtls, "-")))

    def _ztunnel_refused(self, call: _Call) -> None:
        """Plaintext into a STRICT ambient pod: its ztunnel's deny rule closes the connection."""
        server = call.server
        assert server is not None
        fields = self._ztunnel_fields(call.client, server, call.service, "inbound", src_port=self._ephemeral(),
                                      dst_addr=f"{server.ip}:{call.target_port}", hbone=None, mtls=False, sent=0,
                                      received=0, duration=0)
        self._ztunnel_write(server, call.at, ztunnel_line(call.at, fields, error=STRICT_DENY))
        # ztunnel counts the connection as opened before its policy check, then as failed with DENY.
        for metric, flags in (("tcp_connections_opened", "-"), ("tcp_connections_failed", "DENY")):
            self._ztunnel_count(server, (metric, *self._metric("destination", call.client, server, call.service,
                                                               False, flags)))

    def _waypoint_line(self, call: _Call, waypoint: Pod, *, code: int, sent: int, received: int,
                       duration: int) -> None:
        """The waypoint's Envoy access line for the request it routed to the server."""
        assert call.server is not None
        server_host = f"{call.server.ip}:{call.target_port}"
        self._write(waypoint, AccessRecord(
            start=call.at, method=call.method, path=call.path, protocol="HTTP/1.1", code=code, flags="",
            details="via_upstream", termination="", transport_failure="", received=received, sent=sent,
            duration=duration, upstream_time=max(0, duration - 1), xff="", user_agent=call.route.user_agent,
            request_id=call.request_id, authority=call.authority, upstream_host=server_host,
            upstream_cluster=f"inbound-vip|{call.route.port}|http|{call.service.fqdn}",
            upstream_local=f"{waypoint.ip}:{self._ephemeral()}", downstream_local=f"{waypoint.ip}:15008",
            downstream_remote=f"{call.client.ip}:{self._ephemeral()}", sni="", route="default",
        ))

    def _write(self, pod: Pod, record: AccessRecord) -> None:
        log = self.log(pod.namespace, pod.name)
        levels = self._debug.get((pod.namespace, pod.name), {})
        for line in self._debug_lines(record, levels):
            log.append(record.start, line)
        log.append(record.start, record.format())

    def _debug_lines(self, record: AccessRecord, levels: Mapping[str, str]) -> list[str]:
        """Envoy's own debug output around one request, for loggers an operator turned up."""

        def on(logger: str) -> bool:
            return levels.get(logger) in ("debug", "trace")

        if not any(on(lg) for lg in ("http", "router", "connection", "conn_handler")):
            return []
        self._connection_id += 1
        cid = self._connection_id
        thread = self._rng.randint(20, 31)
        ts = record.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        prefix = f"{ts}\tdebug\tenvoy"
        out = []
        if on("conn_handler"):
            out.append(
                f"{prefix} conn_handler external/envoy/source/common/listener_manager/active_tcp_listener.cc:"
                f'160\t[Tags: "ConnectionId":"{cid}"] new connection from {record.downstream_remote}'
                f"\tthread={thread}"
            )
        if on("http") and record.method:
            out.append(
                f"{prefix} http external/envoy/source/common/http/conn_manager_impl.cc:391\t"
                f'[Tags: "ConnectionId":"{cid}"] new stream\tthread={thread}'
            )
        if on("router") and record.upstream_cluster:
            out.append(
                f"{prefix} router external/envoy/source/common/router/router.cc:514\t"
                f'[Tags: "ConnectionId":"{cid}","StreamId":"{self._rng.getrandbits(63)}"] '
                f"cluster '{record.upstream_cluster}' match for URL '{_dash(record.path)}'"
                f"\tthread={thread}"
            )
        if on("connection"):
            out.append(
                f"{prefix} connection external/envoy/source/common/network/connection_impl.cc:149\t"
                f'[Tags: "ConnectionId":"{cid}"] closing data_to_write=0 type=1\tthread={thread}'
            )
        return out


def anonymous_source(values: tuple[str, ...]) -> tuple[str, ...]:
    """A destination sidecar learns who called from the caller's proxy (peer metadata); a caller
    without one is "unknown" in every source_* label, as in Istio's own metrics."""
    return tuple("unknown" if name.startswith("source_") else value
                 for name, value in zip(REQUEST_LABELS, values, strict=True))
# --- ambient: what ztunnel (and a waypoint) log and count for a call -----------------------------
# istio_tcp_* labels in the order ztunnel's CommonTrafficLabels encodes them (istio/ztunnel
# src/proxy/metrics.rs); locality labels are left out, as ztunnel does without locality.
ZTUNNEL_LABELS = (
    "reporter",
    "source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
    "source_principal", "source_app", "source_version", "source_cluster",
    "destination_service", "destination_service_namespace", "destination_service_name",
    "destination_workload", "destination_canonical_service", "destination_canonical_revision",
    "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
    "destination_cluster",
    "request_protocol", "response_flags", "connection_security_policy",
)
STRICT_DENY = ("connection closed due to policy rejection: explicitly denied by: "
               "istio-system/istio_converted_static_strict")


def ztunnel_line(at: datetime, fields: Mapping[str, str | int | None], *, error: str | None = None) -> str:
    """One access line as ztunnel writes it: time, level, target, message, then key=value fields
    (strings quoted; addresses and byte counts bare; absent fields left out)."""
    ts = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        bare = isinstance(value, int) or key in ("src.addr", "dst.addr")
        parts.append(f"{key}={value}" if bare else f'{key}="{value}"')
    if error:
        parts.append(f'error="{error}"')
    level = "error" if error else "info"
    return f"{ts}\t{level}\taccess\tconnection complete " + " ".join(parts)


def ztunnel_metrics_text(counts: Counter[tuple[str, ...]], version: str) -> str:
    """ztunnel's :15020/metrics (OpenMetrics), reduced to the connection counters meshtui reads."""
    lines = [f'istio_build{{component="ztunnel",tag="{version}"}} 1']
    for metric, help_ in (("tcp_connections_opened", "The total number of TCP connections opened"),
                          ("tcp_connections_failed",
                           "The total number of TCP connections that failed to establish (unstable)")):
        lines += [f"# HELP istio_{metric} {help_}.", f"# TYPE istio_{metric} counter"]
        for values, count in sorted(counts.items()):
            if values[0] != metric:
                continue
            labels = ",".join(f'{k}="{v}"' for k, v in zip(ZTUNNEL_LABELS, values[1:], strict=True))
            lines.append(f"istio_{metric}_total{{{labels}}} {count}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def prometheus_text(counters: ProxyCounters, version: str) -> str:
    """What pilot-agent serves on :15020/stats/prometheus, reduced to the series meshtui reads."""
    lines = [
        "# TYPE istio_build gauge",
        f'istio_build{{component="proxy",tag="{version}"}} 1',
        "# TYPE istio_requests_total counter",
    ]
    for values, count in sorted(counters.requests.items()):
        labels = ",".join(f'{k}="{v}"' for k, v in zip(REQUEST_LABELS, values, strict=True))
        lines.append(f"istio_requests_total{{{labels}}} {count}")
    lines += ["# TYPE envoy_server_live gauge", "envoy_server_live 1"]
    return "\n".join(lines) + "\n"


def envoy_stats_text(counters: ProxyCounters, version: str) -> str:
    """Envoy admin ``/stats``: dotted counters, istio_requests_total in its tag-encoded form."""
    names = (
        "listener.0.0.0.0_15006.downstream_cx_total",
        "listener.0.0.0.0_15006.no_filter_chain_match",
        "listener.0.0.0.0_15006.ssl.handshake",
        "tls_inspector.tls_found",
        "tls_inspector.tls_not_found",
    )
    lines = [f"component.proxy.tag.{version};._istio_build: 1"]
    lines += [f"{name}: {counters.envoy.get(name, 0)}" for name in names]
    for values, count in sorted(counters.requests.items()):
        tags = ";.;".join(f"{k}=.={v}" for k, v in zip(REQUEST_LABELS, values, strict=True))
        lines.append(f"{tags};.;_istio_requests_total: {count}")
    lines.append("server.live: 1")
    return "\n".join(lines) + "\n"

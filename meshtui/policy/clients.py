"""Client side: what a client's sidecar sends to a Service port, and whether the server accepts it.

The DestinationRule is looked up as istiod does for a sidecar: rules in the client's namespace
first, then rules the Service's namespace exports to it, then rules the root namespace exports; in
each namespace the most specific host wins (exact before wildcard, longer wildcard first). Several
rules for one host in a namespace are merged by istiod with the oldest one's trafficPolicy kept.
Without TLS settings, auto-mTLS sends Istio mTLS to endpoints with a sidecar that are not DISABLE.

An ambient client's traffic leaves through ztunnel, which ignores DestinationRules: it sends HBONE
(Istio mTLS) to every endpoint in the mesh, ambient or sidecar, and plaintext to the others
(https://istio.io/latest/docs/ambient/usage/add-workloads/#communicating-between-pods-in-different-data-plane-modes).
Sidecars reach ambient endpoints with Istio mTLS as they would a sidecar (auto-mTLS or an
ISTIO_MUTUAL rule); ztunnel then applies the endpoint's PeerAuthentication.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from meshtui.model.objects import DestinationRule, Pod, Ref, Service, ServicePort, TLSSettings
from meshtui.model.snapshot import Snapshot
from meshtui.policy.engine import Analysis, analyze
from meshtui.policy.labels import matches
from meshtui.policy.recent import Recent
from meshtui.policy.report import DISABLE, NONE, STRICT
from meshtui.policy.services import target_port

ISTIO_MUTUAL = "ISTIO_MUTUAL"
SIMPLE = "SIMPLE"
MUTUAL = "MUTUAL"

MTLS = "mtls"
PLAINTEXT = "plaintext"
FAIL = "fail"

CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True, slots=True)
class ClientPrediction:
    sends: str
    sends_source: str
    server_mode: str
    outcome: str
    reason: str
    client: Ref | None = None
    service: Ref | None = None
    port: int = 0
    target_port: int | None = None
    # The endpoint pod whose mode decided the outcome (the worst one when endpoints differ).
    server: Ref | None = None
    # The DestinationRule whose TLS settings apply, when one does.
    rule: Ref | None = None

    def for_client(self, client: Ref) -> ClientPrediction:
        """The same prediction for another member of the client's group (cheaper than replace())."""
        return ClientPrediction(self.sends, self.sends_source, self.server_mode, self.outcome, self.reason,
                                client, self.service, self.port, self.target_port, self.server, self.rule)


def fqdn(host: str, namespace: str) -> str:
    """A DestinationRule host as istiod expands it: a short name is relative to the rule's namespace."""
    if host == "*" or "." in host:
        return host
    return f"{host}.{namespace}.svc.{CLUSTER_DOMAIN}"


def host_matches(pattern: str, hostname: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return hostname.endswith(pattern[1:])
    return pattern == hostname


def specificity(pattern: str) -> tuple[int, int]:
    """Exact hosts beat wildcards; among wildcards the longer suffix is more specific."""
    return (0 if pattern.startswith("*") else 1, len(pattern))


def visible(rule: DestinationRule, to_namespace: str) -> bool:
    """exportTo as istiod indexes it: default "*"; even the rule's own namespace sees it only through
    ".", "*" or its own name ("~" or a list of other namespaces hides it there)."""
    export = rule.export_to or ("*",)
    return "*" in export or to_namespace in export or ("." in export and rule.namespace == to_namespace)


def dr_order(rule: DestinationRule) -> tuple[datetime, str, str]:
    return (rule.created, rule.name, rule.namespace)


def has_traffic_policy(rule: DestinationRule) -> bool:
    spec = rule.raw.get("spec") if rule.raw else None
    if isinstance(spec, dict):
        return bool(spec.get("trafficPolicy"))
    return rule.tls is not None or bool(rule.port_tls)


class RuleIndex:
    """DestinationRules by namespace, for the three-step lookup."""

    def __init__(self, snapshot: Snapshot):
        self.root = snapshot.mesh.root_namespace
        by_ns: dict[str, list[DestinationRule]] = defaultdict(list)
        for rule in snapshot.destination_rules.values():
            by_ns[rule.namespace].append(rule)
        self.by_namespace = {ns: sorted(rules, key=dr_order) for ns, rules in by_ns.items()}

    def _in_namespace(
        self, namespace: str, hostname: str, client: Pod, local: bool
    ) -> DestinationRule | None:
        best: list[DestinationRule] = []
        best_rank: tuple[int, int] | None = None
        for rule in self.by_namespace.get(namespace, ()):
            if not visible(rule, client.namespace):
                continue
            if rule.workload_selector is not None and not (
                local and matches(rule.workload_selector, client.labels)
            ):
                # A workloadSelector rule only applies to selected clients in its own namespace.
                continue
            pattern = fqdn(rule.host, rule.namespace)
            if not host_matches(pattern, hostname):
                continue
            rank = specificity(pattern)
            if best_rank is None or rank > best_rank:
                best, best_rank = [rule], rank
            elif rank == best_rank:
                best.append(rule)
        if not best:
            return None
        # Rules selecting this client override the namespace-wide one for the same host.
        selected = [r for r in best if r.workload_selector is not None] or best
        with_policy = [r for r in selected if has_traffic_policy(r)]
        return (with_policy or selected)[0]

    def lookup(self, client: Pod, service: Service) -> DestinationRule | None:
        hostname = service.fqdn
        order = [client.namespace]
        if service.namespace not in order:
            order.append(service.namespace)
        if self.root not in order:
            order.append(self.root)
        for ns in order:
            rule = self._in_namespace(ns, hostname, client, local=ns == client.namespace)
            if rule is not None:
                return rule
        return None


def rule_tls(rule: DestinationRule | None, service_port: int) -> TLSSettings | None:
    if rule is None:
        return None
    return rule.port_tls.get(service_port) or rule.tls


def outcome(sends: str, server_mode: str, port: int) -> tuple[str, str]:
    """Whether the server side accepts what the client sends, with a one-line reason."""
    if sends == DISABLE:
        if server_mode == STRICT:
            return FAIL, f"plaintext to STRICT port {port}"
        if server_mode == NONE:
            return PLAINTEXT, f"plaintext to port {port} of a pod without sidecar"
        return PLAINTEXT, f"plaintext to {server_mode} port {port}"
    if sends == ISTIO_MUTUAL:
        if server_mode == NONE:
            return FAIL, f"ISTIO_MUTUAL to port {port} of a pod without sidecar"
        if server_mode == DISABLE:
            return FAIL, f"Istio mTLS to DISABLE port {port}"
        return MTLS, f"mTLS to {server_mode} port {port}"
    if server_mode in (NONE, DISABLE):
        # The sidecar (if any) passes the bytes through: only an application serving TLS accepts them.
        return PLAINTEXT, f"{sends} TLS to port {port} without Istio mTLS: the application must serve TLS"
    return FAIL, f"{sends} TLS (not Istio mTLS) to {server_mode} port {port}"


_RANK = {FAIL: 0, PLAINTEXT: 1, MTLS: 2}


def service_port(service: Service, port: int) -> ServicePort:
    for sp in service.ports:
        if sp.port == port:
            return sp
    raise ValueError(f"Service {service.namespace}/{service.name} has no port {port}")


class ClientModel:
    """Predictions against one analysis, with the DestinationRule index built once."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.rules = RuleIndex(analysis.snapshot)

    def predict(self, client: Pod, service: Service, port: int) -> ClientPrediction:
        sp = service_port(service, port)
        rule, tls = self.tls_for(client, service, port)
        endpoints = [(pod, tp) for pod in self.analysis.services.pods_of(service)
                     if (tp := target_port(sp, pod)) is not None]
        if not endpoints:
            return ClientPrediction(
                DISABLE if tls is None else tls.mode, self._source(client, rule, tls), "", FAIL,
                f"Service {service.namespace}/{service.name} has no endpoints for port {port}",
                client=client.ref, service=service.ref, port=port,
                rule=rule.ref if rule is not None and tls is not None else None,
            )
        worst: ClientPrediction | None = None
        for pod, tp in endpoints:
            pred = self._predict(client, service, port, pod, tp, rule, tls)
            if worst is None or _RANK[pred.outcome] < _RANK[worst.outcome]:
                worst = pred
            if pred.outcome == FAIL:
                break
        assert worst is not None
        return worst

    def predict_endpoint(
        self, client: Pod, service: Service, port: int, server: Pod
    ) -> ClientPrediction | None:
        """The prediction against one endpoint pod; None when the pod is not an endpoint of the port."""
        tp = target_port(service_port(service, port), server)
        if tp is None:
            return None
        rule, tls = self.tls_for(client, service, port)
        return self._predict(client, service, port, server, tp, rule, tls)

    def tls_for(
        self, client: Pod, service: Service, port: int
    ) -> tuple[DestinationRule | None, TLSSettings | None]:
        rule = self.rules.lookup(client, service) if client.has_sidecar else None
        return rule, rule_tls(rule, port)

    def _predict(self, client: Pod, service: Service, port: int, server: Pod, tp: int,
                 rule: DestinationRule | None, tls: TLSSettings | None) -> ClientPrediction:
        server_mode = self.analysis.port(server, tp).mode
        sends = self._sends(client, tls, server_mode)
        result, reason = outcome(sends, server_mode, tp)
        return ClientPrediction(
            sends, self._source(client, rule, tls), server_mode, result, reason,
            client=client.ref, service=service.ref, port=port, target_port=tp, server=server.ref,
            rule=rule.ref if rule is not None and tls is not None else None,
        )

    def _sends(self, client: Pod, tls: TLSSettings | None, server_mode: str) -> str:
        if self.analysis.pod(client).captured:
            return ISTIO_MUTUAL if server_mode != NONE else DISABLE
        if not client.has_sidecar:
            return DISABLE
        if tls is not None:
            return tls.mode
        if self.analysis.snapshot.mesh.auto_mtls and server_mode not in (NONE, DISABLE):
            return ISTIO_MUTUAL
        return DISABLE

    def _source(self, client: Pod, rule: DestinationRule | None, tls: TLSSettings | None) -> str:
        if self.analysis.pod(client).captured:
            return "ztunnel (HBONE)"
        if not client.has_sidecar:
            return "no sidecar"
        if tls is not None and rule is not None:
            return f"DestinationRule {rule.namespace}/{rule.name}"
        if self.analysis.snapshot.mesh.auto_mtls:
            return "auto-mTLS"
        return "no DestinationRule (auto-mTLS off)"


_models: Recent[Analysis, ClientModel] = Recent()


def client_model(snapshot: Snapshot) -> ClientModel:
    return _models.get(analyze(snapshot), ClientModel)


def predict(snapshot: Snapshot, client: Pod, service: Service, port: int) -> ClientPrediction:
    """What ``client`` sends to ``service``:``port`` (a Service port) and whether it gets through."""
    return client_model(snapshot).predict(client, service, port)


def is_istiod(pod: Pod) -> bool:
    """istiod serves xDS and certificates; it never calls an application port."""
    return pod.labels.get("app") == "istiod" or pod.labels.get("istio") == "pilot"


def client_groups(analysis: Analysis, rules: RuleIndex) -> list[list[Pod]]:
    """Client workloads (one pod each) grouped so that every member gets the same prediction.

    Pods without a sidecar all send plaintext, pods ztunnel captures all send HBONE; a sidecar's
    choice depends only on its namespace and on the labels that workloadSelector DestinationRules
    there read. istiod is no client of application ports, so it is never predicted to fail against one.
    """
    selector_keys: dict[str, tuple[str, ...]] = {
        ns: tuple(sorted({k for r in rs if r.workload_selector for k in r.workload_selector}))
        for ns, rs in rules.by_namespace.items()
    }
    # A sidecar's profile: (True, namespace, the selector labels' values); (False, ...) otherwise.
    groups: dict[tuple[object, ...], dict[tuple[str, str, str], Pod]] = defaultdict(dict)
    for pod in sorted(analysis.snapshot.pods.values(), key=lambda p: p.key):
        if is_istiod(pod):
            continue
        if pod.has_sidecar:
            keys = selector_keys.get(pod.namespace, ())
            profile: tuple[object, ...] = (True, pod.namespace, tuple(pod.labels.get(k) for k in keys))
        elif analysis.pod(pod).captured:
            profile = (False, "ambient")
        else:
            profile = (False,)
        workload = (pod.namespace, pod.owner_kind, pod.workload_name)
        groups[profile].setdefault(workload, pod)
    return [list(members.values()) for _, members in sorted(groups.items(), key=lambda kv: kv[0])]


def auto_only(model: ClientModel, client: Pod, service: Service) -> bool:
    """True when no DestinationRule can apply, so auto-mTLS alone decides and never fails."""
    if not client.has_sidecar or not model.analysis.snapshot.mesh.auto_mtls:
        return False
    by_ns = model.rules.by_namespace
    return not (by_ns.get(client.namespace) or by_ns.get(service.namespace) or by_ns.get(model.rules.root))


def failing_to(model: ClientModel, server: Pod, port: int | None = None) -> list[ClientPrediction]:
    """Client workloads that would fail calling any Service that selects ``server``, on the Service
    ports reaching ``port`` (a container port; None for all), the server's own workload excepted."""
    out: list[ClientPrediction] = []
    own = (server.namespace, server.owner_kind, server.workload_name)
    services = model.analysis.services.services_of(server)
    for group in client_groups(model.analysis, model.rules):
        rep = group[0]
        for svc in services:
            if auto_only(model, rep, svc):
                continue
            for sp in svc.ports:
                tp = target_port(sp, server)
                if tp is None or (port is not None and tp != port):
                    continue
                pred = model.predict_endpoint(rep, svc, sp.port, server)
                if pred is None or pred.outcome != FAIL:
                    continue
                out.extend(
                    pred.for_client(member.ref) for member in group
                    if (member.namespace, member.owner_kind, member.workload_name) != own
                )
    return out

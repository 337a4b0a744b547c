"""Findings: configuration problems, each with a concrete fix. Codes are documented in docs/findings.md.

IST codes reproduce ``istioctl analyze`` checks with the same meaning and resources; MT codes are
meshtui's own mTLS checks that istioctl no longer performs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from meshtui.model.objects import (
    AMBIENT,
    DATAPLANE_LABEL,
    AuthorizationPolicy,
    DestinationRule,
    Namespace,
    Pod,
    Ref,
    Service,
    TLSSettings,
)
from meshtui.policy.ambient import ambient_findings
from meshtui.policy.clients import (
    FAIL,
    ISTIO_MUTUAL,
    MUTUAL,
    SIMPLE,
    ClientModel,
    fqdn,
    host_matches,
    is_istiod,
    outcome,
)
from meshtui.policy.injection import (
    LEGACY_LABEL,
    SYSTEM_NAMESPACES,
    inject_value,
    injection_labels,
    would_inject,
)
from meshtui.policy.report import DISABLE, PERMISSIVE, SEVERITIES, STRICT, Finding
from meshtui.policy.services import target_port

if TYPE_CHECKING:
    from meshtui.policy.engine import Analysis

GATEWAY_LABELS = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


def is_gateway(pod: Pod) -> bool:
    """Gateway proxies route traffic themselves; PeerAuthentication does not govern their listeners."""
    return pod.labels.get("istio", "").endswith("gateway") or any(k in pod.labels for k in GATEWAY_LABELS)


def find_all(analysis: Analysis) -> tuple[Finding, ...]:
    checks = (
        injection_findings,
        destination_rule_ca_findings,
        destination_rule_mtls_findings,
        peer_authentication_findings,
        exposure_findings,
        authorization_findings,
        restart_findings,
        ambient_findings,
        rejected_findings,
        strict_gap_findings,
    )
    return order_findings(f for check in checks for f in check(analysis))


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def order_findings(found: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first; the fix and the objects it is about break ties: the order never depends on which
    check ran first."""
    return tuple(sorted(found, key=lambda f: (_RANK[f.severity], f.code, f.namespace, f.name, f.message, f.fix,
                                             tuple(map(str, f.about)))))


def findings_for(findings: Iterable[Finding], namespace: str, pod: Pod | None,
                 policies: Iterable[Ref] = ()) -> list[Finding]:
    """The findings the Policies pane shows for a namespace, or for one pod and the policies it lists.

    A finding that names the objects it is about (``about``) shows only with those objects: a STRICT
    namespace policy over one sidecar-less pod is not a finding about the other pods it covers.
    """
    if pod is None:
        return [f for f in findings if f.concerns_namespace(namespace)]
    own = {pod.ref, Ref(workload_of(pod)[0], pod.namespace, pod.workload_name), Ref("Namespace", "", namespace)}
    listed = own | set(policies)
    return [f for f in findings
            if (f.about and (own & set(f.objects))) or (not f.about and f.ref in listed)]


# --- istioctl's injection analyzer: IST0102, IST0103, IST0123 --------------------------------------

def injected_namespaces(analysis: Analysis) -> tuple[set[str], list[Finding]]:
    """Namespaces istioctl treats as injected, and its namespace messages."""
    snapshot = analysis.snapshot
    skip = SYSTEM_NAMESPACES | {snapshot.mesh.root_namespace, "istio-system"}
    injected: set[str] = set()
    out: list[Finding] = []
    for ns in sorted(snapshot.namespaces.values(), key=lambda n: n.name):
        if ns.name in skip or snapshot.mesh.labels_unknown(ns.name):
            continue  # unknown labels are not missing labels: no finding from a read RBAC refused
        legacy = ns.labels.get(LEGACY_LABEL)
        if legacy is not None and legacy != "enabled":
            continue  # deliberately not injected
        enabling = injection_labels(ns)
        if len(enabling) > 1:
            out.append(Finding(
                "IST0123", "warning", "Namespace", "", ns.name,
                f"The namespace has more than one data-plane label ({', '.join(enabling)}); "
                "which one wins is not obvious.",
                f"kubectl label namespace {ns.name} "
                + " ".join(f"{label.split('=')[0]}-" for label in enabling[1:])
                + f"   # keeps {enabling[0]}; keep exactly one of them",
            ))
            continue
        if not enabling:
            out.append(Finding(
                "IST0102", "info", "Namespace", "", ns.name,
                "The namespace is not enabled for Istio injection.",
                f"kubectl label namespace {ns.name} {LEGACY_LABEL}=enabled",
            ))
            continue
        if enabling[0].startswith("istio.io/dataplane-mode"):
            continue  # ambient: no sidecars expected
        injected.add(ns.name)
    return injected, out


def injection_findings(analysis: Analysis) -> Iterator[Finding]:
    injected, ns_findings = injected_namespaces(analysis)
    yield from ns_findings
    for pod in analysis.snapshot.pods.values():
        if pod.namespace not in injected or pod.host_network:
            continue
        if (inject_value(pod.labels, pod.annotations) or "").lower() == "false":
            continue
        names = {c.name for c in (*pod.containers, *pod.init_containers)}
        if "istio-proxy" not in names:
            yield Finding(
                "IST0103", "warning", "Pod", pod.namespace, pod.name,
                "The pod is missing the Istio proxy; its namespace is injected, so it most likely "
                "started before injection was enabled.",
                restart_fix(pod),
            )


# --- istioctl's CaCertificateAnalyzer: IST0128, IST0129 --------------------------------------------

def _ca_missing(tls: TLSSettings, rule: DestinationRule) -> bool:
    if tls.mode not in (SIMPLE, MUTUAL) or tls.ca_certificates:
        return False
    # A credentialName secret can carry the CA, but only sidecars selected by workloadSelector load it.
    return not (tls.credential_name and rule.workload_selector is not None)


def _ca_fix(rule: DestinationRule, tls: TLSSettings, port: int | None) -> str:
    block = f"tls:\n  mode: {tls.mode}\n  caCertificates: /etc/certs/root.pem  # CA of the server"
    if port is not None:
        block = f"portLevelSettings:\n- port: {{number: {port}}}\n  " + block.replace("\n", "\n  ")
    return f"# DestinationRule {rule.namespace}/{rule.name}, spec.trafficPolicy:\n{block}"


def destination_rule_ca_findings(analysis: Analysis) -> Iterator[Finding]:
    for rule in analysis.snapshot.destination_rules.values():
        if rule.tls is not None and _ca_missing(rule.tls, rule):
            yield Finding(
                "IST0128", "warning", "DestinationRule", rule.namespace, rule.name,
                f"{rule.tls.mode} TLS to host {rule.host} without caCertificates: the server certificate "
                "is not verified.",
                _ca_fix(rule, rule.tls, None),
            )
        for port, tls in sorted(rule.port_tls.items()):
            if _ca_missing(tls, rule):
                yield Finding(
                    "IST0129", "warning", "DestinationRule", rule.namespace, rule.name,
                    f"{tls.mode} TLS to host {rule.host} port {port} without caCertificates: the server "
                    "certificate is not verified.",
                    _ca_fix(rule, tls, port),
                )


# --- DestinationRules against server modes: MT0001-MT0003 ------------------------------------------

def _services_for_host(analysis: Analysis, rule: DestinationRule) -> list[Service]:
    pattern = fqdn(rule.host, rule.namespace)
    if not pattern.startswith("*"):
        exact = analysis.services.by_host.get(pattern)
        return [exact] if exact is not None else []
    return [s for host, s in analysis.services.by_host.items() if host_matches(pattern, host)]


def destination_rule_mtls_findings(analysis: Analysis,
                                   rules: Iterable[DestinationRule] | None = None) -> Iterator[Finding]:
    """``rules``: only these (default: every rule), for callers that know which can matter."""
    clients = ClientModel(analysis)
    root = analysis.snapshot.mesh.root_namespace
    chosen = analysis.snapshot.destination_rules.values() if rules is None else rules
    for rule in sorted(chosen, key=lambda r: (r.namespace, r.name)):
        if rule.tls is None and not rule.port_tls:
            continue
        problems: dict[str, list[str]] = defaultdict(list)
        servers: dict[str, dict[Ref, None]] = defaultdict(dict)
        for svc in sorted(_services_for_host(analysis, rule), key=lambda s: (s.namespace, s.name)):
            # Only count services for which this rule is the one a client in its namespace resolves.
            client_ns = svc.namespace if rule.namespace == root else rule.namespace
            probe = Pod(client_ns, "", labels=dict(rule.workload_selector or {}))
            if clients.rules.lookup(probe, svc) is not rule:
                continue
            for sp in svc.ports:
                tls = rule.port_tls.get(sp.port) or rule.tls
                if tls is None:
                    continue
                for pod in analysis.services.pods_of(svc):
                    tp = target_port(sp, pod)
                    if tp is None or is_gateway(pod):
                        continue
                    mode = analysis.port(pod, tp).mode
                    result, reason = outcome(tls.mode, mode, tp)
                    if result == FAIL:
                        code = {DISABLE: "MT0001", ISTIO_MUTUAL: "MT0003"}.get(tls.mode, "MT0002")
                        where = f"{svc.name}.{svc.namespace}:{sp.port} → pod {pod.name}"
                        problems[code].append(f"{where}: {reason}")
                        servers[code].update({svc.ref: None, pod.ref: None})
        for code, examples in sorted(problems.items()):
            yield _rule_finding(code, rule, examples, tuple(servers[code]))


_RULE_TEXT = {
    "MT0001": ("sends plaintext to STRICT ports; the servers reject it",
               "tls:\n  mode: ISTIO_MUTUAL   # or delete trafficPolicy.tls to use auto-mTLS"),
    "MT0002": ("sends non-Istio TLS to ports that expect Istio mTLS; the handshakes fail",
               "tls:\n  mode: ISTIO_MUTUAL   # or delete trafficPolicy.tls to use auto-mTLS"),
    "MT0003": ("sends Istio mTLS to servers that cannot accept it (no sidecar, or DISABLE)",
               "tls:\n  mode: DISABLE   # or inject a sidecar into the servers and restart them"),
}


def _rule_finding(code: str, rule: DestinationRule, examples: list[str], about: tuple[Ref, ...]) -> Finding:
    what, fix = _RULE_TEXT[code]
    more = f" (+{len(examples) - 1} more)" if len(examples) > 1 else ""
    return Finding(
        code, "error", "DestinationRule", rule.namespace, rule.name,
        f"DestinationRule {what}: {examples[0]}{more}.",
        f"# DestinationRule {rule.namespace}/{rule.name}, trafficPolicy (and portLevelSettings):\n{fix}",
        about,
    )


# --- PeerAuthentication shape and reach: MT0004-MT0007, MT0011 -------------------------------------

def peer_authentication_findings(analysis: Analysis) -> Iterator[Finding]:
    snapshot = analysis.snapshot
    root = snapshot.mesh.root_namespace
    for pa in sorted(snapshot.peer_authentications.values(), key=lambda p: (p.namespace, p.name)):
        if pa.port_level and not pa.selector:
            yield Finding(
                "MT0005", "error", "PeerAuthentication", pa.namespace, pa.name,
                "portLevelMtls requires a selector; the API server rejects this policy.",
                "spec:\n  selector:\n    matchLabels:\n      app: <workload>\n  portLevelMtls: ...",
            )
        if not pa.selector:
            continue
        if pa.namespace == root:
            yield Finding(
                "MT0011", "warning", "PeerAuthentication", pa.namespace, pa.name,
                f"A PeerAuthentication with a selector in the root namespace {root} is ignored by Istio.",
                "# move it to the namespace of the selected workloads:\n"
                f"kubectl get peerauthentication {pa.name} -n {root} -o yaml > pa.yaml\n"
                "# edit metadata.namespace in pa.yaml, then:\n"
                f"kubectl apply -f pa.yaml && kubectl delete peerauthentication {pa.name} -n {root}",
            )
            continue
        selected = analysis.services.pods.selected_by(pa.namespace, pa.selector)
        labels = ",".join(f"{k}={v}" for k, v in sorted(pa.selector.items()))
        if not selected:
            yield Finding(
                "MT0006", "warning", "PeerAuthentication", pa.namespace, pa.name,
                f"The selector {labels} matches no pod in namespace {pa.namespace}.",
                f"kubectl get pods -n {pa.namespace} --show-labels   # then fix spec.selector.matchLabels",
            )
        elif not any(analysis.pod(p).in_mesh for p in selected):
            yield Finding(
                "MT0004", "warning", "PeerAuthentication", pa.namespace, pa.name,
                f"The policy only selects pods without a sidecar ({len(selected)}); it has no effect.",
                "# enable injection for the namespace if needed, then restart the workloads:\n"
                f"kubectl label namespace {pa.namespace} {LEGACY_LABEL}=enabled --overwrite\n"
                + "\n".join(sorted({restart_fix(p) for p in selected})),
                tuple(p.ref for p in selected),
            )
    for ns, pas in sorted(analysis.policies.namespace_wide.items()):
        level = "mesh-wide" if ns == root else "namespace-wide"
        for ignored in pas[1:]:
            yield Finding(
                "MT0007", "warning", "PeerAuthentication", ns, ignored.name,
                f"More than one {level} PeerAuthentication in {ns}: only the oldest, {pas[0].name}, "
                "applies; this one is ignored.",
                f"kubectl delete peerauthentication {ignored.name} -n {ns}   # after merging it into "
                f"{pas[0].name}",
            )


# --- External exposure of STRICT ports: MT0008 -----------------------------------------------------

def exposure_findings(analysis: Analysis) -> Iterator[Finding]:
    for svc in sorted(analysis.snapshot.services.values(), key=lambda s: (s.namespace, s.name)):
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        for sp in svc.ports:
            strict = [
                (pod, tp) for pod in analysis.services.pods_of(svc)
                if not is_gateway(pod) and (tp := target_port(sp, pod)) is not None
                and analysis.port(pod, tp).mode == STRICT
            ]
            if not strict:
                continue
            pod, tp = strict[0]
            yield Finding(
                "MT0008", "warning", "Service", svc.namespace, svc.name,
                f"{svc.type} port {sp.port} reaches STRICT port {tp} of pod {pod.name}: clients outside the "
                "mesh send plaintext and will fail.",
                _exception_yaml(pod, tp) + "\n# or expose the service through an Istio ingress gateway",
                tuple(p.ref for p, _ in strict),
            )


def _exception_yaml(pod: Pod, port: int) -> str:
    app = pod.labels.get("app") or pod.labels.get("app.kubernetes.io/name")
    match = f"app: {app}" if app else "<label>: <value>"
    return (
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        f"metadata:\n  name: {pod.workload_name}-port-{port}\n  namespace: {pod.namespace}\n"
        f"spec:\n  selector:\n    matchLabels:\n      {match}\n"
        f"  portLevelMtls:\n    {port}:\n      mode: PERMISSIVE"
    )


# --- AuthorizationPolicy identities on plaintext: MT0009 -------------------------------------------

def _identity_fields(rules: Iterable[Mapping[str, Any]]) -> set[str]:
    fields: set[str] = set()
    for rule in rules:
        for entry in rule.get("from") or ():
            source = entry.get("source") if isinstance(entry, Mapping) else None
            if isinstance(source, Mapping):
                fields |= {k for k in ("principals", "namespaces") if source.get(k)}
    return fields


def _policy_pods(analysis: Analysis, policy: AuthorizationPolicy) -> list[Pod]:
    if policy.selector:
        return analysis.services.pods.selected_by(policy.namespace, policy.selector)
    if policy.namespace == analysis.snapshot.mesh.root_namespace:
        return list(analysis.snapshot.pods.values())
    return [p for p in analysis.snapshot.pods.values() if p.namespace == policy.namespace]


def authorization_findings(analysis: Analysis) -> Iterator[Finding]:
    policies = analysis.snapshot.authorization_policies.values()
    for policy in sorted(policies, key=lambda p: (p.namespace, p.name)):
        if policy.action != "ALLOW":
            continue
        fields = _identity_fields(policy.rules)
        if not fields:
            continue
        for pod in sorted(_policy_pods(analysis, policy), key=lambda p: p.key):
            pm = analysis.pod(pod)
            if not pm.in_mesh:
                continue
            open_ports = [p for p in pm.ports if p.mode in (PERMISSIVE, DISABLE)]
            if not open_ports and (pm.ports or pm.mode == STRICT):
                continue
            where = f"port {open_ports[0].port} ({open_ports[0].mode})" if open_ports else f"mode {pm.mode}"
            yield Finding(
                "MT0009", "warning", "AuthorizationPolicy", policy.namespace, policy.name,
                f"The policy matches on {'/'.join(sorted(fields))}, but pod {pod.namespace}/{pod.name} still "
                f"accepts plaintext on {where}: plaintext requests carry no identity and are denied.",
                "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
                f"metadata:\n  name: default\n  namespace: {pod.namespace}\nspec:\n  mtls:\n    mode: STRICT",
                (pod.ref,),
            )
            break


# --- Injection enabled but pods without sidecar: MT0010 --------------------------------------------

def workload_of(pod: Pod) -> tuple[str, str]:
    kind = {"ReplicaSet": "Deployment"}.get(pod.owner_kind, pod.owner_kind) or "Pod"
    return kind, pod.workload_name


def restart_fix(pod: Pod) -> str:
    kind, name = workload_of(pod)
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return f"kubectl rollout restart {kind.lower()}/{name} -n {pod.namespace}"
    return f"kubectl delete {kind.lower()} {name} -n {pod.namespace}   # and create it again"


def is_control_plane(pod: Pod, root_namespace: str) -> bool:
    """Istio's own pods and the system namespaces: no sidecar is expected there, even on a pod that
    carries istio.io/rev (istiod labels itself with the revision it serves)."""
    return pod.namespace in SYSTEM_NAMESPACES | {root_namespace, "istio-system"} or is_istiod(pod)


def restart_findings(analysis: Analysis) -> Iterator[Finding]:
    snapshot = analysis.snapshot
    root = snapshot.mesh.root_namespace
    pending: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
    for pod in snapshot.pods.values():
        if pod.template or pod.has_sidecar or pod.phase in ("Succeeded", "Failed") or is_control_plane(pod, root) \
                or snapshot.mesh.labels_unknown(pod.namespace):
            continue
        namespace = snapshot.namespaces.get(("", pod.namespace))
        if would_inject(namespace, pod.labels, pod.annotations, host_network=pod.host_network,
                        revisions=snapshot.mesh.revisions):
            kind, name = workload_of(pod)
            pending[(pod.namespace, kind, name)].append(pod)
    for (ns, kind, name), pods in sorted(pending.items()):
        yield Finding(
            "MT0010", "warning", kind, ns, name,
            f"Injection is enabled for these pods but {len(pods)} run without a sidecar: they started "
            "before injection was enabled and need a restart.",
            restart_fix(pods[0]),
            tuple(sorted((p.ref for p in pods), key=str)),
        )



# --- Invalid enum values the API server rejects: MT0012 --------------------------------------------

def rejected_findings(analysis: Analysis) -> Iterator[Finding]:
    for obj in sorted(analysis.rejected, key=lambda o: (o.ref.kind, o.namespace, o.name)):
        kind = obj.ref.kind
        yield Finding(
            "MT0012", "error", kind, obj.namespace, obj.name,
            f"The API server rejects this {kind} ({'; '.join(obj.rejected)}); it takes no effect and "
            "meshtui leaves it out of the evaluation.",
            "# enum values are case-sensitive: use one of the supported values, e.g.\n"
            + ("spec:\n  mtls:\n    mode: STRICT" if kind == "PeerAuthentication"
               else "spec:\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL"),
        )


# --- STRICT on paper, plaintext in fact: MT0013 ----------------------------------------------------

def strict_gap_findings(analysis: Analysis) -> Iterator[Finding]:
    """A STRICT policy covering pods no proxy serves: nothing enforces it there, they take plaintext.

    Pods ztunnel captures are served: it enforces STRICT in ambient mode. Reported once per deciding
    policy and namespace; MT0004 already covers a workload policy that selects only such pods.
    """
    snapshot = analysis.snapshot
    root = snapshot.mesh.root_namespace
    gaps: dict[tuple[str, str, str, str], list[Pod]] = defaultdict(list)
    for pod in snapshot.pods.values():
        if pod.phase in ("Succeeded", "Failed") or is_control_plane(pod, root) or analysis.pod(pod).in_mesh:
            continue
        res = analysis.policies.resolve(pod)
        if res.mode == STRICT and res.source.kind:
            src = res.source
            gaps[(src.namespace, src.name, src.level, pod.namespace)].append(pod)
    for (pa_ns, pa_name, level, namespace), pods in sorted(gaps.items()):
        pa = snapshot.peer_authentications.get((pa_ns, pa_name))
        if level == "workload" and pa is not None and pa.selector and not any(
                analysis.pod(p).in_mesh for p in analysis.services.pods.selected_by(pa_ns, pa.selector)):
            continue
        pods.sort(key=lambda p: p.name)
        names = ", ".join(p.name for p in pods[:3]) + (f" (+{len(pods) - 3} more)" if len(pods) > 3 else "")
        ns_obj = snapshot.namespaces.get(("", namespace))
        have = "1 pod has" if len(pods) == 1 else f"{len(pods)} pods have"
        yield Finding(
            "MT0013", "warning", "PeerAuthentication", pa_ns, pa_name,
            f"{namespace} is STRICT by {level} policy {pa_ns}/{pa_name}, but {have} no proxy (no sidecar, "
            f"not captured by ztunnel) and accept{'s' if len(pods) == 1 else ''} plaintext: {names}.",
            _strict_gap_fix(ns_obj, pods, snapshot.mesh.revisions),
            tuple(p.ref for p in pods),
        )


def _strict_gap_fix(ns_obj: Namespace | None, pods: list[Pod], revisions: Iterable[str]) -> str:
    if ns_obj is not None and ns_obj.dataplane == AMBIENT:
        # In an ambient namespace such pods opted out; istio-cni captures them once the label goes.
        return ("# they opted out of ambient: drop the label (from the workload's pod template too):\n"
                + "\n".join(f"kubectl label pod -n {p.namespace} {p.name} {DATAPLANE_LABEL}-" for p in pods))
    label = "" if all(would_inject(ns_obj, p.labels, p.annotations, revisions=revisions)
                      for p in pods) else f"kubectl label namespace {pods[0].namespace} {LEGACY_LABEL}=enabled\n"
    return ("# give them a sidecar (restart after injection is enabled):\n" + label
            + "\n".join(sorted({restart_fix(p) for p in pods})))

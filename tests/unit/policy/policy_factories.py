"""Small builders for model objects in policy tests: each call states only what the test is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Mapping

from meshtui.model.objects import (
    AuthorizationPolicy,
    Container,
    ContainerPort,
    DestinationRule,
    MeshSettings,
    Namespace,
    PeerAuthentication,
    Pod,
    Service,
    ServicePort,
    TLSSettings,
)
from meshtui.model.snapshot import ModelObject, Snapshot

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, labels=dict(labels))


def pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    sidecar: bool = True,
    ports: tuple[int | tuple[int, str], ...] = (8080,),
    native: bool = False,
    **kw: object,
) -> Pod:
    cports = tuple(ContainerPort(p) if isinstance(p, int) else ContainerPort(p[0], p[1]) for p in ports)
    containers = [Container("app", "example/app:1", cports)]
    init: tuple[Container, ...] = ()
    if sidecar and native:
        init = (Container("istio-proxy", "istio/proxyv2:1.24.0", restart_policy="Always"),)
    elif sidecar:
        containers.append(Container("istio-proxy", "istio/proxyv2:1.24.0"))
    return Pod(
        namespace,
        name,
        labels=dict(labels or {"app": name}),
        containers=tuple(containers),
        init_containers=init,
        **kw,
    )  # type: ignore[arg-type]


def pa(
    namespace: str,
    name: str,
    mode: str | None = None,
    selector: Mapping[str, str] | None = None,
    ports: Mapping[int, str | None] | None = None,
    age: int = 0,
) -> PeerAuthentication:
    """``age`` is minutes after T0: a smaller number is an older policy."""
    return PeerAuthentication(
        namespace,
        name,
        at(age),
        selector=dict(selector) if selector else None,
        mode=mode,
        port_level=dict(ports or {}),
    )


def svc(
    namespace: str,
    name: str,
    selector: Mapping[str, str] | None = None,
    ports: tuple[tuple[int, int | str], ...] = ((80, 8080),),
    type: str = "ClusterIP",
) -> Service:
    return Service(
        namespace,
        name,
        type=type,
        selector=dict(selector or {"app": name}),
        ports=tuple(ServicePort(p, t) for p, t in ports),
    )


def dr(
    namespace: str,
    name: str,
    host: str,
    mode: str | None = None,
    *,
    ports: Mapping[int, str] | None = None,
    selector: Mapping[str, str] | None = None,
    export_to: tuple[str, ...] = (),
    age: int = 0,
    ca: str = "",
    credential: str = "",
) -> DestinationRule:
    return DestinationRule(
        namespace,
        name,
        host,
        at(age),
        export_to=export_to,
        workload_selector=dict(selector) if selector else None,
        tls=TLSSettings(mode, ca_certificates=ca, credential_name=credential) if mode else None,
        port_tls={
            p: TLSSettings(m, ca_certificates=ca, credential_name=credential)
            for p, m in (ports or {}).items()
        },
    )


def ap(
    namespace: str,
    name: str,
    selector: Mapping[str, str] | None = None,
    action: str = "ALLOW",
    source: Mapping[str, list[str]] | None = None,
) -> AuthorizationPolicy:
    rules = ({"from": [{"source": dict(source)}]},) if source else ({},)
    return AuthorizationPolicy(
        namespace, name, selector=dict(selector) if selector else None, action=action, rules=rules
    )


def snap(*objs: ModelObject, root: str = "istio-system", auto_mtls: bool = True) -> Snapshot:
    return Snapshot.build(objs, MeshSettings(root_namespace=root, auto_mtls=auto_mtls))

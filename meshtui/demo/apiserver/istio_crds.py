"""Istio's custom resources as the in-process API server serves them, written from the CRDs' facts.

A fresh install must run the demo without Istio's 19,000-line CRD file, so the served groups,
versions and names, and the validation rules that matter to meshtui (enums, the PeerAuthentication
and selector CEL rules, port ranges) are written here as small OpenAPI schemas. Parts of a spec
meshtui neither writes nor reads keep ``x-kubernetes-preserve-unknown-fields``: the server accepts
them as they are instead of pruning them. ``tests/apiserver/test_istio_crds.py`` holds every rule
here against the real CRDs in ``shared/fixtures/istio/crd-all.gen.yaml``, so the two cannot drift;
tests that need the complete schemas load that file with ``Emulator(crds=path)``.
"""

from __future__ import annotations

from typing import Any

from meshtui.demo.apiserver.resources import ResourceType

Schema = dict[str, Any]

MTLS_MODES = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]
TLS_MODES = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]
AUTHZ_ACTIONS = ["ALLOW", "DENY", "AUDIT", "CUSTOM"]

# Rule texts exactly as crd-all.gen.yaml writes them; cel.py evaluates each.
PORT_LEVEL_NEEDS_SELECTOR = ("has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? "
                             "self.selector.matchLabels : {}).size() > 0) : true")
PORT_KEYS_IN_RANGE = "self.all(key, 0 < int(key) && int(key) <= 65535)"


def _rule(rule: str, message: str) -> dict[str, str]:
    return {"rule": rule, "message": message}


def _obj(properties: Schema | None = None, **extra: Any) -> Schema:
    return {"type": "object", **({"properties": properties} if properties else {}), **extra}


def _open() -> Schema:
    """A part of the spec the demo server stores as given."""
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _enum(values: list[str]) -> Schema:
    return {"type": "string", "enum": values}


def _port() -> Schema:
    return {"type": "integer", "maximum": 4294967295, "minimum": 0}


def _selector() -> Schema:
    value = {"type": "string", "maxLength": 63,
             "x-kubernetes-validations": [_rule('!self.contains("*")', "wildcard not allowed in label value match")]}
    labels = {"type": "object", "additionalProperties": value, "maxProperties": 4096,
              "x-kubernetes-validations": [
                  _rule('self.all(key, !key.contains("*"))', "wildcard not allowed in label key match"),
                  _rule("self.all(key, key.size() != 0)", "key must not be empty")]}
    return _obj({"matchLabels": labels})


def _mtls() -> Schema:
    return _obj({"mode": _enum(MTLS_MODES)})


def _peer_authentication() -> Schema:
    port_level = {"type": "object", "additionalProperties": _mtls(), "minProperties": 1,
                  "x-kubernetes-validations": [_rule(PORT_KEYS_IN_RANGE, "port must be between 1-65535")]}
    return _obj({"mtls": _mtls(), "portLevelMtls": port_level, "selector": _selector()},
                **{"x-kubernetes-validations": [_rule(PORT_LEVEL_NEEDS_SELECTOR, "portLevelMtls requires selector")]})


def _tls_settings() -> Schema:
    return _obj({"mode": _enum(TLS_MODES), "caCertificates": {"type": "string"}, "caCrl": {"type": "string"},
                 "clientCertificate": {"type": "string"}, "privateKey": {"type": "string"},
                 "credentialName": {"type": "string"}, "sni": {"type": "string"},
                 "subjectAltNames": {"type": "array", "items": {"type": "string"}},
                 "insecureSkipVerify": {"type": "boolean", "nullable": True}})


def _traffic_policy(with_ports: bool) -> Schema:
    properties: Schema = {"tls": _tls_settings(), "connectionPool": _open(), "loadBalancer": _open(),
                          "outlierDetection": _open(), "tunnel": _open(), "proxyProtocol": _open(),
                          "retryBudget": _open()}
    if with_ports:
        setting = _obj({"port": _obj({"number": _port()}), "tls": _tls_settings(), "connectionPool": _open(),
                        "loadBalancer": _open(), "outlierDetection": _open()})
        properties["portLevelSettings"] = {"type": "array", "maxItems": 4096, "items": setting}
    return _obj(properties)


def _destination_rule() -> Schema:
    subset = _obj({"name": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                   "trafficPolicy": _traffic_policy(with_ports=True)}, required=["name"])
    return _obj({"host": {"type": "string"}, "trafficPolicy": _traffic_policy(with_ports=True),
                 "subsets": {"type": "array", "items": subset},
                 "exportTo": {"type": "array", "items": {"type": "string"}},
                 "workloadSelector": _selector()}, required=["host"])


def _authorization_policy() -> Schema:
    return _obj({"action": _enum(AUTHZ_ACTIONS), "selector": _selector(), "provider": _open(),
                 "rules": {"type": "array", "items": _open()},
                 "targetRef": _open(), "targetRefs": {"type": "array", "items": _open()}})


def _root(spec: Schema) -> Schema:
    status = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return _obj({"spec": spec, "status": status})


# kind → (group, served versions preferred first, plural, short names, spec schema)
_KINDS: tuple[tuple[str, str, tuple[str, ...], str, tuple[str, ...], Schema], ...] = (
    ("PeerAuthentication", "security.istio.io", ("v1", "v1beta1"), "peerauthentications", ("pa",),
     _peer_authentication()),
    ("AuthorizationPolicy", "security.istio.io", ("v1", "v1beta1"), "authorizationpolicies", ("ap",),
     _authorization_policy()),
    ("RequestAuthentication", "security.istio.io", ("v1", "v1beta1"), "requestauthentications", ("ra",), _open()),
    ("DestinationRule", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules", ("dr",),
     _destination_rule()),
    ("VirtualService", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices", ("vs",), _open()),
    ("Gateway", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways", ("gw",), _open()),
    ("ServiceEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "serviceentries", ("se",), _open()),
    ("Sidecar", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars", (), _open()),
    ("WorkloadEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "workloadentries", ("we",), _open()),
    ("WorkloadGroup", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "workloadgroups", ("wg",), _open()),
    ("EnvoyFilter", "networking.istio.io", ("v1alpha3",), "envoyfilters", (), _open()),
    ("ProxyConfig", "networking.istio.io", ("v1beta1",), "proxyconfigs", (), _open()),
    ("Telemetry", "telemetry.istio.io", ("v1", "v1alpha1"), "telemetries", ("telemetry",), _open()),
    ("WasmPlugin", "extensions.istio.io", ("v1alpha1",), "wasmplugins", (), _open()),
)


def istio_types() -> tuple[ResourceType, ...]:
    types = []
    for kind, group, versions, plural, short, spec in _KINDS:
        schema = _root(spec)
        category = group.replace(".", "-")
        types.append(ResourceType(
            group=group, versions=versions, plural=plural, singular=kind.lower(), kind=kind, namespaced=True,
            short_names=short, categories=("istio-io", category), subresources=("status",),
            schemas={v: schema for v in versions}))
    return tuple(types)


def gateway_api_types() -> tuple[ResourceType, ...]:
    """The Gateway API's Gateway (gateway.networking.k8s.io), which Istio uses for waypoints. Its
    schema is not meshtui's concern: the spec is stored as given."""
    schema = _root(_open())
    return (ResourceType(group="gateway.networking.k8s.io", versions=("v1", "v1beta1"), plural="gateways",
                         singular="gateway", kind="Gateway", namespaced=True, short_names=("gtw",),
                         categories=("gateway-api",), subresources=("status",),
                         schemas={"v1": schema, "v1beta1": schema}),)

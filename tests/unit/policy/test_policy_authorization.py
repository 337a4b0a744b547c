"""AuthorizationPolicy applied to one request, table-driven against Istio's documented semantics."""

from __future__ import annotations

from typing import Any

import pytest

from meshtui.model.objects import AuthorizationPolicy, Container, MeshSettings, Namespace, Pod
from meshtui.model.snapshot import Snapshot
from meshtui.policy.authorization import authorization, principal_of

SERVER = Pod("shop", "api-1", labels={"app": "api"}, service_account="api",
             containers=(Container("app", "app:1"), Container("istio-proxy", "proxyv2:1.24.2")))
ORDERS = "cluster.local/ns/shop/sa/orders"
PLAIN = ""


def policy(name: str, action: str = "ALLOW", *rules: dict[str, Any], namespace: str = "shop",
           selector: dict[str, str] | None = None) -> AuthorizationPolicy:
    return AuthorizationPolicy(namespace, name, action=action, rules=tuple(rules), selector=selector)


def decide(*policies: AuthorizationPolicy, principal: str = ORDERS, port: int = 8080, method: str = "GET",
           path: str = "/items") -> str | None:
    snap = Snapshot.build([Namespace("shop"), Namespace("istio-system"), SERVER, *policies], MeshSettings())
    return authorization(snap, SERVER, principal, port, method, path)


ALLOW_ORDERS = {"from": [{"source": {"principals": [ORDERS]}}]}
CASES = [
    ("no policy allows everything", [], {}, None),
    ("allow-nothing denies", [policy("deny-all")], {}, "rbac_access_denied_matched_policy[none]"),
    ("an allow rule on the principal", [policy("deny-all"), policy("orders", "ALLOW", ALLOW_ORDERS)], {}, None),
    ("a plaintext caller has no principal", [policy("orders", "ALLOW", ALLOW_ORDERS)], {"principal": PLAIN},
     "rbac_access_denied_matched_policy[none]"),
    ("prefix principal match",
     [policy("ns", "ALLOW", {"from": [{"source": {"principals": ["cluster.local/ns/shop/*"]}}]})], {}, None),
    ("namespace source", [policy("ns", "ALLOW", {"from": [{"source": {"namespaces": ["other"]}}]})], {},
     "rbac_access_denied_matched_policy[none]"),
    ("deny wins over allow", [policy("orders", "ALLOW", ALLOW_ORDERS),
                              policy("no-admin", "DENY", {"to": [{"operation": {"paths": ["/admin*"]}}]})],
     {"path": "/admin/x"}, "rbac_access_denied_matched_policy[ns[shop]-policy[no-admin]-rule[0]]"),
    ("notPaths excludes", [policy("no-admin", "DENY", {"to": [{"operation": {"notPaths": ["/health"]}}]})],
     {"path": "/health?x=1"}, None),
    ("port and method", [policy("get-only", "ALLOW", {"to": [{"operation": {"ports": ["8080"], "methods": ["GET"]}}]})],
     {"method": "POST"}, "rbac_access_denied_matched_policy[none]"),
    ("selector of another workload does not apply", [policy("other", selector={"app": "web"})], {}, None),
    ("root namespace policy applies", [policy("mesh-deny", namespace="istio-system")], {},
     "rbac_access_denied_matched_policy[none]"),
]


@pytest.mark.parametrize(("case", "policies", "request_fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_authorization(case: str, policies: list[AuthorizationPolicy], request_fields: dict[str, Any],
                       expected: str | None) -> None:
    assert decide(*policies, **request_fields) == expected


def test_principal_is_the_service_account_identity() -> None:
    assert principal_of(SERVER) == "cluster.local/ns/shop/sa/api"

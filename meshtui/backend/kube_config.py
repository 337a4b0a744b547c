"""Finding and loading cluster credentials the way kubectl does: --kubeconfig, KUBECONFIG, ~/.kube/config,
then the in-cluster service account.

Every failure here becomes a :class:`ConnectionFailed` or :class:`Unauthorized` with one line naming
where we looked or what is available; credentials are never part of a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as _Path
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigMerger
from urllib3.util.retry import Retry

from meshtui import redact
from meshtui.backend import kube_plugin
from meshtui.backend.base import ConnectionFailed, Unauthorized
from meshtui.backend.kube_errors import one_line
from meshtui.yamlfile import YamlFileError, load_yaml_file

kube_plugin.install()

IN_CLUSTER = "in-cluster"
DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    configuration: client.Configuration
    context: str
    server: str
    user: str
    auth_method: str
    contexts: tuple[str, ...]


def kubeconfig_paths(explicit: str | None = None) -> list[str]:
    """The files kubectl reads, in order: --kubeconfig, else each entry of KUBECONFIG, else the default."""
    raw = explicit or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    return [os.path.expanduser(p) for p in raw.split(os.pathsep) if p]


def auth_method(user: Mapping[str, Any]) -> str:
    """How the kubeconfig user authenticates, named for error messages (never the secret itself)."""
    if isinstance(user.get("exec"), Mapping):
        command = str(user["exec"].get("command") or "")
        return f"exec plugin {os.path.basename(command)}" if command else "exec plugin"
    provider = user.get("auth-provider")
    if isinstance(provider, Mapping):
        name = str(provider.get("name") or "")
        return "OIDC" if name == "oidc" else f"auth provider {name}"
    if user.get("token") or user.get("tokenFile"):
        return "bearer token"
    if user.get("client-certificate") or user.get("client-certificate-data"):
        return "client certificate"
    if user.get("username"):
        return "basic auth"
    return "no credentials"


def _named(items: Any, name: str) -> Mapping[str, Any]:
    for item in items or ():
        value = item.value if hasattr(item, "value") else item
        if isinstance(value, Mapping) and value.get("name") == name:
            return value or {}
    return {}


def _names(items: Any) -> tuple[str, ...]:
    values = (item.value if hasattr(item, "value") else item for item in items or ())
    return tuple(str(v["name"]) for v in values if isinstance(v, Mapping) and isinstance(v.get("name"), str))


def _remember_secrets(users: Any) -> None:
    """Every credential in the kubeconfig, whichever context is used: a server may echo any of them."""
    for item in users or ():
        value = item.value if hasattr(item, "value") else item
        user = value.get("user") if isinstance(value, Mapping) else None
        if not isinstance(user, Mapping):
            continue
        redact.remember(user.get("token"), user.get("client-key-data"))
        exec_ = user.get("exec")
        env = exec_.get("env") if isinstance(exec_, Mapping) else None
        # Plugins take keys and tokens through env (AWS_SECRET_ACCESS_KEY...) and may echo them.
        redact.remember(*(e.get("value") for e in env if isinstance(e, Mapping)) if isinstance(env, list) else ())
        redact.remember_basic_auth(user.get("username"), user.get("password"))
        provider = user.get("auth-provider")
        config_ = provider.get("config") if isinstance(provider, Mapping) else None
        if isinstance(config_, Mapping):
            redact.remember(*(config_.get(k) for k in ("id-token", "refresh-token", "client-secret", "access-token")))


def _check_files(paths: list[str]) -> None:
    """Each file is YAML within meshtui's limits and a map; the message names the file and line."""
    for path in paths:
        try:
            data = load_yaml_file(_Path(path))
        except YamlFileError as exc:
            raise ConnectionFailed(f"kubeconfig {path}{exc.where}: {exc.problem}") from None
        if data is not None and not isinstance(data, Mapping):
            raise ConnectionFailed(f"kubeconfig {path}: not a kubeconfig (a {type(data).__name__}, not a map)")


def _merged(paths: list[str]) -> dict[str, Any] | None:
    existing = [p for p in paths if os.path.exists(p)]
    if not existing:
        return None
    _check_files(existing)
    try:
        merger = KubeConfigMerger(os.pathsep.join(existing))
        merged = merger.config
    except Exception as exc:  # the client's merger fails on odd shapes with assorted exception types
        where = ", ".join(existing)
        raise ConnectionFailed(f"cannot read kubeconfig {where}: {one_line(str(exc))}") from None
    if merged is None:
        return None
    value = dict(merged.value)
    _remember_secrets(value.get("users"))
    # kubectl takes current-context from the first file that sets it; the client's merger, from the last.
    value["current-context"] = next(
        (
            cfg.get("current-context")
            for cfg in merger.config_files.values()
            if isinstance(cfg, dict) and cfg.get("current-context")
        ),
        "",
    )
    return value


def _new_configuration() -> client.Configuration:
    cfg = client.Configuration()
    # One quick retry covers a pooled keep-alive connection the server closed; more would only delay
    # the "connection refused" line the user is waiting for.
    cfg.retries = Retry(total=1, connect=1, read=0, status=0, redirect=0, backoff_factor=0)
    # A TLS check reads 16 pods at a time beside the watches; the client's default pool (5 per CPU) would
    # open and throw away a connection for most of those requests.
    cfg.connection_pool_maxsize = 32
    return cfg


def _in_cluster() -> LoadedConfig:
    cfg = _new_configuration()
    try:
        config.load_incluster_config(client_configuration=cfg)
    except ConfigException as exc:
        raise ConnectionFailed(f"in-cluster configuration failed: {one_line(str(exc))}") from None
    return LoadedConfig(cfg, IN_CLUSTER, cfg.host, "serviceaccount", "service account token", (IN_CLUSTER,))


def list_contexts(kubeconfig: str | None = None) -> tuple[list[str], str]:
    """(context names, current context) from the kubeconfig files; in a pod without one, the in-cluster."""
    paths = kubeconfig_paths(kubeconfig)
    merged = _merged(paths)
    if merged is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            return [IN_CLUSTER], IN_CLUSTER
        raise ConnectionFailed(_no_kubeconfig(paths))
    return list(_names(merged.get("contexts"))), str(merged.get("current-context") or "")


def _no_kubeconfig(paths: list[str]) -> str:
    return f"no kubeconfig found (looked at {', '.join(paths)}); set KUBECONFIG or pass --kubeconfig"


def load(kubeconfig: str | None = None, context: str | None = None) -> LoadedConfig:
    """A client configuration for ``context`` (default: the current context)."""
    paths = kubeconfig_paths(kubeconfig)
    merged = _merged(paths)
    if merged is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST") and context in (None, IN_CLUSTER):
            return _in_cluster()
        raise ConnectionFailed(_no_kubeconfig(paths))
    names = _names(merged.get("contexts"))
    name = context or str(merged.get("current-context") or "")
    available = ", ".join(names) or "none"
    if not name:
        raise ConnectionFailed(f"kubeconfig has no current context; choose one of: {available}")
    if name not in names:
        raise ConnectionFailed(f"context {name!r} not found in kubeconfig; available: {available}")
    ctx = _named(merged.get("contexts"), name).get("context") or {}
    user_name = str(ctx.get("user") or "") if isinstance(ctx, Mapping) else ""
    user = _named(merged.get("users"), user_name).get("user") or {}
    method = auth_method(user if isinstance(user, Mapping) else {})
    cfg = _new_configuration()
    try:
        config.load_kube_config(
            config_file=os.pathsep.join(p for p in paths if os.path.exists(p)),
            context=name,
            client_configuration=cfg,
            persist_config=False,
        )
    except ConfigException as exc:
        raise ConnectionFailed(f"context {name!r}: {one_line(str(exc))}") from None
    except Exception as exc:  # exec plugins and OIDC refreshes fail with assorted exception types
        raise Unauthorized(f"context {name!r}: {method} failed: {one_line(str(exc))}") from None
    redact.remember(*(str(v).removeprefix("Bearer ") for v in (cfg.api_key or {}).values()))
    redact.remember_basic_auth(cfg.username, cfg.password)
    if method.startswith("exec plugin") and not (cfg.api_key or cfg.cert_file):
        # The client only logs a failing plugin and carries on without credentials.
        failure = kube_plugin.last_failure()
        reason = one_line(failure) if failure else "returned no credentials (installed? logged in?)"
        raise Unauthorized(f"context {name!r}: {reason}")
    return LoadedConfig(cfg, name, cfg.host, user_name, method, names)

"""Kubeconfig discovery and loading: where we look, context errors, naming the auth method."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from meshtui.backend import kube_config
from meshtui.backend.base import ConnectionFailed, Unauthorized

SECRET = "s3cr3t-token-value"


def write_kubeconfig(path: Path, contexts: dict[str, dict], current: str = "") -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": name, "user": user} for name, user in contexts.items()],
        "contexts": [{"name": name, "context": {"cluster": "c", "user": name}} for name in contexts],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"token": SECRET}, "bearer token"),
        ({"tokenFile": "/var/run/token"}, "bearer token"),
        ({"client-certificate-data": "Zm9v", "client-key-data": "YmFy"}, "client certificate"),
        ({"exec": {"command": "/usr/local/bin/aws-iam-authenticator", "apiVersion": "x"}},
         "exec plugin aws-iam-authenticator"),
        ({"auth-provider": {"name": "oidc", "config": {"id-token": SECRET}}}, "OIDC"),
        ({"auth-provider": {"name": "gcp"}}, "auth provider gcp"),
        ({"username": "admin", "password": SECRET}, "basic auth"),
        ({}, "no credentials"),
    ],
)
def test_auth_method_names_the_mechanism_not_the_secret(user: dict, expected: str) -> None:
    assert kube_config.auth_method(user) == expected


def test_paths_follow_kubectl_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["/a/one", "", "/b/two"]))
    assert kube_config.kubeconfig_paths() == ["/a/one", "/b/two"]
    assert kube_config.kubeconfig_paths("/explicit") == ["/explicit"]
    monkeypatch.delenv("KUBECONFIG")
    assert kube_config.kubeconfig_paths() == [os.path.expanduser("~/.kube/config")]


def test_missing_kubeconfig_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    missing = str(tmp_path / "nope")
    with pytest.raises(ConnectionFailed, match=f"no kubeconfig found \\(looked at {missing}\\)"):
        kube_config.load(missing)


def test_unknown_context_lists_available(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", {"dev": {"token": SECRET}, "prod": {"token": SECRET}}, "dev")
    with pytest.raises(ConnectionFailed) as err:
        kube_config.load(str(path), "staging")
    assert str(err.value) == "context 'staging' not found in kubeconfig; available: dev, prod"


def test_load_uses_current_context_and_merges_files(tmp_path: Path) -> None:
    first = write_kubeconfig(tmp_path / "a", {"dev": {"token": SECRET}}, "dev")
    second = write_kubeconfig(tmp_path / "b", {"ops": {"client-certificate-data": "Zm9v"}})
    loaded = kube_config.load(os.pathsep.join([str(first), str(second)]))
    assert (loaded.context, loaded.server, loaded.user, loaded.auth_method) == (
        "dev", "https://127.0.0.1:6443", "dev", "bearer token")
    assert loaded.contexts == ("dev", "ops")
    assert kube_config.list_contexts(str(first)) == (["dev"], "dev")


def test_no_current_context_asks_to_choose(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", {"dev": {"token": SECRET}})
    with pytest.raises(ConnectionFailed, match="no current context; choose one of: dev"):
        kube_config.load(str(path))


def test_broken_exec_plugin_is_one_line_without_secrets(tmp_path: Path) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                     "command": str(tmp_path / "missing-plugin"),
                     "env": [{"name": "TOKEN", "value": SECRET}]}}
    path = write_kubeconfig(tmp_path / "config", {"dev": user}, "dev")
    with pytest.raises(Unauthorized) as err:
        kube_config.load(str(path))
    text = str(err.value)
    assert "\n" not in text and SECRET not in text
    assert text == "context 'dev': exec plugin missing-plugin cannot be started: No such file or directory"


def test_in_cluster_used_only_without_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert kube_config.list_contexts(str(tmp_path / "none")) == (["in-cluster"], "in-cluster")

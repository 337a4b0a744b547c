"""load_paths(): files, directories, stdin, workload templates and predicted injection."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from meshtui.manifests import ManifestError, load_paths
from meshtui.model import convert

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
"""


def _workload(
    kind: str,
    name: str,
    namespace: str = "shop",
    labels: str = "",
    annotations: str = "",
    extra_container: str = "",
    host_network: bool = False,
) -> str:
    return f"""\
apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}{labels}}}
      annotations: {{{annotations}}}
    spec:
      hostNetwork: {str(host_network).lower()}
      containers:
      - name: main
        image: example/{name}:1
        ports: [{{containerPort: 8080}}]{extra_container}
"""


def _cronjob(name: str, namespace: str = "shop") -> str:
    return f"""\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {{labels: {{app: {name}}}}}
        spec:
          restartPolicy: OnFailure
          containers: [{{name: main, image: example/{name}:1, ports: [{{containerPort: 9000}}]}}]
"""


@pytest.mark.parametrize(
    ("doc", "sidecar"),
    [
        (_workload("Deployment", "cart"), True),
        (_workload("StatefulSet", "db"), True),
        (_workload("DaemonSet", "agent"), True),
        (_workload("Job", "migrate"), True),
        (_workload("Deployment", "cart", namespace="legacy"), False),
        (_workload("Deployment", "cart", labels=", sidecar.istio.io/inject: 'false'"), False),
        (_workload("Deployment", "cart", annotations="sidecar.istio.io/inject: 'false'"), False),
        (
            _workload("Deployment", "cart", namespace="legacy", labels=", sidecar.istio.io/inject: 'true'"),
            True,
        ),
        (
            _workload(
                "Deployment",
                "cart",
                namespace="legacy",
                extra_container="\n      - name: istio-proxy\n        image: istio/proxyv2:1.24.0",
            ),
            True,
        ),
        (_workload("Deployment", "cart", host_network=True), False),
        (_workload("ReplicaSet", "rs"), True),
        (_cronjob("nightly"), True),
        (_cronjob("nightly", namespace="legacy"), False),
    ],
    ids=[
        "deployment",
        "statefulset",
        "daemonset",
        "job",
        "namespace not injected",
        "label opts out",
        "annotation opts out",
        "label opts in",
        "explicit istio-proxy",
        "host network",
        "replicaset",
        "cronjob",
        "cronjob not injected",
    ],
)
def test_workloads_become_template_pods(tmp_path: Path, doc: str, sidecar: bool) -> None:
    (tmp_path / "ns.yaml").write_text(NAMESPACES)
    (tmp_path / "app.yaml").write_text(doc)
    snapshot = load_paths([str(tmp_path)])
    (pod,) = snapshot.pods.values()
    assert pod.template and pod.has_sidecar is sidecar
    if pod.owner_kind:
        assert (
            pod.owner_name == pod.name
            and (pod.namespace, f"{pod.owner_kind}/{pod.name}") in snapshot.workloads
        )


@pytest.mark.parametrize(
    ("containers", "sidecar"),
    [("[{name: main, image: x}]", False),
     ("[{name: main, image: x}, {name: istio-proxy, image: istio/proxyv2:1.24.0}]", True)],
    ids=["without proxy", "with proxy"],
)
def test_a_pod_is_taken_with_the_containers_it_has(tmp_path: Path, containers: str, sidecar: bool) -> None:
    # A Pod object is past admission: the injector will not add a sidecar to it any more.
    (tmp_path / "ns.yaml").write_text(NAMESPACES)
    (tmp_path / "pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: bare, namespace: shop}}\nspec: {{containers: {containers}}}\n"
    )
    pod = load_paths([str(tmp_path)]).pods[("shop", "bare")]
    assert not pod.template and pod.has_sidecar is sidecar


def test_cronjob_template_ports_are_read(tmp_path: Path) -> None:
    (tmp_path / "cj.yaml").write_text(_cronjob("nightly"))
    snapshot = load_paths([str(tmp_path)])
    assert [p.port for p in snapshot.pods[("shop", "nightly")].ports] == [9000]
    assert ("shop", "CronJob/nightly") in snapshot.workloads


def test_directories_recurse_and_unknown_kinds_are_ignored(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "deep.yml").write_text(_workload("Deployment", "deep"))
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n")
    (tmp_path / "notes.txt").write_text("not: [yaml")
    (tmp_path / "list.json").write_text(
        '{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "s", "namespace": "shop"},'
        ' "spec": {"selector": {"app": "deep"}, "ports": [{"port": 80}]}}]}'
    )
    snapshot = load_paths([str(tmp_path)])
    assert list(snapshot.pods) == [("shop", "deep")]
    assert list(snapshot.services) == [("shop", "s")]


def test_stdin_and_several_paths(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(NAMESPACES)
    snapshot = load_paths(
        [str(tmp_path / "ns.yaml"), "-"], stdin=io.StringIO(_workload("Deployment", "cart"))
    )
    assert snapshot.pods[("shop", "cart")].has_sidecar


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Namespace\nmetadata:\n  name: a: b\n", r"bad\.yaml:3:10: mapping values are not allowed"),
        ("kind: Namespace\nmetadata:\n  name: [unclosed\n", r"bad\.yaml:4:1: .*started at line 3"),
        ("kind: Namespace\n\tmetadata: {}\n", r"bad\.yaml:2:"),
    ],
    ids=["mapping in a scalar", "unclosed flow", "tab indentation"],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ManifestError, match=message):
        load_paths([str(tmp_path / "bad.yaml")])


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_paths([str(tmp_path / "nope")])


GOOD_NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: good}\n"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("- just\n- a list\n", "is list, not an object"),
        ("kind: Namespace\nmetadata: {name: 7}\n", "metadata.name must be a non-empty string"),
        ("kind: Pod\nmetadata: {name: p, namespace: [a]}\n", "metadata.namespace is list"),
        ("kind: Pod\nmetadata: {name: p, labels: {version: 1.0}}\n", "metadata.labels.version is float"),
        ("kind: Pod\nmetadata: {name: p, labels: [a, b]}\n", "metadata.labels is list"),
        ("kind: Pod\nmetadata: {name: p, creationTimestamp: yesterday}\n", "is not a timestamp"),
        ("kind: Service\nmetadata: {name: s}\nspec: [1]\n", "spec is list"),
        ("kind: Deployment\nmetadata: {name: d}\nspec: {replicas: many}\n", "unexpected field value"),
        ("kind: List\nitems: [3]\n", "is int, not an object"),
    ],
    ids=["list document", "int name", "list namespace", "float label", "list labels", "bad timestamp",
         "list spec", "string replicas", "list of non-objects"],
)
def test_malformed_objects_are_skipped_and_named(tmp_path: Path, doc: str, reason: str) -> None:
    (tmp_path / "bad.yaml").write_text(f"{GOOD_NS}---\n{doc}")
    snapshot = load_paths([str(tmp_path / "bad.yaml")])
    assert list(snapshot.namespaces) == [("", "good")]
    (skipped,) = snapshot.skipped
    assert skipped.startswith(f"{tmp_path / 'bad.yaml'}: document 2 (") and reason in skipped, skipped


def test_a_lone_surrogate_from_json_is_malformed() -> None:
    # libyaml refuses "\ud800" in YAML; JSON from an API server can still carry one.
    with pytest.raises(convert.Malformed, match="lone surrogate"):
        convert.from_k8s({"kind": "Pod", "metadata": {"name": "p", "annotations": {"a": "\ud800"}}})


def test_a_lone_surrogate_in_a_policy_key_is_malformed_and_number_keys_are_not() -> None:
    # Policies are checked whole, keys too; portLevelMtls keys are numbers.
    spec = {"selector": {"matchLabels": {"a": "b"}}, "portLevelMtls": {8080: {"mode": "STRICT"}}}
    assert convert.from_k8s({"kind": "PeerAuthentication", "metadata": {"name": "p"}, "spec": spec})
    spec["portLevelMtls"] = {8080: {"\udc80": "STRICT"}}
    with pytest.raises(convert.Malformed, match="lone surrogate"):
        convert.from_k8s({"kind": "PeerAuthentication", "metadata": {"name": "p"}, "spec": spec})


def test_policies_nested_too_deep_are_malformed() -> None:
    # Policies keep their raw body for the YAML view and diffs: all of it must be showable.
    deep: dict = {}
    for _ in range(convert.MAX_OBJECT_DEPTH + 5):
        deep = {"x": deep}
    with pytest.raises(convert.Malformed, match="nested deeper"):
        convert.from_k8s({"kind": "PeerAuthentication", "metadata": {"name": "p"}, "spec": {"selector": deep}})

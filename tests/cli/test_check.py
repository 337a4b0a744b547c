"""`meshtui check`: every option, output format and exit code."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from meshtui.__main__ import build_parser
from meshtui.backend.kube import KubeBackend
from meshtui.cli import check
from tests.kube_cluster import Cluster
from tests.objects import namespace, peer_auth

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: cart:1, ports: [{containerPort: 8080}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: example.com/v1
kind: SomethingElse
metadata: {name: ignored, namespace: shop}
"""

# A NodePort in front of a STRICT port: one warning (MT0008).
NODEPORT = """\
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  type: NodePort
  selector: {app: cart}
  ports: [{port: 80, targetPort: 8080}]
"""


def _cluster_objects() -> list[dict]:
    app = {"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}]}
    proxy = {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}
    return [
        namespace("shop", **{"istio-injection": "enabled"}),
        namespace("other", **{"istio-injection": "enabled"}),
        namespace("mesh-root"),
        {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [app, proxy]},
         "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}}},
        {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [app]},
         "metadata": {"name": "old-1", "namespace": "other", "labels": {"app": "old"}}},
        peer_auth("mesh-root", "default", mode="STRICT"),
    ]


@pytest.fixture
def api(cluster: Callable[..., Cluster]) -> Cluster:
    """The cluster `check` reads when no -f is given; each run connects with the flags it was given."""
    return cluster(_cluster_objects())


def _run(
    argv: list[str], api: Cluster | None = None, stdin: str = ""
) -> tuple[int, str, str, list[argparse.Namespace]]:
    args = build_parser().parse_args(["check", *argv])
    seen: list[argparse.Namespace] = []

    def factory(ns: argparse.Namespace) -> KubeBackend:
        seen.append(ns)
        if api is None:
            raise AssertionError("this run must not touch a cluster")
        return KubeBackend(kubeconfig=api.kubeconfig_path, namespace=getattr(ns, "namespace", None))

    out, err = io.StringIO(), io.StringIO()
    code = check.run(args, backend_factory=factory, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), seen


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "app.yaml").write_text(MANIFEST)
    return tmp_path


def test_json_shape(manifests: Path) -> None:
    code, out, _, seen = _run(["-f", str(manifests), "-o", "json"])
    data = json.loads(out)
    assert code == 0 and seen == []  # manifests never touch a cluster
    assert data == {
        "unknown": [],
        "namespaces": [{"name": "shop", "injection": "enabled", "dataplane": "sidecar", "mtls": "STRICT", "pods": 1,
                        "without_sidecar": 0, "provisional": []}],
        "workloads": [
            {
                "namespace": "shop",
                "pod": "cart",
                "workload": "cart",
                "sidecar": True,
                "dataplane": "sidecar",
                "ambient": False,
                "mode": "STRICT",
                "provisional": False,
                "ports": [
                    {
                        "port": 8080,
                        "mode": "STRICT",
                        "source": {
                            "kind": "PeerAuthentication",
                            "namespace": "shop",
                            "name": "default",
                            "level": "namespace",
                        },
                    }
                ],
            }
        ],
        "findings": [],
    }


def test_yaml_output_matches_json(manifests: Path) -> None:
    _, as_json, _, _ = _run(["-f", str(manifests), "--output", "json"])
    _, as_yaml, _, _ = _run(["-f", str(manifests), "--output", "yaml"])
    assert yaml.safe_load(as_yaml) == json.loads(as_json)


def test_table_output(manifests: Path) -> None:
    (manifests / "svc.yaml").write_text(NODEPORT)
    code, out, _, _ = _run(["-f", str(manifests)])
    assert code == 0
    assert "shop       enabled    STRICT" in out
    assert "cart  yes      STRICT  8080:STRICT" in out
    assert "WARNING [MT0008] (Service shop/cart)" in out
    assert "          portLevelMtls:" in out  # the fix, indented under its finding


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [("error", 0), ("warning", 1), ("info", 1), ("never", 0)],
)
def test_fail_on(manifests: Path, fail_on: str, expected: int) -> None:
    (manifests / "svc.yaml").write_text(NODEPORT)
    assert _run(["-f", str(manifests), "--fail-on", fail_on])[0] == expected


def test_fail_on_defaults_to_error(manifests: Path) -> None:
    (manifests / "pa.yaml").write_text(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: bad, namespace: shop}\n"
        "spec: {portLevelMtls: {8080: {mode: DISABLE}}}\n"
    )
    code, out, _, _ = _run(["-f", str(manifests), "-o", "json"])
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "MT0005"


def test_stdin_and_repeated_files(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(MANIFEST.split("---")[0])
    deployment = MANIFEST.split("---")[1]
    code, out, _, _ = _run(["-f", str(tmp_path / "ns.yaml"), "-f", "-", "-o", "json"], stdin=deployment)
    assert code == 0 and json.loads(out)["workloads"][0]["sidecar"] is True


def test_bad_yaml_exits_2_naming_file_and_line(manifests: Path) -> None:
    (manifests / "broken.yaml").write_text("kind: Service\nmetadata:\n  name: a: b\n")
    code, out, err, _ = _run(["-f", str(manifests)])
    assert (code, out) == (2, "")
    assert err.startswith("meshtui check: ") and "broken.yaml:3:" in err and err.count("\n") == 1


def test_root_namespace_option(manifests: Path) -> None:
    (manifests / "mesh.yaml").write_text(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        "metadata: {name: m, namespace: mesh-root}\nspec: {mtls: {mode: DISABLE}}\n"
    )
    (manifests / "app.yaml").write_text(MANIFEST.replace("spec: {mtls: {mode: STRICT}}", "spec: {}"))
    _, default_root, _, _ = _run(["-f", str(manifests), "-o", "json"])
    _, custom_root, _, _ = _run(["-f", str(manifests), "-o", "json", "--root-namespace", "mesh-root"])
    assert json.loads(default_root)["workloads"][0]["mode"] == "PERMISSIVE"
    assert json.loads(custom_root)["workloads"][0]["ports"][0]["source"]["level"] == "mesh"


def test_cluster_path_passes_connection_options(api: Cluster) -> None:
    code, out, _, seen = _run(["--context", "prod", "--kubeconfig", "/k/config", "-A", "-o", "json"], api)
    (args,) = seen
    assert (args.context, args.kubeconfig, args.all_namespaces, args.demo) == ("prod", "/k/config", True, None)
    data = json.loads(out)
    assert {w["pod"] for w in data["workloads"]} == {"web-1", "old-1"}
    assert code == 0


def test_demo_flag_reaches_the_factory(api: Cluster) -> None:
    _, _, _, seen = _run(["--demo"], api)
    assert seen[0].demo is True


def test_namespace_limits_the_report(api: Cluster) -> None:
    _, out, _, seen = _run(["-n", "other", "-o", "json", "--root-namespace", "mesh-root"], api)
    data = json.loads(out)
    assert seen[0].namespace == "other"
    assert [n["name"] for n in data["namespaces"]] == ["other"]
    assert [w["pod"] for w in data["workloads"]] == ["old-1"]
    # The mesh-wide policy (and its MT0013) lives in mesh-root: with -n, KubeBackend reads the root
    # namespace's policies from istio-system only, so that finding is not drawn here.
    assert {(f["code"], f["name"]) for f in data["findings"]} == {
        ("IST0103", "old-1"), ("MT0010", "old-1")}


def test_namespace_and_all_namespaces_conflict() -> None:
    with pytest.raises(SystemExit) as exc:
        _run(["-n", "a", "-A"])
    assert exc.value.code == 2


def test_backend_error_exits_2_with_one_line(api: Cluster) -> None:
    api.server.stop()
    code, out, err, _ = _run([], api)
    assert (code, out) == (2, "")
    assert err.startswith("meshtui check: cannot connect to http://127.0.0.1:") and err.count("\n") == 1


def test_cluster_options_before_the_sub_command_are_kept() -> None:
    args = build_parser().parse_args(["--context", "prod", "--demo", "check"])
    assert args.context == "prod" and args.demo is True


AMBIENT_MANIFEST = """
apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: pay}
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec: {containers: [{name: ledger, image: ledger:1, ports: [{containerPort: 8080}]}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: pay}
spec: {mtls: {mode: DISABLE}}
"""


def test_ambient_manifests_are_enforced_by_ztunnel(tmp_path: Path) -> None:
    (tmp_path / "pay.yaml").write_text(AMBIENT_MANIFEST)
    code, out, _, _ = _run(["-f", str(tmp_path), "-o", "json", "--fail-on", "never"])
    data = json.loads(out)
    assert code == 0 and data["namespaces"][0]["dataplane"] == "ambient"
    [ledger] = data["workloads"]
    # DISABLE is not supported in ambient: the pod still accepts mTLS and plaintext.
    assert (ledger["sidecar"], ledger["ambient"], ledger["mode"]) == (False, True, "PERMISSIVE")
    assert [f["code"] for f in data["findings"]] == ["MT0021"]
    _, table, _, _ = _run(["-f", str(tmp_path), "--fail-on", "never"])
    assert "ambient" in table and "IST0103" not in table


def test_a_skipped_object_is_reported_and_exits_2(manifests: Path) -> None:
    (manifests / "odd.yaml").write_text("kind: Pod\nmetadata: {name: \"x\\e[2J\", labels: {v: 2}}\n")
    code, out, err, _ = _run(["-f", str(manifests)])
    assert code == 2 and "shop" in out  # the rest is still reported
    assert "odd.yaml: document 1 (Pod x␛[2J): metadata.labels.v is int, not a string" in err
    assert "1 object(s) skipped" in err and "\x1b" not in err


def test_table_output_escapes_control_characters(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text('kind: Namespace\nmetadata: {name: "evil\\e]0;pwned\\a\\u202e"}\n')
    code, out, _, _ = _run(["-f", str(tmp_path)])
    assert code == 0 and "evil␛]0;pwned␇�" in out and "\x1b" not in out


STRICT_GAP = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: v1
kind: Pod
metadata: {name: old-1, namespace: shop, labels: {app: old}}
spec: {containers: [{name: app, image: app:1}]}
"""


def test_summary_says_strict_with_sidecarless_pods_plainly() -> None:
    code, out, _, _ = _run(["-f", "-", "--fail-on", "never"], stdin=STRICT_GAP)
    assert code == 0
    assert "shop       enabled    STRICT ✗1" in out and "✗N: pods without a sidecar" in out
    assert "[MT0013] (PeerAuthentication shop/default)" in out
    _, out, _, _ = _run(["-f", "-", "-o", "json", "--fail-on", "never"], stdin=STRICT_GAP)
    data = json.loads(out)
    assert data["namespaces"] == [{"name": "shop", "injection": "enabled", "dataplane": "sidecar", "mtls": "STRICT",
                                   "pods": 1,
                                   "without_sidecar": 1, "provisional": []}]
    (gap,) = [f for f in data["findings"] if f["code"] == "MT0013"]
    assert gap["about"] == [{"kind": "Pod", "namespace": "shop", "name": "old-1"}]


def test_namespace_scoped_rbac_reports_unknown_not_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check -n against the API server (HTTP) as a user who may list pods and Istio policies in one
    namespace but read neither the Namespace nor the root namespace."""
    from meshtui.__main__ import main
    from tests.backend.conftest import seeded_emulator

    emulator = seeded_emulator()
    emulator.start()
    try:
        emulator.deny("list", "namespaces")
        emulator.deny("list", "peerauthentications", "istio-system")
        kubeconfig = str(tmp_path / "config")
        emulator.kubeconfig(kubeconfig, context="emulator")
        argv = ["check", "--kubeconfig", kubeconfig, "-n", "researchflow", "--fail-on", "never"]
        assert main([*argv, "-o", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["unknown"] == ["Namespace researchflow", "PeerAuthentications in istio-system"]
        (ns,) = data["namespaces"]
        assert ns["injection"] == "unknown" and len(ns["provisional"]) == 2
        # researchflow is labelled istio-injection=enabled: unread labels must not become IST0102 / IST0103
        assert not {f["code"] for f in data["findings"]} & {"IST0102", "IST0103", "IST0123", "MT0010"}
        assert all(w["provisional"] for w in data["workloads"] if w["sidecar"])
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert out.startswith("Cannot read (RBAC): Namespace researchflow, PeerAuthentications in istio-system.")
        assert "researchflow  unknown    PERMISSIVE? ✗3" in out
    finally:
        emulator.stop()


@pytest.mark.parametrize("data", [
    {},
    {"namespaces": [], "workloads": [{}], "findings": [{"about": [], "fix": ""}]},
    {"message": "é \u2028 \u202e \x1b[31m \"quoted\" \\ back", "ports": [{"port": 8080, "mode": None}], "ok": True},
    {"nested": [[], [{}], [1, 2.5, -3, False]], "unicode keys é": "v"},
])
def test_json_output_is_json_dumps_indented(data: dict) -> None:
    # Byte-identical to json.dumps(indent=2): non-ASCII and control characters stay escaped.
    assert check.as_json(data) == json.dumps(data, indent=2)

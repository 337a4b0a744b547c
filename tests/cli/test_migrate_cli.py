"""`meshtui migrate --plan / --export`: findings, steps, JSON shape, exit codes, and exported
manifests that apply cleanly, in order, to the API emulator through KubeBackend."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.__main__ import build_parser
from meshtui.backend.base import Backend
from meshtui.backend.kube import KubeBackend
from meshtui.cli import migrate
from meshtui.demo.apiserver import Emulator
from meshtui.demo.clock import ManualClock
from meshtui.demo.session import DemoBackend
from meshtui.policy.evaluation import evaluate
from tests.backend.conftest import seeded_emulator
from tests.kube_cluster import backend_on

KS = "kubestock-staging"
EXCEPTIONS = ["--exception", f"{KS}/frontend:3000", "--exception", f"{KS}/ms-inventory:3001"]


@pytest.fixture
def demo(demo_backend: Callable[..., DemoBackend]) -> DemoBackend:
    return demo_backend(ManualClock())


def run(argv: list[str], backend: Backend, **kw: Any) -> tuple[int, str, str]:
    args = build_parser().parse_args(["migrate", *argv])
    out, err = io.StringIO(), io.StringIO()
    if isinstance(backend, DemoBackend):
        clock = ManualClock()
        kw.setdefault("pass_window", lambda s: (backend.cluster.advance(s), clock.advance(s), True)[-1])
        kw.setdefault("now", clock.now)
    code = migrate.run(args, backend_factory=lambda _a: backend, stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


def test_plan_json_has_the_documented_shape_and_names_the_blockers(demo: DemoBackend) -> None:
    code, out, err = run(["-n", KS, "--plan", "-o", "json"], demo)
    data = json.loads(out)
    assert code == 1 and err == ""
    assert list(data) == ["scope", "ready", "blockers", "warnings", "plaintext_clients", "unknown", "steps"]
    assert data["scope"] == {"mesh": False, "namespaces": [KS]}
    assert data["ready"] is False
    assert [(b["code"], b["name"]) for b in data["blockers"]] == [("MIG005", "frontend"), ("MIG007", "batch-reporter")]
    assert data["blockers"][1]["action"]["exception"]["port"] == 3001
    [client] = data["plaintext_clients"]
    assert list(client) == ["namespace", "workload", "target", "rate_per_s"]
    assert (client["namespace"], client["workload"], client["target"]) == ("legacy", "batch-reporter",
                                                                           f"{KS}/ms-inventory:3001")
    assert 0.1 < client["rate_per_s"] < 0.6  # one call every ~4 s in the demo's traffic
    [step] = data["steps"]
    assert list(step) == ["n", "title", "objects", "affects"]
    assert step["objects"][0]["kind"] == "PeerAuthentication"
    assert yaml.safe_load(step["objects"][0]["yaml"])["spec"] == {"mtls": {"mode": "STRICT"}}


def test_accepted_exceptions_make_the_plan_ready(demo: DemoBackend) -> None:
    code, out, _ = run(["-n", KS, "--plan", "-o", "yaml", *EXCEPTIONS], demo)
    data = yaml.safe_load(out)
    assert code == 0 and data["ready"] is True and data["blockers"] == []
    assert [s["title"] for s in data["steps"]] == [
        f"Set mTLS PERMISSIVE on Deployment {KS}/frontend port 3000",
        f"Set mTLS PERMISSIVE on Deployment {KS}/ms-inventory port 3001",
        f"Set mTLS STRICT on namespace {KS}",
    ]


@pytest.mark.parametrize(("namespace", "code", "blockers"), [
    ("researchflow", 1, ["MIG002"]),
    ("tenant-b-orders", 0, []),
])
def test_demo_namespaces(demo: DemoBackend, namespace: str, code: int, blockers: list[str]) -> None:
    got, out, _ = run(["-n", namespace, "--plan", "-o", "json", "--window", "0"], demo)
    assert got == code
    assert [b["code"] for b in json.loads(out)["blockers"]] == blockers


def test_table_output(demo: DemoBackend) -> None:
    code, out, _ = run(["-n", KS, "--plan", "--window", "20"], demo)
    assert code == 1
    assert f"Migration to STRICT: {KS} — BLOCKED" in out
    assert "Plaintext clients over 20s (TLS check: metrics, access log): 1" in out
    assert f"legacy/batch-reporter → {KS}/ms-inventory:3001" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["-n", KS, "--plan", "--exception", "nope"], "expected NAMESPACE/WORKLOAD:PORT"),
    (["-n", "no-such-ns", "--plan"], "no namespace no-such-ns in the cluster"),
    (["-n", KS, "--plan", "--window", "-1"], "--window must be 0 or more"),
])
def test_bad_input_is_one_line_and_exit_2(demo: DemoBackend, argv: list[str], message: str) -> None:
    code, out, err = run(argv, demo)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_plan_or_export_is_required() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["migrate", "-n", KS])
    assert exc.value.code == 2


def test_export_writes_numbered_commented_manifests(demo: DemoBackend, tmp_path: Path) -> None:
    code, out, _ = run(["-n", KS, "--export", str(tmp_path), "--window", "0", *EXCEPTIONS], demo)
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"01-exception-{KS}-frontend-3000.yaml", f"02-exception-{KS}-ms-inventory-3001.yaml",
                     f"03-strict-{KS}.yaml"]
    assert out.splitlines() == [str(tmp_path / n) for n in names]
    second = (tmp_path / names[1]).read_text()
    assert second.startswith(f"# Step 2 of 3: Set mTLS PERMISSIVE on Deployment {KS}/ms-inventory port 3001\n")
    assert f"# Apply after {names[0]}" in second
    [doc] = list(yaml.safe_load_all(second))
    assert doc["spec"] == {"selector": {"matchLabels": {"app": "ms-inventory"}},
                           "portLevelMtls": {"3001": {"mode": "PERMISSIVE"}}}
    assert "resourceVersion" not in doc["metadata"]


def kubectl_apply(backend: Backend, doc: dict[str, Any]) -> None:
    """What `kubectl apply` does for an object it did not create: create it, or replace it."""
    meta = doc["metadata"]
    current = backend.get(doc["kind"], meta["namespace"], meta["name"])
    if current is None:
        backend.create(doc["kind"], doc)
    else:
        body = dict(doc, metadata={**meta, "resourceVersion": current["metadata"]["resourceVersion"]})
        backend.replace(doc["kind"], body)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = seeded_emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def kube(emulator: Emulator, tmp_path: Path) -> Iterator[KubeBackend]:
    with backend_on(emulator, tmp_path) as backend:
        yield backend


def test_exported_yaml_applies_in_order_to_the_emulator(kube: KubeBackend, emulator: Emulator,
                                                        tmp_path: Path) -> None:
    out_dir = tmp_path / "gitops"
    code, _, _ = run(["-n", KS, "--export", str(out_dir), "--window", "0", *EXCEPTIONS], kube)
    assert code == 0
    for path in sorted(out_dir.iterdir()):
        for doc in yaml.safe_load_all(path.read_text()):
            kubectl_apply(kube, doc)
    report = evaluate(kube.snapshot())
    modes = {(pm.pod.workload_name, p.port): p.mode for pm in report.pods.values() if pm.pod.namespace == KS
             for p in pm.ports}
    assert modes[("ms-inventory", 3001)] == "PERMISSIVE" and modes[("frontend", 3000)] == "PERMISSIVE"
    assert modes[("ms-product", 3003)] == "STRICT"
    # Planning again against the result: nothing left to do.
    code, out, _ = run(["-n", KS, "--plan", "-o", "json", "--window", "0", *EXCEPTIONS], kube)
    assert code == 0 and json.loads(out)["steps"] == []


PLAINTEXT_SERIES = (
    'istio_requests_total{{reporter="destination",source_workload="batch-reporter",'
    'source_workload_namespace="legacy",source_principal="unknown",destination_workload="ms-inventory",'
    'destination_workload_namespace="kubestock-staging",destination_service="ms-inventory.kubestock-staging.svc.'
    'cluster.local",destination_service_name="ms-inventory",destination_service_namespace="kubestock-staging",'
    'response_code="200",response_flags="-",connection_security_policy="none"}} {count}\n'
    'istio_requests_total{{reporter="destination",source_workload="ms-order-management",'
    'source_workload_namespace="kubestock-staging",destination_service_name="ms-inventory",'
    'destination_service_namespace="kubestock-staging",connection_security_policy="mutual_tls"}} {count}\n'
)


def test_plan_observes_plaintext_over_http(kube: KubeBackend, emulator: Emulator) -> None:
    pods = [o["metadata"]["name"] for o in emulator.objects("Pod")
            if o["metadata"]["namespace"] == KS and o["metadata"]["name"].startswith("ms-inventory-")]
    for pod in pods:
        emulator.set_proxy_response(KS, pod, 15020, "stats/prometheus", PLAINTEXT_SERIES.format(count=10))
    clock = ManualClock()

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        emulator.set_proxy_response(KS, pods[0], 15020, "stats/prometheus", PLAINTEXT_SERIES.format(count=15))
        return True

    code, out, _ = run(["-n", KS, "--plan", "-o", "json"], kube, pass_window=wait, now=clock.now)
    data = json.loads(out)
    assert code == 1
    assert data["plaintext_clients"] == [{"namespace": "legacy", "workload": "batch-reporter",
                                          "target": f"{KS}/ms-inventory:3001", "rate_per_s": 0.5}]
    reads = [r.path for r in emulator.requests if r.path.endswith("/proxy/stats/prometheus")]
    assert f"/api/v1/namespaces/{KS}/pods/{pods[0]}:15020/proxy/stats/prometheus" in reads
    assert not [r for r in emulator.requests if r.method not in ("GET",) and "selfsubject" not in r.path]


def test_a_caller_the_metrics_cannot_name_is_named_from_the_access_log(kube: KubeBackend,
                                                                       emulator: Emulator) -> None:
    """On a real cluster a caller without sidecar reaches the server's metrics as "unknown"."""
    unknown = PLAINTEXT_SERIES.replace('source_workload="batch-reporter"', 'source_workload="unknown"') \
        .replace('source_workload_namespace="legacy"', 'source_workload_namespace="unknown"')
    server = next(o for o in emulator.objects("Pod") if o["metadata"]["name"].startswith("ms-inventory-"))
    caller = next(o for o in emulator.objects("Pod") if o["metadata"]["namespace"] == "legacy")
    name, ip = server["metadata"]["name"], server["status"]["podIP"]
    emulator.set_proxy_response(KS, name, 15020, "stats/prometheus", unknown.format(count=1))
    for _ in range(2):  # plaintext (no SNI) inbound requests, as Istio's default access log writes them
        emulator.append_log(KS, name, "istio-proxy",
                            '[2026-11-24T12:00:01.000Z] "GET /api/v1/stock/report HTTP/1.1" 200 - via_upstream - "-" '
                            '0 812 3 2 "-" "python-requests/2.31.0" "1b2c" "ms-inventory:3001" '
                            f'"{ip}:3001" inbound|3001|| 127.0.0.6:41234 {ip}:3001 '
                            f'{caller["status"]["podIP"]}:53211 - default')
    clock = ManualClock()

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        emulator.set_proxy_response(KS, name, 15020, "stats/prometheus", unknown.format(count=3))
        return True

    code, out, _ = run(["-n", KS, "--plan", "-o", "json", "--window", "4"], kube, pass_window=wait, now=clock.now)
    data = json.loads(out)
    assert code == 1
    assert data["plaintext_clients"] == [{"namespace": "legacy", "workload": "batch-reporter",
                                          "target": f"{KS}/ms-inventory:3001", "rate_per_s": 0.5}]
    blocker = next(b for b in data["blockers"] if b["code"] == "MIG007")
    assert "seen in the logs" in blocker["message"]


def test_pods_whose_metrics_cannot_be_read_are_unknown_not_quiet(demo: DemoBackend) -> None:
    """A 403 on pods/proxy hides batch-reporter's plaintext: the plan must say it does not know, not
    report "no plaintext client" and call the namespace ready."""
    demo.cluster.server.deny("get", "pods/proxy", KS)
    code, out, _ = run(["-n", KS, "--plan", "-o", "json", *EXCEPTIONS], demo)
    data = json.loads(out)
    assert code == 1 and data["ready"] is False and data["blockers"] == []
    assert data["plaintext_clients"] == []
    sidecars = sorted(f"{KS}/{p.name}" for p in demo.snapshot().pods_in(KS) if p.has_sidecar and not p.deleting)
    assert [u["pod"] for u in data["unknown"]] == sidecars
    assert all("403" in u["reason"] or "forbidden" in u["reason"].lower() for u in data["unknown"])
    code, out, _ = run(["-n", KS, "--plan", *EXCEPTIONS], demo)
    assert code == 1 and f"Migration to STRICT: {KS} — BLOCKED" in out
    assert f"Callers unknown (metrics not read) for {len(sidecars)} pod(s):" in out
    assert f"  {sidecars[0]}: " in out
    # Planning without observing says so instead of claiming a quiet namespace.
    code, out, _ = run(["-n", KS, "--plan", "--window", "0", *EXCEPTIONS], demo)
    assert code == 0 and "(not observed: --window 0)" in out and "Callers unknown" not in out

"""`meshtui tls` end to end: the real CLI and KubeBackend against the API emulator."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from meshtui.__main__ import main
from meshtui.demo.apiserver import Emulator
from tests.backend.tls_cluster import ACCEPTED, REFUSED, SHOP, SYNCZ, certs_exec, metric, seed, serve_stats


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MESHTUI_CONFIG", raising=False)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    seed(emulator)
    emulator.set_proxy_response("istio-system", "istiod-1", 15014, "debug/syncz", SYNCZ)
    emulator.on_exec(certs_exec)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kubeconfig(emu: Emulator, tmp_path: Path) -> str:
    path = tmp_path / "kubeconfig"
    emu.kubeconfig(str(path), context="emulator")
    return str(path)


def traffic_during_the_window(emu: Emulator, evil: bool = False) -> threading.Thread:
    """Once the first sample was read, batch-1 keeps calling inventory-1 in plaintext and an outside
    client is refused by inventory-2 (STRICT)."""
    caller = "evil\x1b[2J" if evil else "unknown"
    serve_stats(emu, "inventory-1", metric("none", 3, caller) + metric("mutual_tls", 7, "web", SHOP))
    serve_stats(emu, "inventory-2", metric("mutual_tls", 7, "web", SHOP))
    serve_stats(emu, "web-1", "")

    def later() -> None:
        for _ in range(3000):
            if any("inventory-1:15020" in r.path for r in emu.requests):
                break
            threading.Event().wait(0.01)
        serve_stats(emu, "inventory-1", metric("none", 5, caller) + metric("mutual_tls", 9, "web", SHOP))
        serve_stats(emu, "inventory-2", metric("mutual_tls", 9, "web", SHOP))
        emu.append_log(SHOP, "inventory-1", "istio-proxy", ACCEPTED)
        emu.append_log(SHOP, "inventory-2", "istio-proxy", REFUSED)

    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    return thread


def run(kubeconfig: str, *args: str) -> int:
    return main(["--kubeconfig", kubeconfig, "tls", *args])


def test_json_shape_and_exit_codes(emu: Emulator, kubeconfig: str, capsys: pytest.CaptureFixture[str]) -> None:
    traffic_during_the_window(emu)
    code = run(kubeconfig, "-n", SHOP, "--window", "1s", "-o", "json", "--fail-on", "plaintext")
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["window_s"] == 1.0 and data["errors"] == []
    inventory = next(w for w in data["workloads"] if w["workload"] == "inventory")
    [port] = inventory["ports"]
    assert (port["port"], port["verdict"]) == (3001, "REJECTING")
    plaintext = [c for c in port["clients"] if c["security"] == "plaintext"]
    assert {(c["namespace"], c["workload"], c["evidence"]) for c in plaintext} == {
        ("legacy", "batch", "logs"), ("", "external via NodePort on node node-b", "logs")}
    assert {c["status"] for c in inventory["certs"]} == {"ok"}
    assert [s["status"] for s in inventory["sync"]] == ["SYNCED", "SYNCED"]


def test_fail_on_thresholds(emu: Emulator, kubeconfig: str, capsys: pytest.CaptureFixture[str]) -> None:
    serve_stats(emu, "inventory-1", metric("mutual_tls", 1, "web", SHOP))
    assert run(kubeconfig, "-n", SHOP, "inventory-1", "--window", "100ms", "--fail-on", "no-traffic") == 1
    assert run(kubeconfig, "-n", SHOP, "inventory-1", "--window", "100ms", "--fail-on", "no-data") == 0
    assert run(kubeconfig, "-n", SHOP, "inventory-1", "--window", "100ms", "--fail-on", "never") == 0
    out = capsys.readouterr().out
    assert "NO TRAFFIC" in out


def test_table_and_yaml(emu: Emulator, kubeconfig: str, capsys: pytest.CaptureFixture[str]) -> None:
    traffic_during_the_window(emu, evil=True)
    assert run(kubeconfig, "-n", SHOP, "deploy/inventory", "--window", "1s") == 2  # a StatefulSet, not a Deployment
    assert "Deployment shop/inventory not found" in capsys.readouterr().err
    code = run(kubeconfig, "-n", SHOP, "sts/inventory", "--window", "1s")
    out = capsys.readouterr().out
    assert code == 1  # REJECTING is at the default --fail-on
    assert "\x1b" not in out  # a caller's name must not drive the terminal
    header, row = out.splitlines()[1:3]
    assert header.split()[:5] == ["NAMESPACE", "WORKLOAD", "PORT", "MODE", "VERDICT"]
    assert row.split()[:6] == ["shop", "inventory", "3001", "PERMISSIVE/STRICT", "REJECTING", "mTLS"]
    assert "inject legacy/batch (istio-injection=enabled on legacy" in out
    serve_stats(emu, "web-1", "")
    assert run(kubeconfig, "-n", SHOP, "web-1", "--window", "100ms", "-o", "yaml") == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["workloads"][0]["ports"][0]["verdict"] == "NO TRAFFIC"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-n", SHOP, "nope-1"), "pod shop/nope-1 not found"),
        (("-A", "inventory-1"), "needs -n NAMESPACE"),
        (("-n", SHOP, "rs/inventory"), "unknown kind 'rs'"),
        (("--window", "ten"), "invalid window 'ten'"),
        (("--window", "0s"), "must be more than 0"),
    ],
)
def test_unusable_input_exits_2(kubeconfig: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                message: str) -> None:
    try:
        code = run(kubeconfig, *args)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_unreachable_cluster_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emu = Emulator()
    emu.start()
    path = tmp_path / "kc"
    emu.kubeconfig(str(path), context="gone")
    emu.stop()
    assert main(["--kubeconfig", str(path), "tls", "-n", SHOP]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meshtui tls: ") and "Traceback" not in err


def test_ctrl_c_stops_the_check_and_prints_what_was_read(emu: Emulator, kubeconfig: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import _thread

    serve_stats(emu, "inventory-1", metric("mutual_tls", 1, "web", SHOP))

    def interrupt_once_sampling() -> None:
        for _ in range(3000):
            if any("inventory-1:15020" in r.path for r in emu.requests):
                break
            threading.Event().wait(0.01)
        threading.Event().wait(0.3)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_sampling, daemon=True).start()
    began = time.monotonic()
    code = run(kubeconfig, "-n", SHOP, "inventory-1", "--window", "1m")
    assert code == 130 and time.monotonic() - began < 20
    out = capsys.readouterr().out
    assert "Cancelled: 0/1 pods checked." in out

"""Names, labels, log lines and messages from the cluster never drive the terminal: in tables, the
header, toasts, the log viewer and `meshtui logs -o json`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.__main__ import build_parser
from meshtui.backend.kube import KubeBackend
from meshtui.cli import logs as logs_cli
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.factory import build_app
from meshtui.screens.logs import LogsScreen
from meshtui.text import safe_line, safe_text
from tests.hostile.counter import count
from tests.hostile.safety import is_safe
from tests.hostile.strategies import NASTY_CHARS, nasty_text
from tests.ui.pilot import notices, screen_text, wait_for

ACCESS = ('[2026-11-24T12:00:00.000Z] "GET /{p} HTTP/1.1" 503 UF upstream_reset_before_response_started{{{d}}} - '
          '"-" 0 91 2 - "-" "curl" "id" "{a}" "10.0.0.1:80" outbound|80||svc.shop.svc.cluster.local - '
          '10.0.0.2:80 10.0.0.3:4000 - default')

log_lines = st.one_of(
    nasty_text,
    st.builds(lambda p, d, a: ACCESS.format(p=p, d=d, a=a), nasty_text, nasty_text, nasty_text),
    st.builds(lambda v: json.dumps({"start_time": "2026-11-24T12:00:00Z", "response_code": 503, "path": v,
                                    "authority": v}), nasty_text),
    st.integers(1, 5000).map(lambda n: "{" + '"a":[' * n + "]" * n + "}"),  # deep JSON access log
)


@given(value=nasty_text)
def test_safe_text_replaces_one_for_one(value: str) -> None:
    count("strings")
    for out in (safe_line(value), safe_text(value)):
        assert is_safe(out) and len(out) == len(value)
        out.encode("utf-8")  # lone surrogates are gone too
    assert "\n" not in safe_line(value)


@settings(max_examples=30)
@given(lines=st.lists(log_lines, min_size=1, max_size=8))
def test_logs_json_output_is_json_and_safe(tmp_path_factory, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("l") / "proxy.log"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    count("log lines", len(lines))
    args = build_parser().parse_args(["logs", str(path), "-o", "json"])
    out, err = io.StringIO(), io.StringIO()
    assert logs_cli.run(args, app_factory=None, stdout=out, stderr=err) == 0  # type: ignore[arg-type]
    for line in out.getvalue().splitlines():
        assert isinstance(json.loads(line), dict)
        assert is_safe(line) and all(c not in line for c in "\x9b\u202e")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def test_the_log_viewer_shows_hostile_lines_inert() -> None:
    lines = [f"line {i} {c} end" for i, c in enumerate(NASTY_CHARS)]
    lines.append(ACCESS.format(p="\x1b]8;;http://evil\x07click\x1b]8;;\x07", d="\x1b[2J", a="\u202eevil"))
    count("log lines", len(lines))
    app = build_app(Settings(), offline=True, initial_screen=LogsScreen.from_lines(lines, "hostile"))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: "line 0" in screen_text(app))
        text = screen_text(app)
    assert is_safe(text), [c for c in text if not is_safe(c)]
    assert "line 0 ␛[2J end" in text and "line 2 �31m end" in text


async def test_tables_header_and_notices_show_hostile_names_inert(tmp_path: Path) -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J"
    with Emulator(istio=True) as emu:
        emu.add({"kind": "Namespace", "metadata": {"name": f"shop{evil}", "labels": {"istio-injection": evil}}})
        emu.add({"kind": "Pod", "metadata": {"name": f"cart{evil}\u202e", "namespace": f"shop{evil}",
                                             "labels": {"app": evil}}, "spec": {"containers": [{"name": "c"}]}})
        emu.add({"kind": "Pod", "metadata": {"name": f"bad{evil}", "namespace": f"shop{evil}", "labels": [1]}})
        kubeconfig = emu.kubeconfig(tmp_path / "kc", context=f"ctx{evil}")
        count("hostile names", 4)
        app = build_app(Settings(), backend=KubeBackend(kubeconfig=str(kubeconfig), request_timeout=5))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: "shop␛" in screen_text(app), timeout=10)
            await wait_for(pilot, lambda: "metadata.labels" in notices(app))
            text = screen_text(app)
            toasts = notices(app)
    bad = [line for line in (text + "\n" + toasts).splitlines() if not is_safe(line)]
    assert not bad, bad
    assert "ctx␛]0;pwned" in text and "shop␛]0;pwned" in text
    assert "Pod shop␛]0;pwned␇␛[2J/bad␛]0;pwned␇␛[2J: metadata.labels is list" in toasts

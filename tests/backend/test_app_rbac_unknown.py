"""The app as a namespace-scoped user, on the real KubeBackend over HTTP against the API emulator:
what RBAC hides shows as unknown, named once, and yields no finding."""

from __future__ import annotations

from meshtui.backend.kube import KubeBackend
from meshtui.config import Settings
from meshtui.demo.apiserver import Emulator
from meshtui.factory import build_app
from tests.ui.pilot import populated, screen_text, wait_for


async def test_scoped_user_sees_unknown_not_none(emulator: Emulator, kubeconfig: str, tmp_path,
                                                 monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    emulator.deny("list", "namespaces")
    emulator.deny("list", "peerauthentications", "istio-system")
    backend = KubeBackend(kubeconfig=kubeconfig, namespace="researchflow", request_timeout=5.0)
    app = build_app(Settings(namespace="researchflow"), backend=backend)
    try:
        async with app.run_test(size=(200, 40)) as pilot:
            await populated(pilot)
            await wait_for(pilot, lambda: "cannot read" in screen_text(app))
            text = screen_text(app)
            assert text.count("cannot read Namespace researchflow, PeerAuthentications in istio-system") == 1
            assert "(mesh policy unknown)" in text and "no mesh policy" not in text
            row = next(ln for ln in text.splitlines() if "researchflow " in ln and "✗3" in ln)
            assert "PERM? ✗3" in row and " ? " in row  # provisional mode, injection unknown (not "—")
            assert "P?" in text  # the sidecar pods' mode is provisional too
            codes = {f.code for f in app.report.findings}
            assert not codes & {"IST0102", "IST0103", "IST0123", "MT0010"}
    finally:
        backend.close()

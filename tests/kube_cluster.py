"""A cluster for tests: the in-process API server with Istio's real CRDs, seeded with objects, and
the real KubeBackend talking to it over HTTP — what the change, undo and CLI tests run against."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from meshtui.backend.kube import KubeBackend
from meshtui.demo.apiserver import Emulator
from tests.shared_fixtures import ISTIO_CRDS

TOKEN = "meshtui-test-token-do-not-print"
WRITES = {"POST": "create", "PUT": "replace", "PATCH": "patch", "DELETE": "delete"}


@contextmanager
def backend_on(server: Emulator, directory: Path) -> Iterator[KubeBackend]:
    """A KubeBackend on ``server`` over HTTP, through a kubeconfig written in ``directory``."""
    path = directory / "kubeconfig"
    server.kubeconfig(str(path), context="emulator")
    backend = KubeBackend(kubeconfig=str(path), request_timeout=5.0)
    try:
        yield backend
    finally:
        backend.close()


class Cluster(KubeBackend):
    """KubeBackend on its own API server; ``server`` is there to seed, inspect and fail on purpose."""

    def __init__(self, objects: Iterable[dict[str, Any]], directory: Path, *, context: str = "kind-test",
                 crds: Path | None = ISTIO_CRDS) -> None:
        self.server = Emulator(token=TOKEN, crds=crds)
        for obj in objects:
            self.server.add(obj)
        self.server.start()
        directory.mkdir(parents=True, exist_ok=True)
        path = self.server.kubeconfig(directory / f"kubeconfig-{context}", context=context)
        self.kubeconfig_path = str(path)
        super().__init__(kubeconfig=str(path), context=context, request_timeout=5.0)
        self.closed = False

    def close(self) -> None:
        """What a caller does when done with a backend; the server runs on until :meth:`stop`, so a
        test can still look at the cluster (a later call reconnects, as KubeBackend does)."""
        super().close()
        self.closed = True

    def stop(self) -> None:
        super().close()
        self.server.stop()

    @property
    def store(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Every stored object by (kind, namespace, name)."""
        return {(rt.kind, o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
                for rt in self.server.types for o in self.server.store.all(rt)}

    @property
    def calls(self) -> list[tuple[str, str, str, bool]]:
        """The writes the server received: (verb, kind, name, dry run)."""
        kinds = {rt.plural: rt.kind for rt in self.server.types}
        calls = []
        for r in self.server.requests:
            verb = WRITES.get(r.method)
            parts = r.path.strip("/").split("/")
            if verb is None or "selfsubjectaccessreviews" in parts:
                continue
            name = (r.body or {}).get("metadata", {}).get("name", "") if verb == "create" else parts[-1]
            plural = parts[-1] if verb == "create" else parts[-2]
            calls.append((verb, kinds.get(plural, plural), name, r.query.get("dryRun") == "All"))
        return calls

"""An in-process Kubernetes API server: the demo's cluster and the test suite's, over real HTTP."""

from meshtui.demo.apiserver.dataplane import DataPlane, ExecHandler
from meshtui.demo.apiserver.handler import Request
from meshtui.demo.apiserver.server import Emulator

__all__ = ["DataPlane", "Emulator", "ExecHandler", "Request"]

"""An in-process Kubernetes API server emulator for testing meshtui's KubeBackend over real HTTP."""

from tests.emulator.handler import ExecHandler, Request
from tests.emulator.server import Emulator

__all__ = ["Emulator", "ExecHandler", "Request"]

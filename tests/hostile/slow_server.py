"""Loopback servers that misbehave in time: drip a response one byte at a time, or never answer."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import yaml

from tests.hostile.counter import PLANTED_TOKEN


class SlowServer:
    """Accepts connections and answers every request with ``response``, ``delay`` s between bytes
    (``hang``: reads the request and never answers). Stop with close()."""

    def __init__(self, response: bytes = b"", *, delay: float = 0.2, hang: bool = False,
                 drip_from: int = 0) -> None:
        self.response = response
        self.delay = delay
        self.hang = hang
        self.drip_from = drip_from  # bytes sent at once before the drip starts (e.g. the headers)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if self.hang:
                    self.closed.wait()
                    return
                conn.sendall(self.response[: self.drip_from])
                for i in range(self.drip_from, len(self.response)):
                    if self.closed.wait(self.delay):
                        return
                    conn.sendall(self.response[i:i + 1])
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.sock.close()


def http_response(body: bytes, status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def kubeconfig(path: Path, server: str, user: dict | None = None) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "slow",
        "clusters": [{"name": "slow", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user or {"token": PLANTED_TOKEN}}],
        "contexts": [{"name": "slow", "context": {"cluster": "slow", "user": "u"}}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def elapsed(fn, *args) -> tuple[float, object]:
    started = time.monotonic()
    try:
        result: object = fn(*args)
    except Exception as exc:
        result = exc
    return time.monotonic() - started, result

"""``RemotePermissionChecker``'s ``timeout`` bounds a whole question on both shells: a decision point
that trickles its answer one byte at a time, never tripping a per-read timeout, is a deny after
about ``timeout`` seconds, not after the HTTP client's own retry deadline."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import midil_async
import midil_sync


class DrippingServer:
    """A raw HTTP server on 127.0.0.1: each connection gets a 200 head promising a 1000-byte JSON
    body, then one byte every 0.5 s, well inside any read timeout."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/decide"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _drip(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            while not self._stop.wait(0.5):
                conn.sendall(b" ")

    def stop(self) -> None:
        self._stop.set()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    server = DrippingServer()
    yield server
    server.stop()


@pytest.fixture(params=["sync", "async"])
def shell_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ask(shell_name: str, url: str, timeout: float) -> bool:
    """One question to ``url`` through a default ``HttpClient`` (its own deadline is 30 s)."""
    if shell_name == "sync":
        with midil_sync.HttpClient() as http:
            checker = midil_sync.RemotePermissionChecker(http, url, timeout=timeout)
            result: Any = checker.check("bearer.token", "doc", "read")
        return bool(result)

    async def main() -> bool:
        async with midil_async.HttpClient() as http:
            checker = midil_async.RemotePermissionChecker(http, url, timeout=timeout)
            return await checker.check("bearer.token", "doc", "read")

    return asyncio.run(main())


def test_a_trickled_answer_is_a_deny_within_the_timeout(
    shell_name: str, dripping: DrippingServer
) -> None:
    started = time.monotonic()
    allowed = ask(shell_name, dripping.url, timeout=1.0)
    elapsed = time.monotonic() - started
    assert allowed is False
    # About one second; the margin is for a loaded machine, far below the client's 30 s.
    assert elapsed < 4.0, f"the check took {elapsed:.1f} s"

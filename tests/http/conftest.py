"""A scriptable raw-socket HTTP/1.1 server for fault injection, and fixtures running both shells."""

from __future__ import annotations

import contextlib
import inspect
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import midil_async
import midil_sync


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    chunks: int = 1
    chunk_delay: float = 0.0


@dataclass
class Reset:
    """Read the request, then abort the connection with a TCP RST (no response at all)."""


@dataclass
class Hang:
    seconds: float


@dataclass
class Raw:
    """Read the request, send ``head`` at once and ``data`` with ``delay`` seconds between bytes,
    then close."""

    data: bytes
    delay: float = 0.0
    head: bytes = b""


Action = Reply | Reset | Hang | Raw


@dataclass
class FaultServer:
    """Serves on 127.0.0.1: each request takes the next queued action, else ``handler`` or ``default``."""

    Reply = Reply
    Reset = Reset
    Hang = Hang
    Raw = Raw

    default: Action = field(default_factory=Reply)
    handler: Callable[[Recorded], Action] | None = None
    requests: list[Recorded] = field(default_factory=list)
    tls: Any = None  # an ssl.SSLContext to serve HTTPS
    peer_certs: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: list[Action] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        # Short: Hypothesis prints fixtures of failing examples, and the request log only grows.
        return f"FaultServer(port={self.port}, requests={len(self.requests)})"

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def queue(self, *actions: Action) -> FaultServer:
        with self._lock:
            self._queue.extend(actions)
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()

    # -------------------------------------------------------------------------- serving

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(15)
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
            self.peer_certs.append(conn.getpeercert())  # type: ignore[attr-defined]
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                recorded = _read_request(reader)
                if recorded is None:
                    return
                with self._lock:
                    self.requests.append(recorded)
                    action = self._queue.pop(0) if self._queue else None
                if action is None:
                    action = self.handler(recorded) if self.handler else self.default
                if isinstance(action, Reset):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if isinstance(action, Hang):
                    self._stop.wait(action.seconds)
                    return
                if isinstance(action, Raw):
                    conn.sendall(action.head)
                    if not action.delay:
                        conn.sendall(action.data)
                        return
                    for i in range(len(action.data)):
                        if self._stop.wait(action.delay):
                            return
                        conn.sendall(action.data[i : i + 1])
                    return
                self._reply(conn, action, head_only=recorded.method == "HEAD")
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                reader.close()
                conn.close()

    def _reply(self, conn: socket.socket, reply: Reply, *, head_only: bool) -> None:
        lines = [f"HTTP/1.1 {reply.status} X"]
        lines += [f"{k}: {v}" for k, v in reply.headers]
        lines.append(f"Content-Length: {len(reply.body)}")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if head_only or not reply.body:
            return
        size = max(1, len(reply.body) // reply.chunks)
        for start in range(0, len(reply.body), size):
            if start and reply.chunk_delay and self._stop.wait(reply.chunk_delay):
                return
            conn.sendall(reply.body[start : start + size])


def _read_request(reader: Any) -> Recorded | None:
    line = reader.readline(65536)
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline(65536)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(reader.readline().split(b";")[0].strip(), 16)
            if size == 0:
                reader.readline()
                break
            parts.append(reader.read(size))
            reader.readline()
        body = b"".join(parts)
    elif "content-length" in headers:
        body = reader.read(int(headers["content-length"]))
    return Recorded(method, path, headers, body)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[[], FaultServer]]:
    made: list[FaultServer] = []

    def make() -> FaultServer:
        made.append(FaultServer())
        return made[-1]

    yield make
    for srv in made:
        srv.stop()


# ------------------------------------------------------------------------------ both shells


class AsAsync:
    """Presents a sync object with the async shell's interface (``await obj.method()``)."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, "close" if name == "aclose" else name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)

        return call

    def __repr__(self) -> str:
        return repr(self._target)


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(shell: str) -> AsyncIterator[Callable[..., Any]]:
    """``make("HttpClient", ...)`` builds the named class of the current shell, awaitable either way."""
    module = midil_sync if shell == "sync" else midil_async
    built: list[Any] = []

    def factory(name: str, *args: Any, **kwargs: Any) -> Any:
        args = tuple(a._target if isinstance(a, AsAsync) else a for a in args)
        kwargs = {k: v._target if isinstance(v, AsAsync) else v for k, v in kwargs.items()}
        obj = getattr(module, name)(*args, **kwargs)
        built.append(obj)
        return AsAsync(obj) if shell == "sync" else obj

    yield factory
    for obj in built:
        closer = getattr(obj, "aclose", None) or getattr(obj, "close", None)
        if closer is not None:
            result = closer()
            if inspect.isawaitable(result):
                await result

"""HttpClient.get against plain requests and plain httpx, small JSON from a fast local server.

The server is an asyncio raw-socket responder in a separate process, so neither the server nor the
GIL it would share is the bottleneck; both sides of each ratio talk to it over keep-alive.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import requests
from harness import Figure, per_call, print_figures

import midil_async
import midil_sync

SERVER = r"""
import asyncio, sys
BODY = b'{"id":1,"name":"widget","tags":["a","b"],"price":9.5}'
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
         + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)

class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        n = self.buffer.count(b"\r\n\r\n")
        if n:
            self.buffer = self.buffer.rsplit(b"\r\n\r\n", 1)[1]
            self.transport.write(REPLY * n)

async def main():
    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

BATCH = 50
ROUNDS = 6  # interleaved; the best of each side is kept, so load spikes hit neither alone


def _async_per_call(loop: asyncio.AbstractEventLoop, get: Callable[[], object]) -> float:
    async def batch() -> None:
        for _ in range(BATCH):
            await get()  # type: ignore[misc]

    return per_call(lambda: loop.run_until_complete(batch()), min_time=0.3) / BATCH


def main() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{proc.stdout.readline().strip()}/items/1"
        figures: list[Figure] = []

        session = requests.Session()
        client = midil_sync.HttpClient()
        assert client.get(url).json() == session.get(url).json()
        for _ in range(200):  # warm both pools and code paths
            session.get(url)
            client.get(url)
        # Interleaved rounds, best of each, so drift on a shared machine hits both sides alike.
        ours = anchor = float("inf")
        for _ in range(ROUNDS):
            anchor = min(anchor, per_call(lambda: session.get(url), min_time=0.3))
            ours = min(ours, per_call(lambda: client.get(url), min_time=0.3))
        figures.append(
            Figure(
                "midil_sync.HttpClient.get (small JSON)",
                ours,
                "requests.Session().get",
                anchor,
                goal="<= 1.10",
            )
        )
        session.close()
        client.close()

        loop = asyncio.new_event_loop()
        plain = httpx.AsyncClient()
        aclient = midil_async.HttpClient()

        async def warm() -> None:
            for _ in range(200):
                await plain.get(url)
                await aclient.get(url)

        loop.run_until_complete(warm())
        ours = anchor = float("inf")
        for _ in range(ROUNDS):
            anchor = min(anchor, _async_per_call(loop, lambda: plain.get(url)))
            ours = min(ours, _async_per_call(loop, lambda: aclient.get(url)))
        figures.append(
            Figure(
                "midil_async.HttpClient.get (small JSON)",
                ours,
                "httpx.AsyncClient().get",
                anchor,
                goal="<= 1.05",
            )
        )
        loop.run_until_complete(plain.aclose())
        loop.run_until_complete(aclient.aclose())
        loop.close()
        print_figures("http: client overhead on a keep-alive loopback round trip", figures)
    finally:
        proc.kill()
        proc.wait()
        time.sleep(0)


if __name__ == "__main__":
    main()

"""Dispatch events in process; a handler calls a service with the correlation id carried along."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import midil_async
import midil_sync
from midil_common.events import Event, current_context, event_context


def start_service() -> tuple[ThreadingHTTPServer, list[dict[str, str]]]:
    """A "shipping" service that records the tracing headers of each request it receives."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append(
                {
                    "X-Correlation-ID": self.headers.get("X-Correlation-ID", "-"),
                    "traceparent": self.headers.get("traceparent", "-"),
                }
            )
            body = json.dumps({"shipment": len(seen)}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def main() -> None:
    service, seen = start_service()
    base = f"http://127.0.0.1:{service.server_address[1]}"
    try:
        # Sync: handlers run on the dispatcher's thread pool, inside the publisher's context.
        dispatcher = midil_sync.EventDispatcher(source="demo/orders")
        shipping = midil_sync.HttpClient(base)

        @dispatcher.on("order.*")
        def ship(event: Event) -> None:
            shipping.post("/shipments", json={"order": event.data["id"]})
            print(f"sync  handler: {event.type} in context {current_context().correlation_id}")

        with dispatcher, event_context(correlation_id="order-flow-1"):
            dispatcher.notify("order.created", {"id": 1})
        shipping.close()

        # Async: the same, with tasks; a plain function handler would run in a thread.
        async def run_async() -> None:
            dispatcher = midil_async.EventDispatcher(source="demo/orders")
            async with midil_async.HttpClient(base) as shipping:

                @dispatcher.on("order.created")
                async def ship(event: Event) -> None:
                    await shipping.post("/shipments", json={"order": event.data["id"]})
                    print(
                        f"async handler: {event.type} in context {current_context().correlation_id}"
                    )

                async with dispatcher, event_context(correlation_id="order-flow-2"):
                    await dispatcher.notify("order.created", {"id": 2})

        asyncio.run(run_async())
        for headers in seen:
            print(
                f"shipping service saw X-Correlation-ID={headers['X-Correlation-ID']}"
                f" traceparent={headers['traceparent']}"
            )

        ticks: list[int] = []
        with midil_sync.PeriodicTask(
            lambda: ticks.append(len(ticks)), interval=0.05, run_immediately=True, max_runs=3
        ) as task:
            while task.runs < 3:
                threading.Event().wait(0.01)
        print(f"periodic task ran {len(ticks)} times, never overlapping itself")
    finally:
        service.shutdown()
        service.server_close()


if __name__ == "__main__":
    main()

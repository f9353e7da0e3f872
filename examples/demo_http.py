"""Call a local service with a service token from LocalIssuer, retries included (sync and async)."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import midil_async
import midil_sync
from midil_common.errors import InvalidTokenError
from midil_common.http import RetryPolicy
from midil_common.testing import LocalIssuer

AUDIENCE = "orders-api"


def start_service(issuer: LocalIssuer) -> tuple[ThreadingHTTPServer, dict[str, int]]:
    """An "orders" service that verifies bearer tokens; its 1st and 3rd requests get a 503."""
    authorizer = midil_sync.JWTAuthorizer(issuer.url, audience=AUDIENCE)
    stats = {"requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                stats["requests"] += 1
                flaky = stats["requests"] in (1, 3)
            if flaky:
                return self.reply(503, {"error": "warming up"}, {"Retry-After": "0"})
            header = self.headers.get("Authorization", "")
            try:
                claims = authorizer.verify(header.removeprefix("Bearer "))
            except InvalidTokenError as exc:
                return self.reply(401, {"error": type(exc).__name__})
            self.reply(
                200,
                {
                    "orders": [{"id": 1, "item": "widget"}],
                    "caller": claims.sub,
                    "scopes": sorted(claims.scopes),
                },
            )

        def reply(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stats


def main() -> None:
    with LocalIssuer(audience=AUDIENCE) as issuer:
        issuer.register_client("billing-service", "billing-secret", scopes=["orders:read"])
        service, stats = start_service(issuer)
        base = f"http://127.0.0.1:{service.server_address[1]}/api"
        retry = RetryPolicy(backoff_initial=0.05)
        try:
            provider = midil_sync.ClientCredentialsProvider(
                issuer.token_url, "billing-service", "billing-secret", scope="orders:read"
            )
            with midil_sync.HttpClient(base, auth=provider, retry=retry) as client:
                result = client.send_request("GET", "orders")
            provider.close()
            print(f"sync : {result}")
            print(
                f"       {stats['requests']} service attempts (one 503 retried), "
                f"{issuer.request_count('token')} token request, provider={provider!r}"
            )

            async def call() -> Any:
                async with (
                    midil_async.ClientCredentialsProvider(
                        issuer.token_url, "billing-service", "billing-secret", scope="orders:read"
                    ) as aprovider,
                    midil_async.HttpClient(base, auth=aprovider, retry=retry) as aclient,
                ):
                    results = await asyncio.gather(*(aclient.get("orders") for _ in range(10)))
                    return [r.status_code for r in results], (
                        await aclient.send_request("GET", "orders")
                    )

            statuses, doc = asyncio.run(call())
            print(f"async: 10 concurrent calls -> {statuses} (one 503 retried)")
            print(f"       {doc}")
            print(f"       {issuer.request_count('token')} token requests in total (1 per shell)")
        finally:
            service.shutdown()
            service.server_close()


if __name__ == "__main__":
    main()

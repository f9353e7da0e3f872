"""FastAPI measured in process, without the test client (which costs about 1.5 ms a request and
hides the adapter): the ASGI app is called directly, in one event loop.

Three routes serve the same JSON:API document: open; behind a bare ``Security(HTTPBearer())`` that
reads the header and verifies nothing (the ceiling: what any bearer dependency costs); and behind
the kit's ``Authenticated`` with default settings (the verified-token cache on, as a client that
reuses its token meets it). Goal: ours at least 0.9 of the ceiling's throughput.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime, and
# they name local dependencies.
import asyncio
from typing import Annotated, Any

from bench_adapters import QUERY, RULES, document
from fastapi import Depends, FastAPI, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from harness import Figure, alternating, print_figures

from midil_async import JWTAuthorizer
from midil_async.fastapi import Authenticated, JSONAPIResponse, jsonapi_query
from midil_common.testing import LocalIssuer

BATCH = 200


def build(authorizer: JWTAuthorizer) -> FastAPI:
    app = FastAPI()
    query_dependency = jsonapi_query(**RULES)
    auth = Authenticated(authorizer)
    bearer = HTTPBearer()

    @app.get("/open/x")
    async def open_view(query: Annotated[Any, Depends(query_dependency)]) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    @app.get("/bearer/x")
    async def bearer_view(
        credentials: Annotated[HTTPAuthorizationCredentials, Security(bearer)],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    @app.get("/protected/x")
    async def protected_view(
        claims: Annotated[Any, Security(auth, scopes=["articles:read"])],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    return app


def caller(app: FastAPI, loop: asyncio.AbstractEventLoop, prefix: str, token: str) -> Any:
    """A function that sends :data:`BATCH` requests to ``prefix`` through the ASGI interface."""
    path, _, query = (prefix + QUERY).partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def one() -> None:
        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(dict(scope), receive, send)
        assert status == [200], status

    async def batch() -> None:
        for _ in range(BATCH):
            await one()

    return lambda: loop.run_until_complete(batch())


def main() -> None:
    loop = asyncio.new_event_loop()
    with LocalIssuer(audience="bench") as issuer:
        token = issuer.mint("alice", scope="articles:read")
        authorizer = JWTAuthorizer(issuer.issuer, audience="bench")
        loop.run_until_complete(authorizer.hydrate())
        app = build(authorizer)
        runs = [caller(app, loop, prefix, token) for prefix in ("/open", "/bearer", "/protected")]
        for run in runs:
            run()
        open_t, bearer_t, ours_t = (t / BATCH for t in alternating(runs, rounds=12, min_time=0.2))
        loop.run_until_complete(authorizer.aclose())
    loop.close()
    print_figures(
        "fastapi in process (no test client), default settings",
        [
            Figure(
                "protected by Authenticated",
                ours_t,
                "bare Security(HTTPBearer())",
                bearer_t,
                goal="throughput >= 0.9 of the ceiling (ratio <= 1.11)",
            ),
            Figure("bare Security(HTTPBearer())", bearer_t, "unprotected", open_t),
        ],
    )
    print(
        f"  throughput: ours / ceiling = {bearer_t / ours_t:.3f} (goal >= 0.9); "
        f"ceiling / open = {open_t / bearer_t:.3f}; ours / open = {open_t / ours_t:.3f}"
    )


if __name__ == "__main__":
    main()

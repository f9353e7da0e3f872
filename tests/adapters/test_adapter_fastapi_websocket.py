"""The pure-ASGI AuthMiddleware guards websocket handshakes too, never letting one through unchecked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.types import Receive, Scope, Send

from midil_async import JWTAuthorizer
from midil_async.fastapi import AuthMiddleware
from midil_common.testing import LocalIssuer

JSONAPI = "application/vnd.api+json"


def _app(issuer: LocalIssuer) -> FastAPI:
    app = FastAPI()
    app.add_middleware(
        AuthMiddleware,
        authorizer=JWTAuthorizer(issuer.issuer, audience="articles-api"),
        realm="ws",
        excluded_paths=["/public"],
    )

    @app.websocket("/feed")
    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"sub": websocket.state.claims.sub})
        await websocket.close()

    @app.websocket("/public")
    async def public(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"claims": getattr(websocket.state, "claims", None)})
        await websocket.close()

    return app


@pytest.fixture(scope="module")
def client(issuer: LocalIssuer) -> Iterator[TestClient]:
    with TestClient(_app(issuer)) as test_client:
        yield test_client


def test_a_valid_token_opens_the_socket_with_claims(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['read']}"}
    with client.websocket_connect("/feed", headers=headers) as ws:
        assert ws.receive_json() == {"sub": "user"}


@pytest.mark.parametrize(
    ("token", "challenge"),
    [
        (None, 'Bearer realm="ws"'),
        ("expired", 'Bearer realm="ws", error="invalid_token"'),
        ("tampered", 'Bearer realm="ws", error="invalid_token"'),
    ],
)
def test_a_refused_handshake_gets_the_http_401(
    client: TestClient, tokens: dict[str, str], token: str | None, challenge: str
) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {tokens[token]}"}
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("/feed", headers=headers),
    ):
        pass
    denied = info.value
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"].startswith(challenge)
    assert denied.headers["content-type"] == JSONAPI
    assert json.loads(denied.content)["errors"][0]["status"] == "401"


def test_excluded_paths_stay_open(client: TestClient) -> None:
    with client.websocket_connect("/public") as ws:
        assert ws.receive_json() == {"claims": None}


async def test_servers_without_denial_responses_get_a_policy_close(issuer: LocalIssuer) -> None:
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["type"])

    middleware = AuthMiddleware(app, JWTAuthorizer(issuer.issuer, audience="articles-api"))
    sent: list[dict[str, object]] = []
    inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, object]:
        return inbox.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/feed", "headers": [], "extensions": {}}
    await middleware(scope, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == []

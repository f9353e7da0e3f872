"""Fixtures for the user-session tests: both shells driven by one test body, moto's Cognito, and a
scripted Cognito stand-in on loopback for what moto cannot do."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

import midil_async
import midil_sync
from midil_common.aws_errors import AWSRetryPolicy
from midil_common.testing import LocalIssuer
from midil_common.testing.aws import MotoServer

# moto answers unsigned requests (Cognito's user operations: GlobalSignOut, GetUser, ...) from its
# us-east-1 backend whatever the pool's region, so the pools of these tests live there.
REGION = "us-east-1"
FAST_RETRY = AWSRetryPolicy(max_attempts=3, backoff_initial=0.0, jitter=False)


class Shell:
    """One shell's classes, with ``run`` turning either shell's call into its result."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod: Any = midil_sync if name == "sync" else midil_async
        self.runner = asyncio.Runner() if name == "async" else None
        self._made: list[Any] = []

    @property
    def is_async(self) -> bool:
        return self.runner is not None

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.runner is not None
            return self.runner.run(_awaited(value))
        return value

    def make(self, name: str, *args: Any, **kwargs: Any) -> Any:
        obj = getattr(self.mod, name)(*args, **kwargs)
        self._made.append(obj)
        return obj

    def many(self, count: int, call: Callable[[int], Any]) -> list[Any]:
        """``call(i)`` for every ``i`` at once: threads (sync) or tasks (async); results or errors."""
        if not self.is_async:
            results: list[Any] = [None] * count
            barrier = threading.Barrier(count)

            def work(i: int) -> None:
                barrier.wait()
                try:
                    results[i] = call(i)
                except Exception as exc:
                    results[i] = exc

            threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            return results

        async def main() -> list[Any]:
            return list(
                await asyncio.gather(*(call(i) for i in range(count)), return_exceptions=True)
            )

        assert self.runner is not None
        return self.runner.run(main())

    def close(self) -> None:
        for obj in reversed(self._made):
            closer = getattr(obj, "aclose", None) or getattr(obj, "close", None)
            if closer is not None:
                self.run(closer())
        if self.runner is not None:
            self.runner.close()


async def _awaited(value: Any) -> Any:
    return await value


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> Iterator[Shell]:
    driver = Shell(str(request.param))
    yield driver
    driver.close()


# ------------------------------------------------------------------------------- moto Cognito


@pytest.fixture(scope="module")
def cognito(moto_server: MotoServer) -> dict[str, Any]:
    """A pool signing in by e-mail and an app client allowing USER_PASSWORD_AUTH, on moto."""
    admin = boto3.client("cognito-idp", **moto_server.client_kwargs(REGION))
    pool = admin.create_user_pool(
        PoolName=f"pool-{uuid.uuid4().hex[:6]}", UsernameAttributes=["email"]
    )["UserPool"]["Id"]
    app = admin.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return {
        "admin": admin,
        "pool_id": pool,
        "client_id": app,
        "endpoint_url": moto_server.endpoint_url,
        "jwks_url": f"{moto_server.endpoint_url}/{pool}/.well-known/jwks.json",
    }


# -------------------------------------------------------------------------- Cognito stand-in

Reply = tuple[int, dict[str, Any]]


class CognitoStandIn:
    """Speaks Cognito's JSON protocol on 127.0.0.1: ``X-Amz-Target:
    AWSCognitoIdentityProviderService.<Operation>``, ``application/x-amz-json-1.1`` bodies, errors
    as 400 ``{"__type": ..., "message": ...}``. Each operation answers from ``script`` (a reply or
    a callable of the request body), else from the built-in behaviour below; tokens are minted by a
    ``LocalIssuer``. ``counts`` counts operations (``InitiateAuth:REFRESH_TOKEN_AUTH``, ...)."""

    POOL_ID = "us-east-1_StandIn1"
    CLIENT_ID = "standin-app"

    def __init__(self, issuer: LocalIssuer) -> None:
        self.issuer = issuer
        self.script: dict[str, Reply | Callable[[dict[str, Any]], Reply]] = {}
        self.counts: Counter[str] = Counter()
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.login_ttl = 3600
        self.refresh_ttl = 3600
        self.refresh_delay = 0.0
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                target = self.headers.get("X-Amz-Target", "")
                operation = target.rpartition(".")[2]
                status, doc = stand_in.answer(operation, body)
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def count(self, key: str) -> int:
        with self._lock:
            return self.counts[key]

    def answer(self, operation: str, body: dict[str, Any]) -> Reply:
        key = operation
        if operation == "InitiateAuth":
            key = f"InitiateAuth:{body.get('AuthFlow')}"
        with self._lock:
            self.counts[key] += 1
            self.bodies.append((key, body))
            scripted = self.script.get(key) or self.script.get(operation)
        if scripted is not None:
            return scripted(body) if callable(scripted) else scripted
        return self.default(key, body)

    def tokens(self, username: str, ttl: int) -> dict[str, Any]:
        claims = {"token_use": "access", "client_id": self.CLIENT_ID, "username": username}
        return {
            "AccessToken": self.issuer.mint(sub=f"sub-{username}", aud=None, claims=claims),
            "IdToken": self.issuer.mint(sub=f"sub-{username}", aud=self.CLIENT_ID),
            "ExpiresIn": ttl,
            "TokenType": "Bearer",
        }

    def default(self, key: str, body: dict[str, Any]) -> Reply:
        if key == "InitiateAuth:USER_PASSWORD_AUTH":
            username = body["AuthParameters"]["USERNAME"]
            result = {**self.tokens(username, self.login_ttl), "RefreshToken": f"rt-{username}"}
            return 200, {"AuthenticationResult": result}
        if key == "InitiateAuth:REFRESH_TOKEN_AUTH":
            if self.refresh_delay:
                threading.Event().wait(self.refresh_delay)
            username = body["AuthParameters"]["REFRESH_TOKEN"].removeprefix("rt-")
            return 200, {"AuthenticationResult": self.tokens(username, self.refresh_ttl)}
        if key == "GetUser":
            from midil_common.auth.cognito_flows import token_username

            username = token_username(body["AccessToken"]) or ""
            attributes = [
                {"Name": "sub", "Value": f"sub-{username}"},
                {"Name": "email", "Value": username},
            ]
            return 200, {"Username": username, "UserAttributes": attributes}
        if key == "ResendConfirmationCode":
            details = {
                "Destination": "a***@e***",
                "DeliveryMedium": "EMAIL",
                "AttributeName": "email",
            }
            return 200, {"CodeDeliveryDetails": details}
        if key in ("GlobalSignOut", "RevokeToken", "ConfirmSignUp", "ConfirmForgotPassword"):
            return 200, {}
        return 400, {"__type": "InvalidParameterException", "message": f"not scripted: {key}"}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def standin(local_issuer: LocalIssuer) -> Iterator[CognitoStandIn]:
    server = CognitoStandIn(local_issuer)
    yield server
    server.stop()


@pytest.fixture
def standin_client(shell: Shell, standin: CognitoStandIn, local_issuer: LocalIssuer) -> Any:
    """A ``CognitoUserClient`` of the stand-in; its tokens are verified against the LocalIssuer."""
    authorizer = shell.make("JWTAuthorizer", local_issuer.url)
    return shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        endpoint_url=standin.endpoint_url,
        authorizer=authorizer,
        retry=FAST_RETRY,
    )

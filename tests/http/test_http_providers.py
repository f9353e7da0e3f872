"""Token providers against the project's LocalIssuer (and a raw server for odd endpoints)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from urllib.parse import parse_qs

import pytest

import midil_async
import midil_sync
from midil_common.auth.oauth import TOKEN_RETRY_POLICY
from midil_common.errors import ConfigError, TokenRequestError
from midil_common.http import RetryPolicy
from midil_common.settings import load_settings
from midil_common.testing import LocalIssuer

FAST = RetryPolicy(sleep=False)


@pytest.fixture
def issuer(local_issuer: LocalIssuer) -> LocalIssuer:
    local_issuer.register_client("svc", "s3cret-value", scopes=["orders:read", "orders:write"])
    return local_issuer


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_first_fetch_then_reuse(make: Any, issuer: LocalIssuer, method: str) -> None:
    provider = make(
        "ClientCredentialsProvider",
        issuer.token_url,
        "svc",
        "s3cret-value",
        scope=["orders:read"],
        auth_method=method,
    )
    assert issuer.request_count("token") == 0  # nothing fetched before first use
    first = await provider.get_token()
    headers = await provider.get_headers()
    again = await provider.get_token()
    assert first == again
    assert headers == {"Authorization": f"Bearer {first.access_token}"}
    assert first.scope == "orders:read"
    assert issuer.request_count("token") == 1
    record = issuer.token_requests[0]
    assert record["auth_method"] == method and record["scope"] == "orders:read"
    assert record["grant_type"] == "client_credentials"


async def test_refresh_before_expiry(make: Any, local_issuer: LocalIssuer) -> None:
    local_issuer.register_client("short", "pw", token_ttl=100)
    clock = Clock(1_000_000.0)
    provider = make("ClientCredentialsProvider", local_issuer.token_url, "short", "pw", clock=clock)
    token = await provider.get_token()
    assert token.expires_at == 1_000_100.0
    clock.now += 89  # leeway min(60 s, 10 % of 100 s) = 10 s: still fresh
    assert await provider.get_token() == token
    assert local_issuer.request_count("token") == 1
    clock.now += 2
    await provider.get_token()
    assert local_issuer.request_count("token") == 2


async def test_explicit_refresh_leeway(make: Any, local_issuer: LocalIssuer) -> None:
    local_issuer.register_client("c", "pw", token_ttl=3600)
    clock = Clock(5_000.0)
    provider = make(
        "ClientCredentialsProvider",
        local_issuer.token_url,
        "c",
        "pw",
        clock=clock,
        refresh_leeway=600,
    )
    await provider.get_token()
    clock.now += 2999
    await provider.get_token()
    assert local_issuer.request_count("token") == 1
    clock.now += 2
    await provider.get_token()
    assert local_issuer.request_count("token") == 2


async def test_wrong_secret_gives_token_request_error(make: Any, issuer: LocalIssuer) -> None:
    provider = make("ClientCredentialsProvider", issuer.token_url, "svc", "wrong-secret-xyz")
    with pytest.raises(TokenRequestError) as info:
        await provider.get_headers()
    error = info.value
    assert error.error == "invalid_client" and error.status_code == 401
    assert error.error_description == "client authentication failed"
    assert "wrong-secret-xyz" not in str(error) + repr(error) + repr(provider)
    assert issuer.request_count("token") == 1  # a 4xx answer is not retried


async def test_invalid_scope(make: Any, issuer: LocalIssuer) -> None:
    provider = make(
        "ClientCredentialsProvider", issuer.token_url, "svc", "s3cret-value", scope="admin"
    )
    with pytest.raises(TokenRequestError) as info:
        await provider.get_token()
    assert info.value.error == "invalid_scope" and info.value.status_code == 400


async def test_token_endpoint_5xx_is_retried(make: Any, issuer: LocalIssuer) -> None:
    issuer.fail("token", 503, times=1)
    provider = make("ClientCredentialsProvider", issuer.token_url, "svc", "s3cret-value")
    assert (await provider.get_token()).access_token
    assert issuer.request_count("token") == 2


async def test_unreachable_token_endpoint(make: Any) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make(
        "ClientCredentialsProvider",
        f"http://127.0.0.1:{port}/token",
        "svc",
        "pw",
        retry=TOKEN_RETRY_POLICY.replace(sleep=False),
    )
    with pytest.raises(TokenRequestError) as info:
        await provider.get_token()
    assert "cannot reach" in str(info.value)


async def test_401_refetches_once_and_repeats_once(
    make: Any, issuer: LocalIssuer, server: Any
) -> None:
    provider = make("ClientCredentialsProvider", issuer.token_url, "svc", "s3cret-value")
    server.queue(server.Reply(401))
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    response = await client.get(server.url("/orders"))
    assert response.status_code == 200
    assert server.count == 2
    assert issuer.request_count("token") == 2
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in server.requests)


async def test_persistent_401_stops_after_one_repeat(
    make: Any, issuer: LocalIssuer, server: Any
) -> None:
    provider = make("ClientCredentialsProvider", issuer.token_url, "svc", "s3cret-value")
    server.default = server.Reply(401)
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    assert (await client.get(server.url())).status_code == 401
    assert server.count == 2 and issuer.request_count("token") == 2


async def test_scope_audience_resource_sent_on_every_fetch(make: Any, server: Any) -> None:
    token_doc = json.dumps({"access_token": "abc", "token_type": "bearer"}).encode()
    server.default = server.Reply(200, body=token_doc)
    provider = make(
        "ClientCredentialsProvider",
        server.url("/token"),
        "id with space",
        "p@ss:word",
        scope="a b",
        audience="https://api",
        resource="urn:orders",
    )
    token = await provider.get_token()
    assert token.expires_at is None and token.authorization_header() == "Bearer abc"
    await provider.invalidate()
    await provider.get_token()
    assert server.count == 2
    for recorded in server.requests:
        form = {k: v[0] for k, v in parse_qs(recorded.body.decode()).items()}
        assert form == {
            "grant_type": "client_credentials",
            "scope": "a b",
            "audience": "https://api",
            "resource": "urn:orders",
        }
        # RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
        import base64

        basic = base64.b64decode(recorded.headers["authorization"][6:]).decode()
        assert basic == "id+with+space:p%40ss%3Aword"


async def test_token_without_expires_in_uses_the_fallback_lifetime(make: Any, server: Any) -> None:
    server.default = server.Reply(200, body=b'{"access_token":"abc"}')
    clock = Clock(100.0)
    provider = make("ClientCredentialsProvider", server.url("/t"), "id", "pw", clock=clock)
    await provider.get_token()
    clock.now += 269  # fallback 300 s, leeway 30 s
    await provider.get_token()
    assert server.count == 1
    clock.now += 2
    await provider.get_token()
    assert server.count == 2


async def test_garbage_token_response(make: Any, server: Any) -> None:
    server.default = server.Reply(200, body=b"<html>", headers=(("Content-Type", "text/html"),))
    provider = make("ClientCredentialsProvider", server.url("/t"), "id", "pw")
    with pytest.raises(TokenRequestError, match="invalid response"):
        await provider.get_token()


def test_64_threads_cause_one_token_request(issuer: LocalIssuer) -> None:
    issuer.fault("token", status=None, delay=0.2)  # keeps the fetch in flight while all ask
    provider = midil_sync.ClientCredentialsProvider(issuer.token_url, "svc", "s3cret-value")
    barrier = threading.Barrier(64)
    tokens: list[str] = []

    def ask() -> None:
        barrier.wait()
        tokens.append(provider.get_headers()["Authorization"])

    threads = [threading.Thread(target=ask) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    provider.close()
    assert len(tokens) == 64 and len(set(tokens)) == 1
    assert issuer.request_count("token") == 1


async def test_1000_tasks_cause_one_token_request(issuer: LocalIssuer) -> None:
    issuer.fault("token", status=None, delay=0.2)
    async with midil_async.ClientCredentialsProvider(
        issuer.token_url, "svc", "s3cret-value"
    ) as provider:
        headers = await asyncio.gather(*(provider.get_headers() for _ in range(1000)))
    assert len({h["Authorization"] for h in headers}) == 1
    assert issuer.request_count("token") == 1


async def test_a_failed_fetch_is_shared_then_forgotten(issuer: LocalIssuer) -> None:
    issuer.fault("token", status=400, body={"error": "invalid_request"}, delay=0.1, times=1)
    async with midil_async.ClientCredentialsProvider(
        issuer.token_url, "svc", "s3cret-value"
    ) as provider:
        results = await asyncio.gather(
            *(provider.get_token() for _ in range(50)), return_exceptions=True
        )
        assert all(isinstance(r, TokenRequestError) for r in results)
        assert (await provider.get_token()).access_token
    assert issuer.request_count("token") == 2


async def test_cognito_preset_accepts_a_full_url(make: Any, issuer: LocalIssuer) -> None:
    provider = make(
        "CognitoClientCredentialsAuthenticator",
        "svc",
        "s3cret-value",
        issuer.url,
        scope="orders:write",
    )
    assert provider.token_url == issuer.token_url
    token = await provider.get_token()
    assert token.scope == "orders:write"
    assert issuer.token_requests[0]["auth_method"] == "client_secret_basic"


def test_cognito_domain_gives_the_oauth2_token_url() -> None:
    provider = midil_sync.CognitoClientCredentialsAuthenticator(
        "id", "secret", "my-app.auth.eu-west-1.amazoncognito.com"
    )
    assert provider.token_url == "https://my-app.auth.eu-west-1.amazoncognito.com/oauth2/token"
    provider.close()


async def test_static_and_api_key_providers(make: Any, server: Any) -> None:
    static = make("StaticTokenProvider", "t0k")
    key = make("APIKeyProvider", "k3y", header="X-Key")
    assert await static.get_headers() == {"Authorization": "Bearer t0k"}
    assert await key.get_headers() == {"X-Key": "k3y"}
    await static.invalidate()
    await key.invalidate()
    with pytest.raises(ConfigError):
        make("APIKeyProvider", "")
    with pytest.raises(ConfigError):
        make("StaticTokenProvider", "")


async def test_from_settings(
    make: Any, issuer: LocalIssuer, server: Any, monkeypatch: Any, shell: str
) -> None:
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__TOKEN_URL", issuer.token_url)
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_ID", "svc")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__SCOPE", "orders:read")
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATTEMPTS", "2")
    module = midil_sync if shell == "sync" else midil_async
    provider = module.ClientCredentialsProvider.from_settings()
    client = module.HttpClient.from_settings(base_url=server.url("/api"), auth=provider)
    assert client.retry.max_attempts == 2
    wrapped = make("HttpClient")  # registers nothing used; keeps fixture cleanup uniform
    assert wrapped is not None
    server.default = server.Reply(503)
    if shell == "sync":
        response = client.get("x")
        client.close()
        provider.close()
    else:
        response = await client.get("x")
        await client.aclose()
        await provider.aclose()
    assert response.status_code == 503
    assert server.count == 2 and server.requests[0].path == "/api/x"
    assert issuer.token_requests[0]["scope"] == "orders:read"
    monkeypatch.delenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET")
    with pytest.raises(ConfigError) as info:
        module.ClientCredentialsProvider.from_settings(load_settings())
    assert info.value.variable == "MIDIL_SERVICE_AUTH__CLIENT_SECRET"

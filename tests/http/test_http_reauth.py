"""Requests refused together (401) cost one fresh token, not one per request, in both shells."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import midil_async
import midil_sync
from midil_common.http import RetryPolicy
from midil_common.testing import LocalIssuer

CONCURRENT = 16


@pytest.fixture
def service() -> Iterator[tuple[HTTPServer, set[str]]]:
    """A service that refuses the tokens in ``revoked`` and counts nothing else."""
    revoked: set[str] = set()
    server = HTTPServer(host="127.0.0.1", threaded=True)

    def handler(request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in revoked:
            return Response("revoked", status=401)
        return Response('{"ok": true}', status=200, content_type="application/json")

    server.expect_request("/orders").respond_with_handler(handler)
    server.start()
    yield server, revoked
    server.clear()
    server.stop()


@pytest.fixture
def issuer(local_issuer: LocalIssuer) -> LocalIssuer:
    local_issuer.register_client("svc", "s3cret-value", scopes=["orders:read"])
    return local_issuer


def test_sync_requests_refused_together_fetch_one_new_token(
    issuer: LocalIssuer, service: tuple[HTTPServer, set[str]]
) -> None:
    server, revoked = service
    provider = midil_sync.ClientCredentialsProvider(issuer.token_url, "svc", "s3cret-value")
    with midil_sync.HttpClient(
        server.url_for("/"), auth=provider, retry=RetryPolicy(sleep=False)
    ) as client:
        revoked.add(provider.get_token().access_token)
        with ThreadPoolExecutor(CONCURRENT) as pool:
            statuses = list(
                pool.map(lambda _: client.get(server.url_for("/orders")).status_code, range(32))
            )
    assert statuses == [200] * 32
    assert issuer.request_count("token") == 2  # the revoked token and exactly one fresh one


async def test_async_requests_refused_together_fetch_one_new_token(
    issuer: LocalIssuer, service: tuple[HTTPServer, set[str]]
) -> None:
    server, revoked = service
    provider = midil_async.ClientCredentialsProvider(issuer.token_url, "svc", "s3cret-value")
    async with midil_async.HttpClient(
        server.url_for("/"), auth=provider, retry=RetryPolicy(sleep=False)
    ) as client:
        revoked.add((await provider.get_token()).access_token)
        responses = await asyncio.gather(
            *(client.get(server.url_for("/orders")) for _ in range(32))
        )
    await provider.aclose()
    assert [r.status_code for r in responses] == [200] * 32
    assert issuer.request_count("token") == 2

"""Random status lines, headers and bodies from a raw socket server: whatever a server sends, only
``midil_common.errors`` classes escape the HTTP client, the token provider and the authorizer, in
both shells."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import midil_async
import midil_sync
from midil_common.errors import MidilError
from midil_common.http import RetryPolicy, Timeout

from .conftest import FaultServer

STATUS_LINES = st.one_of(
    st.sampled_from(
        [
            b"HTTP/1.1 200 OK",
            b"HTTP/1.1 302 Found",
            b"HTTP/1.1 503 Busy",
            b"HTTP/1.1 429 Slow",
            b"HTTP/1.1 401 No",
            b"HTTP/1.0 200 OK",
            b"HTTP/1.1 999 X",
            b"HTTP/1.1 20 X",
            b"HTTP/1.1 -1 X",
            b"HTTP/1.1 " + b"9" * 5000 + b" X",
            b"HTTX/1.1 200 OK",
            b"HTTP/1.1 200",
            b"",
        ]
    ),
    st.binary(max_size=40),
)

HEADER_NAMES = st.sampled_from(
    [
        b"Content-Length",
        b"Retry-After",
        b"Location",
        b"Transfer-Encoding",
        b"Content-Encoding",
        b"Content-Type",
        b"Cache-Control",
        b"Set-Cookie",
        b"X-\xff",
        b"Bad Name",
        b"",
    ]
)

HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            b"9" * 5000,
            "\u0663".encode(),
            b"\xb2",
            b"-1",
            b"0",
            b"5, 6",
            b"chunked",
            b"gzip",
            b"deflate, gzip",
            b"http://[",
            b"/\xff",
            b"javascript:x",
            b"http://127.0.0.1:99999/",
            b"/next",
            b"\\\\evil/",
            b"Mon, 99 Foo 9999 99:99:99 GMT",
            b"application/json; charset=nope",
            b"max-age=" + b"9" * 5000,
        ]
    ),
    st.binary(max_size=30).filter(lambda v: b"\r" not in v and b"\n" not in v and b"/" not in v),
)

HEADERS = st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=5)
BODIES = st.one_of(
    st.sampled_from(
        [b"", b"{}", b'{"access_token": "a\\u0000", "expires_in": 1e400}', b"[" * 5000]
    ),
    st.binary(max_size=200),
)


def response_bytes(status: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    lines = [status] + [name + b": " + value for name, value in headers]
    return b"\r\n".join([*lines, b"", b""]) + body


@pytest.fixture(scope="module")
def raw_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.stop()


POLICY = RetryPolicy(sleep=False, max_attempts=2, deadline=5.0)


def sync_exchange(url: str) -> None:
    """A client request, a token fetch and a key fetch, each allowed to fail with a kit error."""
    with (
        midil_sync.HttpClient(retry=POLICY, timeout=Timeout(1.0), max_response_size=10_000) as c,
        contextlib.suppress(MidilError),
    ):
        c.get(url)
    with (
        midil_sync.ClientCredentialsProvider(url, "svc", "s3cret", timeout=1.0) as p,
        contextlib.suppress(MidilError),
    ):
        p.get_token()
    with (
        midil_sync.JWTAuthorizer("https://issuer.example", jwks_url=url) as a,
        contextlib.suppress(MidilError),
    ):
        a.hydrate()


async def async_exchange(url: str) -> None:
    async with midil_async.HttpClient(
        retry=POLICY, timeout=Timeout(1.0), max_response_size=10_000
    ) as c:
        with contextlib.suppress(MidilError):
            await c.get(url)
    async with midil_async.ClientCredentialsProvider(url, "svc", "s3cret", timeout=1.0) as p:
        with contextlib.suppress(MidilError):
            await p.get_token()
    async with midil_async.JWTAuthorizer("https://issuer.example", jwks_url=url) as a:
        with contextlib.suppress(MidilError):
            await a.hydrate()


@pytest.mark.parametrize("shell", ["sync", "async"])
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=STATUS_LINES, headers=HEADERS, body=BODIES)
def test_only_the_kits_errors_escape_whatever_the_server_sends(
    raw_server: Any, shell: str, status: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    raw_server.default = raw_server.Raw(response_bytes(status, headers, body))
    url = raw_server.url("/x")
    if shell == "sync":
        sync_exchange(url)
    else:
        asyncio.run(async_exchange(url))

"""Hostile servers and hostile inputs, for both shells: credentials stay at their origin, deadlines
hold against trickling servers, and only the kit's own exception classes escape."""

from __future__ import annotations

import base64
import gc
import json
import socket
import threading
import time
import traceback
import warnings
from typing import Any

import pytest

import midil_async
import midil_sync
from midil_common.errors import (
    ConfigError,
    InvalidResponseError,
    InvalidURLError,
    ResponseTooLargeError,
    TimeoutError,
    TokenRequestError,
    TooManyRedirectsError,
    TransportError,
)
from midil_common.http import RetryPolicy, Timeout

FAST = RetryPolicy(sleep=False)


def redirect(server: Any, location: str, status: int = 302) -> Any:
    return server.Reply(status, body=b"", headers=(("Location", location),))


def chain_text(exc: BaseException) -> str:
    """The messages ``logger.exception`` would print for ``exc`` and its chain (source lines of
    the traceback aside, which quote this test's own literals)."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += traceback.format_exception_only(type(seen), seen)
        parts.append(repr(seen.args))
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return "".join(parts)


# ------------------------------------------------------------------------------ credentials


async def test_a_backslash_redirect_sends_nothing_to_the_other_host(
    make: Any, server: Any, server_factory: Any
) -> None:
    other = server_factory()
    # urllib.parse reads host PA (after the "@"), urllib3 and browsers read PB (before the "\").
    server.queue(redirect(server, f"http://127.0.0.1:{other.port}\\@127.0.0.1:{server.port}/x"))
    client = make(
        "HttpClient", server.url(), auth=make("StaticTokenProvider", "tok-secret"), retry=FAST
    )
    with pytest.raises(InvalidResponseError) as info:
        await client.get("/start", headers={"Cookie": "session=c00kie"})
    assert other.count == 0
    assert server.count == 1  # not retried: the answer itself is unusable
    assert "tok-secret" not in chain_text(info.value)


async def test_a_redirect_with_user_info_is_not_followed(make: Any, server: Any) -> None:
    server.queue(redirect(server, f"http://user:pw@127.0.0.1:{server.port}/x"))
    client = make("HttpClient", retry=FAST)
    with pytest.raises(InvalidResponseError):
        await client.get(server.url("/start"))
    assert server.count == 1  # the async shell used to turn "user:pw" into Authorization: Basic


@pytest.mark.parametrize("name", ["JWTAuthorizer"])
async def test_a_jwks_url_parsers_disagree_on_is_refused(make: Any, name: str) -> None:
    with pytest.raises(InvalidURLError) as info:
        make(
            name, "https://issuer.example", jwks_url="http://keys.attacker.example\\@127.0.0.1/jwks"
        )
    assert "attacker" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1\\@127.0.0.1:2/",
        "http://user:pw@127.0.0.1:2/",
        "http://127.0.0.1:2\t/",
    ],
)
async def test_base_and_request_urls_parsers_disagree_on_are_refused(make: Any, url: str) -> None:
    with pytest.raises(InvalidURLError):
        make("HttpClient", url)
    client = make("HttpClient")
    with pytest.raises(InvalidURLError):
        await client.get(url)
    with pytest.raises(InvalidURLError):
        make("ClientCredentialsProvider", url, "id", "secret")


async def test_credentials_go_only_to_the_base_origin(
    make: Any, server: Any, server_factory: Any
) -> None:
    other = server_factory()
    client = make("HttpClient", server.url("/api"), auth=make("APIKeyProvider", "key-secret"))
    await client.get("/items")
    await client.get(other.url("/elsewhere"))
    assert server.requests[0].headers["x-api-key"] == "key-secret"
    assert "x-api-key" not in other.requests[0].headers


async def test_auth_origins_extend_where_credentials_go(
    make: Any, server: Any, server_factory: Any
) -> None:
    other, third = server_factory(), server_factory()
    client = make(
        "HttpClient",
        auth=make("StaticTokenProvider", "tok-1"),
        auth_origins=[server.url(), other.url("/ignored/path")],
    )
    for srv in (server, other, third):
        await client.get(srv.url("/x"))
    assert server.requests[0].headers["authorization"] == "Bearer tok-1"
    assert other.requests[0].headers["authorization"] == "Bearer tok-1"
    assert "authorization" not in third.requests[0].headers


async def test_auth_without_a_base_url_or_auth_origins_is_a_config_error(make: Any) -> None:
    with pytest.raises(ConfigError, match="auth_origins"):
        make("HttpClient", auth=make("StaticTokenProvider", "tok-1"))


async def test_a_401_from_another_origin_does_not_invalidate_the_token(
    make: Any, server: Any, server_factory: Any, shell: str
) -> None:
    other = server_factory()
    other.default = other.Reply(401)
    calls: list[str] = []

    class Provider:
        def get_headers(self) -> dict[str, str]:
            calls.append("get")
            return {"Authorization": "Bearer t"}

        def invalidate(self) -> None:
            calls.append("invalidate")

    class AsyncProvider:
        async def get_headers(self) -> dict[str, str]:
            return Provider.get_headers(self)  # type: ignore[arg-type]

        async def invalidate(self) -> None:
            Provider.invalidate(self)  # type: ignore[arg-type]

    provider = Provider() if shell == "sync" else AsyncProvider()
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    assert (await client.get(other.url())).status_code == 401
    assert calls == [] and other.count == 1


@pytest.mark.parametrize("bad", ["tok\r\nX-Injected: 1", "tok\x00", "t\u00f6k", "tok\n"])
async def test_a_token_that_is_not_printable_ascii_never_reaches_a_header(
    make: Any, server: Any, shell: str, bad: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make("StaticTokenProvider", bad)
    assert bad not in chain_text(info.value)
    with pytest.raises(ConfigError):
        make("APIKeyProvider", bad)

    class Provider:
        def get_headers(self) -> dict[str, str]:
            return {"Authorization": f"Bearer {bad}"}

        def invalidate(self) -> None:
            pass

    class AsyncProvider:
        async def get_headers(self) -> dict[str, str]:
            return {"Authorization": f"Bearer {bad}"}

        async def invalidate(self) -> None:
            pass

    provider = Provider() if shell == "sync" else AsyncProvider()
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    with pytest.raises(ConfigError) as raised:
        await client.get("/x")
    assert bad not in chain_text(raised.value) and "tok" not in str(raised.value)
    assert server.count == 0


@pytest.mark.parametrize("header", ["X-Trace", "Idempotency-Key"])
async def test_a_call_header_with_a_line_break_is_refused_without_echo(
    make: Any, server: Any, header: str
) -> None:
    client = make("HttpClient", server.url(), retry=FAST)
    with pytest.raises(ConfigError) as info:
        await client.get("/x", headers={header: "secret\r\nX-Evil: 1"})
    assert "secret" not in chain_text(info.value)
    assert server.count == 0


@pytest.mark.parametrize(
    "token_doc",
    [
        {"access_token": "ab\u00e9c", "token_type": "Bearer"},
        {"access_token": "abc\r\nX-Evil: 1", "token_type": "Bearer"},
        {"access_token": "abc", "token_type": "Bearer\r\nX-Evil: 1"},
    ],
)
async def test_a_token_response_that_could_split_a_header_is_refused(
    make: Any, server: Any, token_doc: dict[str, str]
) -> None:
    server.default = server.Reply(200, body=json.dumps(token_doc).encode())
    provider = make("ClientCredentialsProvider", server.url("/token"), "svc", "s3cret")
    with pytest.raises(TokenRequestError):
        await provider.get_token()


async def test_an_endpoint_echoing_the_basic_credential_is_redacted(make: Any, server: Any) -> None:
    def echo(recorded: Any) -> Any:
        sent = recorded.headers["authorization"]
        body = {"error": "invalid_client", "error_description": f"refused {sent} ({sent[6:-2]})"}
        return server.Reply(401, body=json.dumps(body).encode())

    server.handler = echo
    secret = "s3cret/with+odd=chars"
    provider = make("ClientCredentialsProvider", server.url("/token"), "svc", secret)
    with pytest.raises(TokenRequestError) as info:
        await provider.get_token()
    basic = base64.b64encode(b"svc:s3cret%2Fwith%2Bodd%3Dchars").decode()
    text = chain_text(info.value)
    assert info.value.error == "invalid_client"
    assert basic not in text and basic[:-2] not in text and "s3cret" not in text


# -------------------------------------------------------------------------------- deadlines

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"


async def test_the_retry_deadline_bounds_a_trickled_head(make: Any, server: Any) -> None:
    # One byte every 0.05 s never trips the 0.5 s read timeout; the head takes ~4 s in all.
    server.default = server.Raw(HEAD + b"x" * 40, delay=0.05)
    client = make("HttpClient", retry=RetryPolicy(deadline=1.0), timeout=Timeout(read=0.5))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.get(server.url())
    assert time.monotonic() - started < 2.5
    assert info.value.phase == "deadline"


async def test_the_retry_deadline_bounds_a_trickled_body(make: Any, server: Any) -> None:
    server.default = server.Raw(b"x" * 40, delay=0.1, head=HEAD)
    client = make("HttpClient", retry=RetryPolicy(deadline=1.0), timeout=Timeout(read=0.5))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.get(server.url())
    assert time.monotonic() - started < 2.5
    assert info.value.phase == "deadline"


async def test_a_stream_body_is_the_callers_once_the_head_arrived(
    make: Any, server: Any, shell: str
) -> None:
    server.default = server.Raw(b"y" * 10, delay=0.08, head=HEAD.replace(b"40", b"10"))
    client = make("HttpClient", retry=RetryPolicy(deadline=0.5), timeout=Timeout(read=0.5))
    if shell == "sync":
        with client._target.stream("GET", server.url()) as response:
            body = response.read()
    else:
        async with client.stream("GET", server.url()) as response:
            body = await response.read()
    assert body == b"y" * 10  # ~0.8 s of trickle, past the 0.5 s deadline


async def test_the_deadline_does_not_leak_into_a_pooled_connection(make: Any, server: Any) -> None:
    client = make("HttpClient", retry=RetryPolicy(deadline=0.3))
    for _ in range(3):
        assert (await client.get(server.url())).status_code == 200
        time.sleep(0.35)  # past the earlier requests' deadlines: their guards must be gone
    assert server.count == 3


# -------------------------------------------------------------------- hostile answers, typed


def raw_response(status: bytes, headers: list[bytes], body: bytes = b"") -> bytes:
    return b"\r\n".join([b"HTTP/1.1 " + status, *headers, b"", b""]) + body


@pytest.mark.parametrize(
    "retry_after", [b"9" * 5000, "\u0663".encode(), "\u00b2".encode("latin-1"), b"-1", b"1e9"]
)
async def test_a_malformed_retry_after_is_ignored(
    make: Any, server: Any, retry_after: bytes
) -> None:
    server.queue(
        server.Raw(raw_response(b"503 X", [b"Retry-After: " + retry_after, b"Content-Length: 0"]))
    )
    client = make("HttpClient", retry=FAST)
    response = await client.get(server.url())
    assert response.status_code in (200, 503)


@pytest.mark.parametrize("length", [b"9" * 5000, "\u0661\u0662".encode(), b"-5", b"5, 6", b"0x10"])
async def test_a_malformed_content_length_is_a_transport_error(
    make: Any, server: Any, length: bytes
) -> None:
    server.default = server.Raw(raw_response(b"200 OK", [b"Content-Length: " + length], b"abc"))
    client = make("HttpClient", retry=FAST, max_response_size=100)
    with pytest.raises(TransportError):
        await client.get(server.url())


@pytest.mark.parametrize("length", [b"9" * 5000, b"5, 6", b"0x10"])
async def test_a_malformed_head_leaves_no_socket_to_the_garbage_collector(
    make: Any, server: Any, length: bytes
) -> None:
    # urllib3 raises on "Content-Length: 5, 6" after http.client's response took the socket.
    server.default = server.Raw(raw_response(b"200 OK", [b"Content-Length: " + length], b"abc"))
    client = make("HttpClient", retry=FAST, max_response_size=100)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(TransportError):
            await client.get(server.url())
        gc.collect()
    assert [str(w.message) for w in seen if w.category is ResourceWarning] == []


@pytest.mark.parametrize(
    "location", [b"http://[", b"/\xff", b"http://127.0.0.1:99999/", b"http://h:x/", b"\\\\evil/"]
)
async def test_an_unusable_location_is_a_transport_error(
    make: Any, server: Any, location: bytes
) -> None:
    server.default = server.Raw(
        raw_response(b"302 Found", [b"Location: " + location, b"Content-Length: 0"])
    )
    client = make("HttpClient", retry=FAST)
    try:
        response = await client.get(server.url())
    except (TransportError, TooManyRedirectsError):
        return  # "\\evil/" is a same-host path to RFC 3986: followed until the redirect limit
    assert response.status_code in (200, 302)


class EndlessRedirect:
    """A raw server: ``/`` answers 302 to ``/next`` with a chunked body that goes on for as long as
    the client reads it (up to ``limit`` bytes); ``/next`` answers 200. Counts the bytes it sent."""

    def __init__(self, limit: int = 256 * 2**20) -> None:
        self.limit = limit
        self.sent = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                head = conn.recv(65536)
                try:
                    if head.startswith(b"GET /next "):
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        continue
                    conn.sendall(
                        b"HTTP/1.1 302 Found\r\nLocation: /next\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n"
                    )
                    chunk = b"%x\r\n%s\r\n" % (2**20, b"x" * 2**20)
                    while self.sent < self.limit:
                        conn.sendall(chunk)
                        self.sent += len(chunk)
                except OSError:
                    continue

    def close(self) -> None:
        self._listener.close()


async def test_a_redirect_body_is_read_no_further_than_the_cap(make: Any) -> None:
    # requests reads a redirect's whole body to compute Response.next, even with stream=True and
    # allow_redirects=False: a server could make the client hold any amount of memory.
    hostile = EndlessRedirect()
    try:
        client = make("HttpClient", retry=FAST, max_response_size=10_000)
        with pytest.raises(ResponseTooLargeError):
            await client.get(f"http://127.0.0.1:{hostile.port}/")
        assert hostile.sent < 16 * 2**20
    finally:
        hostile.close()


async def test_a_javascript_location_is_returned_unfollowed(make: Any, server: Any) -> None:
    server.default = server.Raw(
        raw_response(b"302 Found", [b"Location: javascript:x", b"Content-Length: 0"])
    )
    client = make("HttpClient", retry=FAST)
    assert (await client.get(server.url())).status_code == 302


@pytest.mark.parametrize(
    "expires_in", ["1" + "0" * 400, "1e400", '"1e400"', '"' + "9" * 5000 + '"']
)
async def test_an_absurd_expires_in_falls_back_to_the_default_lifetime(
    make: Any, server: Any, expires_in: str
) -> None:
    body = f'{{"access_token": "abc", "token_type": "Bearer", "expires_in": {expires_in}}}'
    server.default = server.Raw(
        raw_response(
            b"200 OK",
            [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode()],
            body.encode(),
        )
    )
    provider = make("ClientCredentialsProvider", server.url("/token"), "svc", "s3cret")
    try:
        token = await provider.get_token()
    except TokenRequestError:
        return
    assert token.access_token == "abc"
    assert token.expires_at is None


# ------------------------------------------------------------------------ auth= as a newcomer


async def test_a_user_password_tuple_is_http_basic(make: Any, server: Any) -> None:
    client = make("HttpClient", server.url(), auth=("alice", "pa:ss w\u00f6rd"))
    assert (await client.get("/x")).status_code == 200
    expected = base64.b64encode("alice:pa:ss w\u00f6rd".encode()).decode()
    assert server.requests[0].headers["authorization"] == f"Basic {expected}"
    assert "pa:ss" not in repr(client)


@pytest.mark.parametrize("auth", [("alice",), ("a", "b", "c"), ("a:b", "c"), (1, 2), "token", 42])
async def test_other_auth_values_are_refused_at_construction(make: Any, auth: Any) -> None:
    with pytest.raises(ConfigError) as info:
        make("HttpClient", "https://api.example", auth=auth)
    assert info.value.variable == "auth"


async def test_a_provider_of_the_other_shell_is_refused_with_the_fix(make: Any, shell: str) -> None:
    other = midil_async if shell == "sync" else midil_sync
    with pytest.raises(ConfigError, match="needs the midil_"):
        make("HttpClient", "https://api.example", auth=other.StaticTokenProvider("t"))


async def test_a_set_cookie_never_becomes_a_cookie_of_a_later_request(
    make: Any, server: Any
) -> None:
    server.queue(server.Reply(200, headers=(("Set-Cookie", "session=abc; Path=/"),)))
    server.queue(server.Reply(503, headers=(("Set-Cookie", "x=\xd9\xa3"),)))  # UTF-8 bytes
    client = make("HttpClient", server.url(), retry=FAST)
    await client.get("/login")
    assert (await client.get("/next")).status_code == 200  # the 503 was retried
    assert all("cookie" not in r.headers for r in server.requests)


@pytest.mark.parametrize("path", ["/orders?api_key=SEKRET-q", "/SEKRET-p/orders"])
async def test_a_refused_connection_keeps_the_url_out_of_the_chain(make: Any, path: str) -> None:
    # urllib3's text quotes the request's path and query ("Max retries exceeded with url: ..."):
    # an API key in a query would reach every logger.exception of the failure.
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    client = make("HttpClient", retry=FAST)
    with pytest.raises(TransportError) as info:
        await client.get(f"http://127.0.0.1:{port}{path}")
    shown = "".join(traceback.format_exception(info.value)) + chain_text(info.value)
    assert "SEKRET" not in shown
    assert f"127.0.0.1:{port}" in str(info.value)

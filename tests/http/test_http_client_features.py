"""Client features over a real local server, for both shells: redirects, auth, bodies, hooks."""

from __future__ import annotations

import email
import email.policy
import logging
from typing import Any

import pytest

from midil_common.errors import ConfigError
from midil_common.http import RetryPolicy, TooManyRedirectsError
from midil_common.http.hooks import register_header_hook, unregister_header_hook

FAST = RetryPolicy(sleep=False)


def redirect(server: Any, location: str, status: int = 302) -> Any:
    return server.Reply(status, body=b"", headers=(("Location", location),))


async def test_same_origin_redirect_keeps_credentials(make: Any, server: Any) -> None:
    server.queue(redirect(server, "/next"))
    client = make("HttpClient", server.url(), auth=make("StaticTokenProvider", "tok-1"), retry=FAST)
    response = await client.get(server.url("/start"))
    assert response.status_code == 200
    assert response.url == server.url("/next")
    assert [r.path for r in server.requests] == ["/start", "/next"]
    assert server.requests[1].headers["authorization"] == "Bearer tok-1"


async def test_cross_origin_redirect_drops_credentials(
    make: Any, server: Any, server_factory: Any
) -> None:
    other = server_factory()
    server.queue(redirect(server, other.url("/landing"), 307))
    auth = make("APIKeyProvider", "key-1", header="X-Api-Key")
    client = make(
        "HttpClient",
        auth=auth,
        auth_origins=[server.url(), other.url()],
        retry=FAST,
        headers={"Authorization": "Basic abc"},
    )
    response = await client.get(server.url("/start"), headers={"Cookie": "a=b", "X-Keep": "1"})
    assert response.status_code == 200
    first, hop = server.requests[0], other.requests[0]
    assert first.headers["x-api-key"] == "key-1" and first.headers["cookie"] == "a=b"
    for name in ("authorization", "x-api-key", "cookie"):
        assert name not in hop.headers
    assert hop.headers["x-keep"] == "1"


async def test_post_redirect_is_not_followed(make: Any, server: Any) -> None:
    server.queue(redirect(server, "/elsewhere", 303))
    client = make("HttpClient", retry=FAST)
    response = await client.post(server.url("/form"), data={"a": "1"})
    assert response.status_code == 303
    assert server.count == 1


async def test_redirect_limit(make: Any, server: Any) -> None:
    server.default = redirect(server, "/again")
    client = make("HttpClient", retry=FAST, max_redirects=3)
    with pytest.raises(TooManyRedirectsError):
        await client.get(server.url())
    assert server.count == 4
    no_follow = make("HttpClient", retry=FAST, follow_redirects=False)
    assert (await no_follow.get(server.url())).status_code == 302


class CountingProvider:
    """A user-supplied provider (the protocol is pluggable): a new token after each invalidate."""

    def __init__(self) -> None:
        self.generation = 0
        self.invalidations = 0

    def get_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer gen-{self.generation}"}

    def invalidate(self) -> None:
        self.invalidations += 1
        self.generation += 1


class AsyncCountingProvider(CountingProvider):
    async def get_headers(self) -> dict[str, str]:  # type: ignore[override]
        return CountingProvider.get_headers(self)

    async def invalidate(self) -> None:  # type: ignore[override]
        CountingProvider.invalidate(self)


def counting_provider(shell: str) -> CountingProvider:
    return CountingProvider() if shell == "sync" else AsyncCountingProvider()


async def test_401_invalidates_and_repeats_exactly_once(make: Any, server: Any, shell: str) -> None:
    provider = counting_provider(shell)
    server.queue(server.Reply(401))
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    response = await client.get(server.url())
    assert response.status_code == 200
    assert provider.invalidations == 1
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer gen-0", "Bearer gen-1"]


async def test_a_second_401_is_returned(make: Any, server: Any, shell: str) -> None:
    provider = counting_provider(shell)
    server.default = server.Reply(401)
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    assert (await client.post(server.url(), json={})).status_code == 401
    assert server.count == 2 and provider.invalidations == 1


async def test_401_without_a_provider_is_returned(make: Any, server: Any) -> None:
    server.default = server.Reply(401)
    client = make("HttpClient", retry=FAST)
    assert (await client.get(server.url())).status_code == 401
    assert server.count == 1


async def test_multipart_upload(make: Any, server: Any) -> None:
    client = make("HttpClient", retry=FAST)
    await client.post(
        server.url("/upload"),
        data={"title": "report"},
        files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv"), "raw": b"\x00\x01"},
    )
    recorded = server.requests[0]
    ctype = recorded.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    message = email.message_from_bytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + recorded.body, policy=email.policy.HTTP
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["title"].get_content() == "report"
    assert parts["file"].get_filename() == "r.csv"
    assert parts["file"].get_content_type() == "text/csv"
    assert parts["file"].get_payload(decode=True) == b"a,b\n1,2\n"
    assert parts["raw"].get_payload(decode=True) == b"\x00\x01"


async def test_json_form_and_params(make: Any, server: Any) -> None:
    client = make("HttpClient", base_url=server.url("/api/v1"), retry=FAST)
    await client.put("items/7", json={"name": "é"}, params={"tag": ["a", "b"], "skip": None})
    await client.patch("/items/7", data={"x": "1 2"})
    first, second = server.requests
    assert first.path == "/api/v1/items/7?tag=a&tag=b"
    assert first.headers["content-type"] == "application/json"
    assert first.body == '{"name":"é"}'.encode()
    assert second.path == "/api/v1/items/7"
    assert second.headers["content-type"] == "application/x-www-form-urlencoded"
    assert second.body == b"x=1+2"


async def test_bad_arguments_raise_config_error(make: Any, server: Any) -> None:
    client = make("HttpClient", retry=FAST)
    with pytest.raises(ConfigError):
        await client.post(server.url(), json={}, data=b"x")
    with pytest.raises(ConfigError):
        await client.get("relative/path")
    with pytest.raises(ConfigError):
        make("HttpClient", base_url="not a url")
    assert server.count == 0


async def test_header_hooks_add_context_headers(make: Any, server: Any) -> None:
    def context() -> dict[str, str]:
        return {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "X-Correlation-Id": "c1"}

    register_header_hook(context)
    try:
        client = make("HttpClient", retry=FAST, header_hooks=[lambda: {"X-Service": "orders"}])
        await client.get(server.url())
        await client.get(server.url(), headers={"X-Correlation-Id": "explicit"})
    finally:
        unregister_header_hook(context)
    await client.get(server.url())
    first, second, third = server.requests
    assert first.headers["traceparent"].startswith("00-aaaa")
    assert first.headers["x-correlation-id"] == "c1"
    assert first.headers["x-service"] == "orders"
    assert second.headers["x-correlation-id"] == "explicit"
    assert "traceparent" not in third.headers and third.headers["x-service"] == "orders"


async def test_default_headers_are_the_same_in_both_shells(make: Any, server: Any) -> None:
    client = make("HttpClient", retry=FAST)
    await client.get(server.url())
    headers = server.requests[0].headers
    assert headers["user-agent"].startswith("midil-kit/")
    assert headers["accept"] == "*/*"
    assert headers["accept-encoding"] == "gzip, deflate"


async def test_proxy_receives_the_absolute_url(make: Any, server: Any) -> None:
    client = make("HttpClient", retry=FAST, proxy=server.url())
    response = await client.get("http://service.invalid/path?q=1")
    assert response.status_code == 200
    assert server.requests[0].path == "http://service.invalid/path?q=1"


async def test_response_size_cap(make: Any, server: Any) -> None:
    from midil_common.errors import ResponseTooLargeError

    server.default = server.Reply(200, body=b"z" * 5000)
    client = make("HttpClient", retry=FAST, max_response_size=1000)
    with pytest.raises(ResponseTooLargeError):
        await client.get(server.url())
    assert server.count == 1


async def test_no_token_or_secret_in_logs_or_reprs(
    make: Any, server: Any, caplog: Any, shell: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    server.queue(server.Reply(503), server.Reply(401))
    provider = make("StaticTokenProvider", "sekrit-token")
    api_key = make("APIKeyProvider", "sekrit-key")
    client = make("HttpClient", server.url(), auth=provider, retry=FAST)
    await client.get(server.url("/p?token=sekrit-query"))
    text = " ".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    text += repr(provider) + repr(api_key) + repr(client)
    assert caplog.records  # the retry was logged
    assert "sekrit" not in text


async def test_stream_sync(server: Any) -> None:
    import midil_sync

    body = bytes(range(256)) * 400
    server.queue(server.Reply(503))
    server.default = server.Reply(200, body=body, headers=(), chunks=8, chunk_delay=0.01)
    client = midil_sync.HttpClient(retry=FAST)
    with client, client.stream("GET", server.url("/big")) as response:
        assert response.status_code == 200
        chunks = list(response.iter_bytes(4096))
    assert b"".join(chunks) == body
    assert max(len(c) for c in chunks) <= 4096 and len(chunks) >= 25
    assert server.count == 2


async def test_stream_async(server: Any) -> None:
    import midil_async

    body = bytes(range(256)) * 400
    server.queue(server.Reply(503))
    server.default = server.Reply(200, body=body, headers=(), chunks=8, chunk_delay=0.01)
    client = midil_async.HttpClient(retry=FAST)
    async with client, client.stream("GET", server.url("/big")) as response:
        assert response.status_code == 200
        chunks = [c async for c in response.aiter_bytes(4096)]
    assert b"".join(chunks) == body
    assert max(len(c) for c in chunks) <= 4096 and len(chunks) >= 25
    assert server.count == 2


async def test_stream_raise_for_status(make: Any, server: Any, shell: str) -> None:
    import midil_async
    import midil_sync
    from midil_common.errors import ClientError

    server.default = server.Reply(404)
    if shell == "sync":
        client = midil_sync.HttpClient(retry=FAST)
        with (
            client,
            pytest.raises(ClientError),
            client.stream("GET", server.url(), raise_for_status=True),
        ):
            pass
    else:
        async with midil_async.HttpClient(retry=FAST) as aclient:
            with pytest.raises(ClientError):
                async with aclient.stream("GET", server.url(), raise_for_status=True):
                    pass
    assert server.count == 1

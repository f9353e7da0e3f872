"""Fault injection over a real local server, for both shells: exact attempt counts, waits, budgets."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import pytest

from midil_common.errors import (
    ClientError,
    ConnectError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TransportError,
)
from midil_common.http import RetryPolicy

FAST = RetryPolicy(sleep=False)


async def test_connection_reset_before_response_is_retried_for_get(make: Any, server: Any) -> None:
    server.queue(server.Reset())
    client = make("HttpClient", retry=FAST)
    response = await client.get(server.url("/items"))
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert server.count == 2


async def test_post_without_key_is_sent_exactly_once_after_a_reset(make: Any, server: Any) -> None:
    server.queue(server.Reset())
    client = make("HttpClient", retry=FAST)
    with pytest.raises(TransportError) as info:
        await client.post(server.url("/orders"), json={"n": 1})
    assert info.value.request_sent is True
    assert server.count == 1


async def test_post_with_idempotency_key_is_retried_with_the_same_key(
    make: Any, server: Any
) -> None:
    server.queue(server.Reset(), server.Reply(503))
    client = make("HttpClient", retry=FAST)
    response = await client.post(server.url("/orders"), json={"n": 1}, idempotency_key="k-1")
    assert response.status_code == 200
    assert server.count == 3
    assert [r.headers["idempotency-key"] for r in server.requests] == ["k-1"] * 3
    assert all(r.body == b'{"n":1}' for r in server.requests)


async def test_auto_idempotency_key_makes_post_retryable(make: Any, server: Any) -> None:
    server.queue(server.Reply(503))
    client = make("HttpClient", retry=FAST, auto_idempotency_key=True)
    response = await client.post(server.url("/orders"), json={})
    assert response.status_code == 200
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert server.count == 2 and len(keys) == 1


async def test_503_then_200(make: Any, server: Any) -> None:
    server.queue(server.Reply(503))
    client = make("HttpClient", retry=FAST)
    assert (await client.get(server.url())).status_code == 200
    assert server.count == 2


async def test_post_503_is_not_retried_without_a_key(make: Any, server: Any) -> None:
    server.queue(server.Reply(503))
    client = make("HttpClient", retry=FAST)
    assert (await client.post(server.url(), data=b"x")).status_code == 503
    assert server.count == 1


async def test_retries_stop_after_max_attempts(make: Any, server: Any) -> None:
    server.default = server.Reply(502)
    client = make("HttpClient", retry=FAST)
    response = await client.get(server.url())
    assert response.status_code == 502
    assert server.count == 4
    with pytest.raises(ServerError) as info:
        await client.send_request("GET", server.url())
    assert info.value.status_code == 502 and info.value.retry_after is None
    assert server.count == 8


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
async def test_statuses_that_are_not_retried(make: Any, server: Any, status: int) -> None:
    server.default = server.Reply(status)
    client = make("HttpClient", retry=FAST)
    assert (await client.get(server.url())).status_code == status
    assert server.count == 1


async def test_500_is_retried_when_opted_in(make: Any, server: Any) -> None:
    server.queue(server.Reply(500))
    client = make("HttpClient", retry=FAST.replace(retry_statuses={500, 503}))
    assert (await client.get(server.url())).status_code == 200
    assert server.count == 2


async def test_retry_after_seconds_is_waited_for(make: Any, server: Any) -> None:
    server.queue(server.Reply(503, headers=(("Retry-After", "1"),)))
    client = make("HttpClient")
    start = time.monotonic()
    assert (await client.get(server.url())).status_code == 200
    assert 0.95 <= time.monotonic() - start < 5
    assert server.count == 2


async def test_retry_after_http_date_is_waited_for(make: Any, server: Any) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.queue(server.Reply(503, headers=(("Retry-After", when),)))
    client = make("HttpClient")
    start = time.monotonic()
    assert (await client.get(server.url())).status_code == 200
    # An HTTP-date has one-second resolution: the wait is between 1 and 2 seconds.
    assert 0.9 <= time.monotonic() - start < 5
    assert server.count == 2


@pytest.mark.parametrize(("status", "error"), [(429, RateLimitError), (503, ServerError)])
async def test_retry_after_beyond_the_cap_fails_fast(
    make: Any, server: Any, status: int, error: type[Exception]
) -> None:
    server.default = server.Reply(status, headers=(("Retry-After", "3600"),))
    client = make("HttpClient")  # sleeping on: a wait would show in the elapsed time
    start = time.monotonic()
    response = await client.get(server.url())
    assert response.status_code == status
    with pytest.raises(error) as info:
        await client.send_request("GET", server.url())
    assert time.monotonic() - start < 1.0
    assert info.value.retry_after == 3600.0  # type: ignore[attr-defined]
    assert server.count == 2


async def test_retry_after_past_the_deadline_fails_fast(make: Any, server: Any) -> None:
    server.default = server.Reply(503, headers=(("Retry-After", "5"),))
    client = make("HttpClient", retry=RetryPolicy(deadline=2.0))
    start = time.monotonic()
    with pytest.raises(ServerError) as info:
        await client.send_request("GET", server.url())
    assert time.monotonic() - start < 1.0
    assert info.value.retry_after == 5.0
    assert server.count == 1


async def test_read_timeout_is_retried_for_get_only(make: Any, server: Any) -> None:
    server.default = server.Hang(5)
    client = make("HttpClient", timeout=0.3, retry=FAST.replace(max_attempts=2))
    start = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.get(server.url())
    assert info.value.phase == "read"
    assert server.count == 2
    with pytest.raises(TimeoutError):
        await client.post(server.url(), json={})
    assert server.count == 3
    assert time.monotonic() - start < 3


async def test_slow_body_within_the_read_timeout_arrives_whole(make: Any, server: Any) -> None:
    body = b"x" * 4000
    server.default = server.Reply(200, body=body, headers=(), chunks=4, chunk_delay=0.1)
    client = make("HttpClient", timeout=1.0, retry=FAST)
    response = await client.get(server.url())
    assert response.content == body
    assert server.count == 1


async def test_stalled_body_times_out_and_is_retried(make: Any, server: Any) -> None:
    stalled = server.Reply(200, body=b"y" * 1000, headers=(), chunks=2, chunk_delay=3)
    server.queue(stalled)
    server.default = server.Reply(200, body=b"fine", headers=())
    client = make("HttpClient", timeout=0.3, retry=FAST)
    response = await client.get(server.url())
    assert response.content == b"fine"
    assert server.count == 2


async def test_deadline_bounds_attempts_and_sleeps(make: Any, server: Any) -> None:
    server.default = server.Reply(503)
    policy = RetryPolicy(
        max_attempts=100, backoff_initial=0.4, backoff_multiplier=1, jitter=False, deadline=1.0
    )
    client = make("HttpClient", retry=policy)
    start = time.monotonic()
    assert (await client.get(server.url())).status_code == 503
    took = time.monotonic() - start
    # Attempts at about 0 s, 0.4 s and 0.8 s; a fourth would start after the 1 s deadline.
    assert server.count == 3
    assert 0.75 <= took < 1.0


async def test_budget_stops_a_retry_storm_per_client(make: Any, server: Any) -> None:
    server.default = server.Reply(503)
    policy = FAST.replace(budget_capacity=10, budget_retry_cost=5)
    client = make("HttpClient", retry=policy)
    await client.get(server.url())
    assert server.count == 3  # two retries spend the whole budget
    await client.get(server.url())
    assert server.count == 4  # no budget left: a single attempt
    other = make("HttpClient", retry=policy)
    await other.get(server.url())
    assert server.count == 7  # another client has a budget of its own


async def test_successes_refill_the_budget(make: Any, server: Any) -> None:
    policy = FAST.replace(budget_capacity=5, budget_retry_cost=5, budget_success_refund=5)
    client = make("HttpClient", retry=policy)
    server.queue(server.Reply(503))
    await client.get(server.url())
    assert server.count == 2  # the retry spent the budget, the 200 refilled it
    server.queue(server.Reply(503))
    await client.get(server.url())
    assert server.count == 4


async def test_streamed_request_body_is_never_retried(make: Any, server: Any) -> None:
    server.default = server.Reply(503)
    client = make("HttpClient", retry=FAST)

    if hasattr(client, "_target"):

        def chunks() -> Any:
            yield b"a"
            yield b"b"

        body: Any = chunks()
    else:

        async def achunks() -> Any:
            yield b"a"
            yield b"b"

        body = achunks()
    assert (await client.put(server.url(), data=body)).status_code == 503
    assert server.count == 1
    assert server.requests[0].body == b"ab"


async def test_connect_error_is_retried_for_post(make: Any, caplog: Any) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    client = make("HttpClient", retry=FAST.replace(max_attempts=3))
    caplog.set_level("INFO", logger="midil.http")
    with pytest.raises(ConnectError) as info:
        await client.post(f"http://127.0.0.1:{port}/x", json={})
    assert info.value.request_sent is False
    retries = [r for r in caplog.records if r.name == "midil.http" and "retrying" in r.message]
    assert len(retries) == 2
    # The key facts are in the text, not only in ``extra``: method, host, attempt.
    assert retries[0].getMessage().startswith(f"retrying POST 127.0.0.1:{port} after attempt 1 ")


async def test_raise_for_status_and_send_request(make: Any, server: Any) -> None:
    server.queue(server.Reply(404, body=b'{"error":"nope"}'), server.Reply(204, body=b""))
    client = make("HttpClient", retry=FAST)
    with pytest.raises(ClientError) as info:
        await client.get(server.url(), raise_for_status=True)
    assert info.value.status_code == 404
    assert info.value.response.json() == {"error": "nope"}
    assert await client.send_request("DELETE", server.url("/x")) is None


async def test_deadline_cuts_a_hanging_attempt(make: Any, server: Any) -> None:
    server.default = server.Hang(10)
    client = make("HttpClient", timeout=30, retry=RetryPolicy(deadline=0.8, sleep=False))
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        await client.get(server.url())
    assert time.monotonic() - start < 2.0
    assert server.count == 1

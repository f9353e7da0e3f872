"""The current event context on outgoing HTTP requests, asserted on a real local server, for both
shells' ``HttpClient``: ``X-Correlation-ID`` and ``traceparent`` inside a context, nothing outside,
and the caller's own headers winning over the context's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import midil_async
import midil_sync
from midil_common.events import TraceParent, current_context, event_context

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[HTTPServer, list[dict[str, str]]]]:
    """A local service recording the headers of every request (names lowercased)."""
    seen: list[dict[str, str]] = []
    running = HTTPServer(host="127.0.0.1", threaded=True)

    def handler(request: Request) -> Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return Response("{}", status=200, content_type="application/json")

    running.expect_request("/echo").respond_with_handler(handler)
    running.start()
    yield running, seen
    running.clear()
    running.stop()


@pytest.fixture
def server(
    service: tuple[HTTPServer, list[dict[str, str]]],
) -> tuple[HTTPServer, list[dict[str, str]]]:
    """The service, with what it saw in earlier tests forgotten."""
    service[1].clear()
    return service


async def get(shell: str, url: str, client_headers: Any = None, **kwargs: Any) -> int:
    """One GET through the shell's ``HttpClient``; the status."""
    if shell == "sync":
        with midil_sync.HttpClient(headers=client_headers) as client:
            return client.get(url, **kwargs).status_code
    async with midil_async.HttpClient(headers=client_headers) as aclient:
        return (await aclient.get(url, **kwargs)).status_code


SHELLS = pytest.mark.parametrize("shell", ["sync", "async"])


@SHELLS
async def test_inside_a_context_requests_carry_it(
    shell: str, server: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    running, seen = server
    url = running.url_for("/echo")
    with event_context(correlation_id="abc") as context:
        assert await get(shell, url) == 200
    sent = seen[0]
    assert sent["x-correlation-id"] == "abc"
    parsed = TraceParent.parse(sent["traceparent"])
    assert parsed.trace_id == context.trace_id
    # The request's parent is the span of the scope that sent it.
    assert parsed.parent_id == context.span_id
    assert sent["traceparent"] == context.traceparent.format()  # type: ignore[union-attr]


@SHELLS
async def test_an_incoming_trace_is_continued(
    shell: str, server: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    running, seen = server
    with event_context("corr-1", INCOMING) as context:
        await get(shell, running.url_for("/echo"))
        with event_context() as child:
            await get(shell, running.url_for("/echo"))
    first, second = (TraceParent.parse(s["traceparent"]) for s in seen)
    assert first.trace_id == second.trace_id == INCOMING.split("-")[1]
    assert first.parent_id == context.span_id != INCOMING.split("-")[2]
    assert second.parent_id == child.span_id != first.parent_id
    assert [s["x-correlation-id"] for s in seen] == ["corr-1", "corr-1"]


@SHELLS
async def test_outside_any_context_no_such_header_is_sent(
    shell: str, server: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    running, seen = server
    # A scope opened and closed earlier leaves nothing behind.
    with event_context("earlier"):
        pass
    assert current_context().empty
    assert await get(shell, running.url_for("/echo")) == 200
    assert "x-correlation-id" not in seen[0]
    assert "traceparent" not in seen[0]


@SHELLS
async def test_the_callers_headers_win(
    shell: str, server: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    running, seen = server
    mine = "00-11111111111111111111111111111111-2222222222222222-00"
    with event_context(correlation_id="abc"):
        await get(
            shell,
            running.url_for("/echo"),
            headers={"x-correlation-id": "caller-id", "TraceParent": mine},
        )
    assert seen[0]["x-correlation-id"] == "caller-id"
    assert seen[0]["traceparent"] == mine
    assert list(seen[0]).count("x-correlation-id") == 1


@SHELLS
async def test_the_clients_own_headers_win_too(
    shell: str, server: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    # A client built for one correlation id (a batch job's) keeps it inside any context.
    running, seen = server
    with event_context(correlation_id="abc"):
        await get(shell, running.url_for("/echo"), client_headers={"X-Correlation-ID": "job-7"})
    assert seen[0]["x-correlation-id"] == "job-7"
    assert "traceparent" in seen[0]  # the context's other header still goes


async def test_concurrent_tasks_send_their_own_context(
    server: tuple[HTTPServer, list[dict[str, str]]],
) -> None:
    running, seen = server
    url = running.url_for("/echo")

    async def one(i: int) -> None:
        async with event_context(f"task-{i}"):
            await asyncio.sleep(0)
            async with midil_async.HttpClient() as client:
                await client.get(url, params={"i": str(i)})

    await asyncio.gather(*(one(i) for i in range(10)))
    assert sorted(s["x-correlation-id"] for s in seen) == sorted(f"task-{i}" for i in range(10))

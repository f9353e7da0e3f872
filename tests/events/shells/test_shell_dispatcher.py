"""``EventDispatcher`` of both shells: one test body per behaviour, run on the sync and the async
flavour (the ``flavour`` fixture of this folder's conftest)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import midil_async
import midil_sync
from midil_common.errors import ConfigError, PublishError
from midil_common.events import (
    DrainResult,
    Event,
    EventContext,
    EventRouter,
    TraceParent,
    current_context,
    event_context,
)

from .conftest import Flavour, eventually

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def ev(type_: str = "user.created", **kwargs: Any) -> Event:
    return Event(type=type_, source="/tests", **kwargs)


# ------------------------------------------------------------------------------------ ordering


@pytest.mark.parametrize("inline", [True, False])
async def test_handlers_run_in_registration_order_and_events_in_publish_order(
    flavour: Flavour, inline: bool
) -> None:
    log: list[tuple[int, str]] = []
    d = flavour.Dispatcher(inline=inline, max_workers=1)
    for name, pattern in [("a", "user.*"), ("b", "**"), ("c", "user.created"), ("d", "*.created")]:
        d.subscribe(flavour.handler(lambda e, n=name: log.append((e.data, n))), pattern)
    async with d:
        for i in range(20):
            await d.publish(ev(data=i))
        if inline:  # handled before publish returned
            assert len(log) == 80
    assert log == [(i, n) for i in range(20) for n in "abcd"]


async def test_the_on_decorator_returns_the_function_and_registers_it(flavour: Flavour) -> None:
    seen: list[str] = []
    d = flavour.Dispatcher(inline=True)

    def record(event: Event) -> None:
        seen.append(event.type)

    native = flavour.handler(record)
    assert d.on("order.*")(native) is native
    with pytest.raises(ConfigError):
        d.on("order..bad")
    async with d:
        await d.notify("order.placed")
        await d.notify("user.created")
    assert seen == ["order.placed"]


# ---------------------------------------------------------------------------------- routing


async def test_wildcard_routing(flavour: Flavour) -> None:
    patterns = ["user.*", "*.created", "user.**", "**", "user.profile.updated", "order.created"]
    got: dict[str, list[str]] = {p: [] for p in patterns}
    d = flavour.Dispatcher(inline=True)
    for p in patterns:
        d.subscribe(flavour.handler(lambda e, p=p: got[p].append(e.type)), p)
    types = ["user.created", "user.profile.updated", "order.created", "user", "billing.paid"]
    async with d:
        for t in types:
            await d.publish(ev(t))
    assert got == {
        "user.*": ["user.created"],
        "*.created": ["user.created", "order.created"],
        "user.**": ["user.created", "user.profile.updated", "user"],
        "**": types,
        "user.profile.updated": ["user.profile.updated"],
        "order.created": ["order.created"],
    }


async def test_unsubscribe(flavour: Flavour) -> None:
    seen: list[str] = []
    d = flavour.Dispatcher(inline=True)
    handler = flavour.handler(lambda e: seen.append(e.type))
    d.subscribe(handler, "a.*")
    d.subscribe(handler, "b.*")
    async with d:
        await d.notify("a.x")
        assert d.unsubscribe(handler, "a.*") is True
        await d.notify("a.x")
        await d.notify("b.x")
        assert d.unsubscribe(handler) is True
        assert d.unsubscribe(handler) is False
        await d.notify("b.x")
    assert seen == ["a.x", "b.x"]


async def test_a_shared_router_and_instances_that_share_nothing(flavour: Flavour) -> None:
    router = EventRouter()
    seen: list[tuple[str, str]] = []
    router.add("**", flavour.handler(lambda e: seen.append(("router", e.type))))
    shared = flavour.Dispatcher(router=router, inline=True)
    assert shared.router is router
    one = flavour.Dispatcher(inline=True)
    two = flavour.Dispatcher(inline=True)
    one.subscribe(flavour.handler(lambda e: seen.append(("one", e.type))), "**")
    async with shared, one, two:
        await shared.notify("s.x")
        await one.notify("o.x")
        await two.notify("t.x")  # no handler anywhere: nothing happens
    assert seen == [("router", "s.x"), ("one", "o.x")]
    assert len(two.router) == 0 and len(one.router) == 1


async def test_notify_builds_the_event_from_the_dispatchers_source(flavour: Flavour) -> None:
    got: list[Event] = []
    d = flavour.Dispatcher(source="/orders", inline=True)
    d.subscribe(flavour.handler(got.append), "**")
    async with d:
        event = await d.notify("order.created", {"id": 7}, subject="o-7")
    assert got == [event]
    assert (event.source, event.type, event.data, event.subject) == (
        "/orders",
        "order.created",
        {"id": 7},
        "o-7",
    )


# --------------------------------------------------------------------------------- lifecycle


async def test_publishing_needs_a_running_dispatcher_which_can_restart(flavour: Flavour) -> None:
    seen: list[Any] = []
    d = flavour.Dispatcher()
    d.subscribe(flavour.handler(lambda e: seen.append(e.data)), "**")
    before = ev(data=0)
    with pytest.raises(PublishError, match="not running") as info:
        await d.publish(before)
    assert info.value.failed == [before]
    await d.start()
    await d.start()  # a no-op
    await d.publish(ev(data=1))
    assert await d.stop() == DrainResult(1)
    assert await d.stop() == DrainResult(0)
    with pytest.raises(PublishError, match="not running"):
        await d.notify("user.created", 2)
    async with d:
        await d.publish(ev(data=3))
    assert seen == [1, 3]


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [
        ({"max_workers": 0}, "max_workers"),
        ({"max_queue": 0}, "max_queue"),
        ({"on_full": "drop"}, "on_full"),
        ({"source": ""}, "source"),
        ({"inline": 1}, "inline"),
        ({"on_error": "log"}, "on_error"),
        ({"router": {}}, "router"),
    ],
)
async def test_bad_options_raise_config_error(
    flavour: Flavour, kwargs: dict[str, Any], variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        flavour.Dispatcher(**kwargs)
    assert info.value.variable == variable


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("inline", [True, False])
async def test_a_failing_handler_is_logged_and_the_others_still_run(
    flavour: Flavour, inline: bool, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def boom(event: Event) -> None:
        raise RuntimeError("handler broke")

    d = flavour.Dispatcher(inline=inline)
    d.subscribe(flavour.handler(boom), "**")
    d.subscribe(flavour.handler(lambda e: seen.append(e.id)), "**")
    secret = "s3cr3t-card-number"
    event = ev(data={"card": secret})
    with caplog.at_level(logging.ERROR, logger="midil.events"):
        async with d:
            await d.publish(event)
    assert seen == [event.id]
    [record] = [r for r in caplog.records if r.name == "midil.events"]
    message = record.getMessage()
    assert event.id in message and event.type in message and "boom" in message
    assert record.event_id == event.id and record.event_type == event.type  # type: ignore[attr-defined]
    assert secret not in caplog.text


async def test_on_error_gets_the_failure_and_its_own_failure_is_logged(
    flavour: Flavour, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[tuple[Event, Any, BaseException]] = []
    seen: list[str] = []

    def on_error(event: Event, handler: Any, exc: BaseException) -> None:
        reported.append((event, handler, exc))
        if len(reported) == 2:
            raise ValueError("on_error broke too")

    def boom(event: Event) -> None:
        raise RuntimeError("handler broke")

    broken = flavour.handler(boom)
    d = flavour.Dispatcher(inline=True, on_error=on_error)
    d.subscribe(broken, "**")
    d.subscribe(flavour.handler(lambda e: seen.append(e.type)), "**")
    with caplog.at_level(logging.ERROR, logger="midil.events"):
        async with d:
            first = await d.notify("a.b")
            await d.notify("c.d")  # on_error raises: logged, never propagated
    assert [(e.id, h, type(x)) for e, h, x in reported] == [
        (first.id, broken, RuntimeError),
        (reported[1][0].id, broken, RuntimeError),
    ]
    assert seen == ["a.b", "c.d"]
    records = [r for r in caplog.records if r.name == "midil.events"]
    assert len(records) == 1 and "on_error failed" in records[0].getMessage()


# ------------------------------------------------------------------------------------ drain


async def test_stop_drains_ten_thousand_events_in_flight(flavour: Flavour) -> None:
    handled: list[str] = []
    lock = threading.Lock()

    def record(event: Event) -> None:
        with lock:
            handled.append(event.id)

    d = flavour.Dispatcher(max_workers=4, max_queue=10_000)
    d.subscribe(flavour.handler(record), "load.*")
    await d.start()
    published = [ev("load.test", data=i) for i in range(10_000)]
    for event in published:
        await d.publish(event)
    result = await d.stop()
    assert result == DrainResult(10_000, ())
    assert result.drained
    assert len(handled) == 10_000
    assert set(handled) == {e.id for e in published}


async def test_stop_with_a_timeout_reports_what_was_not_handled(flavour: Flavour) -> None:
    handled: list[int] = []
    if flavour.is_async:
        gate: Any = asyncio.Event()

        async def slow(event: Event) -> None:
            if event.data >= 2:
                await gate.wait()
            handled.append(event.data)

        handler: Any = slow
    else:
        gate = threading.Event()

        def slow_sync(event: Event) -> None:
            if event.data >= 2:
                gate.wait(5)
            handled.append(event.data)

        handler = slow_sync
    d = flavour.Dispatcher(max_workers=2, max_queue=100)
    d.subscribe(handler, "**")
    await d.start()
    published = [ev(data=i) for i in range(10)]
    for event in published:
        await d.publish(event)
    await eventually(lambda: len(handled) == 2)
    result = await d.stop(timeout=0.05)
    # Events 2 and 3 were being handled (reported first), 4 to 9 were queued (then, in order).
    assert result.handled == 2
    pending = [e.data for e in result.pending]
    assert sorted(pending[:2]) == [2, 3] and pending[2:] == list(range(4, 10))
    assert not result.drained
    gate.set()
    if flavour.is_async:
        # The busy workers were cancelled: the held events never finish.
        await asyncio.sleep(0.01)
        assert sorted(handled) == [0, 1]
    else:
        # A thread cannot be interrupted: the two busy workers finish their event, take no more.
        await eventually(lambda: len(handled) == 4)
        await eventually(
            lambda: not any(t.name.startswith("midil-dispatcher") for t in threading.enumerate())
        )
        assert sorted(handled) == [0, 1, 2, 3]


# ------------------------------------------------------------------------------ backpressure


def _gated(flavour: Flavour, started: list[int]) -> tuple[Any, Any]:
    """A handler that records the event's data and then waits for the gate."""
    if flavour.is_async:
        agate = asyncio.Event()

        async def handler(event: Event) -> None:
            started.append(event.data)
            await agate.wait()

        return handler, agate
    tgate = threading.Event()

    def sync_handler(event: Event) -> None:
        started.append(event.data)
        tgate.wait(5)

    return sync_handler, tgate


async def test_a_full_queue_blocks_publish_until_there_is_room(flavour: Flavour) -> None:
    started: list[int] = []
    handler, gate = _gated(flavour, started)
    d = flavour.Dispatcher(max_workers=1, max_queue=2)
    d.subscribe(handler, "**")
    await d.start()
    await d.publish(ev(data=1))
    await eventually(lambda: started == [1])  # the worker holds event 1
    await d.publish(ev(data=2))
    await d.publish(ev(data=3))  # the queue is full now
    blocked = flavour.background(d, "publish", ev(data=4))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    gate.set()
    await asyncio.wait_for(blocked, 3)
    assert await d.stop() == DrainResult(4)
    assert started == [1, 2, 3, 4]


async def test_a_full_queue_raises_when_configured_and_drops_nothing(flavour: Flavour) -> None:
    started: list[int] = []
    handler, gate = _gated(flavour, started)
    d = flavour.Dispatcher(max_workers=1, max_queue=2, on_full="raise")
    d.subscribe(handler, "**")
    await d.start()
    await d.publish(ev(data=1))
    await eventually(lambda: started == [1])
    await d.publish(ev(data=2))
    await d.publish(ev(data=3))
    refused = ev(data=4)
    with pytest.raises(PublishError, match="queue is full") as info:
        await d.publish(refused)
    assert [e.id for e in info.value.failed] == [refused.id]
    gate.set()
    assert await d.stop() == DrainResult(3)
    assert started == [1, 2, 3]


async def test_handlers_may_publish_follow_ups_while_stop_drains(flavour: Flavour) -> None:
    d = flavour.Dispatcher(max_workers=2)
    raw = flavour.made[-1]
    seen: list[int] = []
    if flavour.is_async:

        async def first(event: Event) -> None:
            await asyncio.sleep(0.001)
            await raw.notify("b", {"n": event.data["n"]})

        async def second(event: Event) -> None:
            seen.append(event.data["n"])
    else:

        def first(event: Event) -> None:
            time.sleep(0.001)
            raw.notify("b", {"n": event.data["n"]})

        def second(event: Event) -> None:
            seen.append(event.data["n"])

    d.subscribe(first, "a")
    d.subscribe(second, "b")
    async with d:
        for n in range(50):
            await d.notify("a", {"n": n})
    assert sorted(seen) == list(range(50))  # every follow-up handled, none lost
    await d.start()
    await d.notify("a", {"n": 50})
    assert await d.stop() == DrainResult(2)
    with pytest.raises(PublishError, match="not running"):
        await d.notify("a", {"n": 51})  # from outside a handler, a stopped dispatcher refuses


async def test_a_publisher_blocked_when_stop_comes_gets_its_event_back(flavour: Flavour) -> None:
    started: list[int] = []
    handler, gate = _gated(flavour, started)
    d = flavour.Dispatcher(max_workers=1, max_queue=1)
    d.subscribe(handler, "**")
    await d.start()
    await d.publish(ev(data=1))
    await eventually(lambda: started == [1])
    await d.publish(ev(data=2))
    late = ev(data=3)
    blocked = flavour.background(d, "publish", late)
    await asyncio.sleep(0.02)
    stopping = flavour.background(d, "stop")
    with pytest.raises(PublishError, match="stopped") as info:
        await asyncio.wait_for(blocked, 3)
    assert [e.id for e in info.value.failed] == [late.id]
    gate.set()
    assert await asyncio.wait_for(stopping, 3) == DrainResult(2)
    assert started == [1, 2]


# ----------------------------------------------------------------------------------- context


@pytest.mark.parametrize("inline", [True, False])
async def test_handlers_run_in_the_publishers_context(flavour: Flavour, inline: bool) -> None:
    seen: list[tuple[Event, EventContext]] = []
    d = flavour.Dispatcher(inline=inline)
    d.subscribe(flavour.handler(lambda e: seen.append((e, current_context()))), "**")
    async with d:
        with event_context(correlation_id="corr-1", traceparent=TP) as publisher:
            published = await d.notify("user.created", {"id": 1})
        # Outside any context: the handler gets a context of its own, rooted in the event.
        await d.notify("user.created")
    (event, inside), (bare_event, bare_inside) = seen
    assert event == published
    assert event.correlation_id == "corr-1" == inside.correlation_id
    assert event.traceparent == publisher.traceparent.format()  # type: ignore[union-attr]
    assert inside.trace_id == publisher.trace_id == TP.split("-")[1]
    assert inside.span_id != publisher.span_id  # the handling is a child span
    assert inside.causation_id == event.id
    assert bare_inside.causation_id == bare_event.id
    assert bare_inside.correlation_id is not None and bare_inside.correlation_id != "corr-1"
    # The publisher's own context is untouched.
    assert current_context().empty


async def test_an_events_own_correlation_wins_over_the_publishers(flavour: Flavour) -> None:
    seen: list[EventContext] = []
    d = flavour.Dispatcher(inline=True)
    d.subscribe(flavour.handler(lambda e: seen.append(current_context())), "**")
    async with d:
        with event_context(correlation_id="publisher"):
            await d.publish(ev(correlation_id="own", traceparent=TP))
    assert seen[0].correlation_id == "own"
    assert seen[0].trace_id == TP.split("-")[1]


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


@pytest.mark.parametrize("inline", [True, False])
async def test_a_handlers_http_calls_carry_the_publishers_context(
    flavour: Flavour, inline: bool, service: tuple[HTTPServer, list[dict[str, str]]]
) -> None:
    running, sent = service
    sent.clear()
    url = running.url_for("/echo")
    inside: list[EventContext] = []
    if flavour.is_async:

        async def call_service(event: Event) -> None:
            inside.append(current_context())
            async with midil_async.HttpClient() as client:
                await client.get(url)

        handler: Any = call_service
    else:

        def call_service_sync(event: Event) -> None:
            inside.append(current_context())
            with midil_sync.HttpClient() as client:
                client.get(url)

        handler = call_service_sync
    d = flavour.Dispatcher(inline=inline)
    d.subscribe(handler, "user.*")
    async with d:
        with event_context(correlation_id="corr-http", traceparent=TP) as publisher:
            await d.notify("user.created")
    [headers] = sent
    assert headers["x-correlation-id"] == "corr-http" == publisher.correlation_id
    parent = TraceParent.parse(headers["traceparent"])
    assert parent.trace_id == publisher.trace_id
    # The request's parent span is the handler's span, a child of the publisher's.
    assert headers["traceparent"] == inside[0].traceparent.format()  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ shell specific


async def test_the_sync_shell_refuses_coroutine_handlers() -> None:
    d = midil_sync.EventDispatcher()

    async def handler(event: Event) -> None: ...

    with pytest.raises(ConfigError, match="coroutine function"):
        d.subscribe(handler, "**")
    with pytest.raises(ConfigError, match="coroutine function"):
        d.on("**")(handler)
    # Registered on a shared router behind its back: refused when an event would reach it.
    d.router.add("**", handler)
    with d, pytest.raises(ConfigError, match="coroutine function"):
        d.notify("a.b")


async def test_the_async_shell_runs_plain_handlers_in_a_thread_in_the_context() -> None:
    seen: list[tuple[int, EventContext]] = []
    d = midil_async.EventDispatcher(inline=True)
    d.subscribe(lambda e: seen.append((threading.get_ident(), current_context())), "**")
    async with d, event_context(correlation_id="plain") as publisher:
        event = await d.notify("a.b")
    [(ident, inside)] = seen
    assert ident != threading.get_ident()
    assert inside.correlation_id == "plain" and inside.trace_id == publisher.trace_id
    assert inside.causation_id == event.id


async def test_the_async_shell_bounds_handler_concurrency() -> None:
    running = 0
    peak = 0

    async def handler(event: Event) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1

    d = midil_async.EventDispatcher(max_workers=3)
    d.subscribe(handler, "**")
    async with d:
        for i in range(30):
            await d.notify("a.b", i)
    assert peak == 3


def test_the_async_dispatcher_works_on_consecutive_event_loops() -> None:
    seen: list[Any] = []
    d = midil_async.EventDispatcher(max_workers=2)

    @d.on("**")
    async def handler(event: Event) -> None:
        seen.append(event.data)

    async def one_run(n: int, stop: bool) -> None:
        await d.start()
        for i in range(3):
            await d.notify("a.b", (n, i))
        if stop:
            assert await d.stop() == DrainResult(3)

    asyncio.run(one_run(1, stop=True))
    asyncio.run(one_run(2, stop=True))
    assert seen == [(n, i) for n in (1, 2) for i in range(3)]
    # A loop that ends without stop (its workers cancelled with it) leaves the next loop a fresh run.
    asyncio.run(one_run(3, stop=False))
    asyncio.run(one_run(4, stop=True))
    assert seen[-3:] == [(4, i) for i in range(3)]


# ------------------------------------------------------------------- the core's handling context


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"correlation_id": "own"},
        {"traceparent": TP},
        {"traceparent": "not-a-traceparent"},
        {"correlation_id": "own", "causation_id": "cause", "traceparent": TP},
    ],
)
@pytest.mark.parametrize("publisher", [None, ("pub", "00-" + "1" * 32 + "-" + "2" * 16 + "-01")])
def test_the_handling_context_is_what_event_context_opens_for_the_stamped_event(
    fields: dict[str, str], publisher: tuple[str, str] | None
) -> None:
    from midil_common.events import stamp
    from midil_common.events.dispatch import HandlingContexts

    contexts = HandlingContexts()
    event = ev(**fields)
    with event_context(*publisher) if publisher else _no_scope():
        for _ in range(2):  # the second time from the remembered traceparent
            stamped, decided = contexts.for_event(event)
            assert stamped == stamp(event)
            with event_context(event=stamp(event)) as expected:
                pass
            if publisher is None and "correlation_id" not in fields:
                assert decided.correlation_id not in (None, expected.correlation_id)  # a new one
            else:
                assert decided.correlation_id == expected.correlation_id
            assert decided.causation_id == expected.causation_id == event.id
            assert decided.span_id != expected.span_id  # each handling is a span of its own
            if publisher is None and fields.get("traceparent") != TP:
                assert decided.trace_id not in (None, expected.trace_id)  # a new trace each time
            else:
                assert decided.trace_id == expected.trace_id
        if publisher:
            built = contexts.build("/src", "a.b", None, {})
            assert built == stamp(Event(id=built.id, time=built.time, source="/src", type="a.b"))


class _no_scope:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

"""sqs_batch_handler of both shells on Lambda SQS events of the documented shapes (standard and
FIFO queues), with sync and async router handlers, poison, and the Lambda runtime's one
``asyncio.run`` per invocation."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import pytest

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events import Event, EventRouter, SQSCodec, current_context
from midil_common.testing.aws import MotoServer

from .conftest import REGION, Shell, drain, new_queue

CODEC = SQSCodec()
ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def record(event: Event | str, index: int, *, group: str | None = None) -> dict[str, Any]:
    """A record as Lambda delivers it (the shape documented for SQS event sources)."""
    if isinstance(event, Event):
        message = CODEC.encode(event)
        body = message["MessageBody"]
        attributes = {
            name: {
                "stringValue": value["StringValue"],
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in message["MessageAttributes"].items()
        }
    else:
        body, attributes = event, {}
    system = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1767225600000",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1767225600100",
    }
    if group is not None:
        system.update(
            {
                "MessageGroupId": group,
                "MessageDeduplicationId": f"d{index}",
                "SequenceNumber": str(index),
            }
        )
    return {
        "messageId": f"m{index}",
        "receiptHandle": f"AQEB-{index}",
        "body": body,
        "attributes": system,
        "messageAttributes": attributes,
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN + (".fifo" if group else ""),
        "awsRegion": REGION,
    }


def order(n: int, **extra: Any) -> Event:
    return Event(source="/orders", type="order.created", data={"n": n}, **extra)


def invoke(shell: Shell, handler: Any, payload: Any) -> Any:
    """One Lambda invocation: the async handler run as the runtime would, with ``asyncio.run``."""
    if shell.is_async:
        assert inspect.iscoroutinefunction(handler)
        return asyncio.run(handler(payload, None))
    assert not inspect.iscoroutinefunction(handler)
    return handler(payload, None)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_standard_queue_reports_only_the_failed(shell: Shell, kind: str) -> None:
    router = EventRouter()
    seen: list[tuple[int, Any, str | None, str | None]] = []

    def body(event: Event) -> None:
        ctx = current_context()
        seen.append((event.data["n"], ctx.correlation_id, ctx.causation_id, ctx.trace_id))
        if event.data["n"] == 2:
            raise RuntimeError("boom")

    if kind == "sync":
        router.add("order.*", body)
    else:

        async def abody(event: Event) -> None:
            await asyncio.sleep(0)
            body(event)

        router.add("order.*", abody)
    handler = shell.mod.sqs_batch_handler(router)
    events = [order(n, correlation_id=f"c{n}", traceparent=PARENT) for n in range(4)]
    answer = invoke(shell, handler, {"Records": [record(e, i) for i, e in enumerate(events)]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert sorted(seen) == [
        (n, f"c{n}", events[n].id, "0af7651916cd43dd8448eb211c80319c") for n in range(4)
    ]


def test_fifo_group_after_a_failure_is_reported_and_not_handled(shell: Shell) -> None:
    router = EventRouter()
    handled: list[str] = []

    @router.on("order.created")
    def on_order(event: Event) -> None:
        handled.append(event.subject or "")
        if event.subject == "a2":
            raise ValueError("a2 fails")

    handler = shell.mod.sqs_batch_handler(router)
    names = [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B"), ("a3", "A"), ("b3", "B")]
    records = [
        record(order(i, subject=name), i, group=group) for i, (name, group) in enumerate(names)
    ]
    answer = invoke(shell, handler, {"Records": records})
    # a2 failed: a3 (later in group A) is reported too, never handled out of order.
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m4"}]}
    assert "a3" not in handled
    assert [h for h in handled if h.startswith("a")] == ["a1", "a2"]
    assert [h for h in handled if h.startswith("b")] == ["b1", "b2", "b3"]


def test_poison_and_unrouted_messages_are_reported(
    shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    router = EventRouter()
    router.add("order.created", lambda event: None)
    handler = shell.mod.sqs_batch_handler(router)
    records = [
        record(order(0), 0),
        record('{"broken": ', 1),
        record(Event(source="/x", type="nobody.listens"), 2),
        record("plain text is a foreign message", 3),  # type sqs.message: no handler
        record(order(4), 4),
    ]
    answer = invoke(shell, handler, {"Records": records})
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m{i}"} for i in (1, 2, 3)]}
    assert "poison SQS message m1" in caplog.text
    assert "no handler for event" in caplog.text


def test_handler_failures_are_logged_without_data(
    shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    router = EventRouter()

    @router.on("order.created")
    def first(event: Event) -> None:
        raise KeyError("secret-data")

    later: list[int] = []
    router.add("order.*", lambda event: later.append(1))
    handler = shell.mod.sqs_batch_handler(router)
    event = order(0)
    answer = invoke(shell, handler, {"Records": [record(event, 0)]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert later == []  # the first failure fails the message: the rest do not run
    assert event.id in caplog.text and "KeyError" in caplog.text


def test_sync_handlers_run_in_a_worker_thread_in_the_async_shell(shell: Shell) -> None:
    router = EventRouter()
    threads: list[int] = []
    router.add("order.created", lambda event: threads.append(threading.get_ident()))
    handler = shell.mod.sqs_batch_handler(router)
    assert invoke(shell, handler, {"Records": [record(order(0), 0)]}) == {"batchItemFailures": []}
    on_main = threads == [threading.get_ident()]
    assert on_main is (not shell.is_async)


def test_consecutive_invocations_each_with_asyncio_run(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    # As in a Lambda module: the publisher is built once per process, the handler runs in a new
    # loop per invocation (async shell) and publishes from inside it.
    out = new_queue(sqs)
    publisher = shell.make(
        "SQSPublisher",
        out,
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
        max_message_size=262_144,
    )
    router = EventRouter()

    if shell.is_async:

        @router.on("order.created")
        async def forward(event: Event) -> None:
            await publisher.publish(
                Event(source="/lambda", type="order.forwarded", data=event.data)
            )

    else:

        @router.on("order.created")
        def forward(event: Event) -> None:
            publisher.publish(Event(source="/lambda", type="order.forwarded", data=event.data))

    handler = shell.mod.sqs_batch_handler(router)
    for n in range(2):
        incoming = order(n, correlation_id=f"run-{n}")
        assert invoke(shell, handler, {"Records": [record(incoming, n)]}) == {
            "batchItemFailures": []
        }
    got = sorted((CODEC.decode(m).event for m in drain(sqs, out, 2)), key=lambda e: e.data["n"])
    assert [(e.data["n"], e.correlation_id) for e in got] == [(0, "run-0"), (1, "run-1")]


def test_async_router_handlers_in_the_sync_shell_run_to_completion() -> None:
    import midil_sync

    router = EventRouter()
    done: list[str | None] = []

    @router.on("order.created")
    async def on_order(event: Event) -> None:
        await asyncio.sleep(0)
        done.append(current_context().correlation_id)

    handler = midil_sync.sqs_batch_handler(router)
    answer = handler({"Records": [record(order(0, correlation_id="c-x"), 0)]}, None)
    assert answer == {"batchItemFailures": []} and done == ["c-x"]


def test_not_an_sqs_event(shell: Shell) -> None:
    handler = shell.mod.sqs_batch_handler(EventRouter())
    with pytest.raises(InvalidEventError):
        invoke(shell, handler, {"detail-type": "x"})
    with pytest.raises(ConfigError):
        shell.mod.sqs_batch_handler(object())
    assert invoke(shell, handler, {"Records": []}) == {"batchItemFailures": []}


def test_parse_eventbridge_event_is_exported(shell: Shell) -> None:
    event = order(1)
    payload = {
        "version": "0",
        "id": "eb-1",
        "detail-type": "order.created",
        "source": "app.orders",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": event.to_dict(),
    }
    assert shell.mod.parse_eventbridge_event(payload) == event
    assert shell.mod.events.parse_eventbridge_event is shell.mod.parse_eventbridge_event

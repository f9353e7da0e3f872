"""``SQSConsumer`` of both shells against a scripted SQS stand-in giving hostile answers: huge event
types, poison by the hundred, bogus receive counts, more messages than asked for. The consumer
keeps its memory bounded, its workers alive, and settles every message it received."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from midil_common.events import Event

from .conftest import Shell, StandIn, eventually, message


def _messages(total: int, make: Callable[[int], dict[str, Any]]) -> Callable[[Any], Any]:
    """A ``ReceiveMessage`` answer giving as many messages as asked for, ``total`` in all."""
    numbers = itertools.count()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        batch = []
        for _ in range(int(body.get("MaxNumberOfMessages", 1))):
            n = next(numbers)
            if n >= total:
                break
            batch.append(make(n))
        return {"Messages": batch} if batch else {}

    return answer


def test_long_event_types_are_handled_and_not_kept_in_the_plan_cache(
    shell: Shell, stand_in: StandIn
) -> None:
    def long_typed(n: int) -> dict[str, Any]:
        return message(n, Event(type=f"{n:04d}" + "x" * 20_000, source="/t"))

    stand_in.script["ReceiveMessage"] = [_messages(20, long_typed)]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url)
    consumer.on("**")(shell.handler(lambda e: None))
    stats = shell.run_until_empty(consumer)
    assert stats.handled == stats.deleted == 20
    assert len(consumer._plans) == 0


def _entries_of(stand_in: StandIn, operation: str) -> int:
    return sum(len(body.get("Entries", [])) for body in stand_in.calls_of(operation))


def test_messages_settled_without_a_delete_leave_no_receipt_handle_behind(
    shell: Shell, stand_in: StandIn
) -> None:
    def mixed(n: int) -> dict[str, Any]:
        if n % 3 == 0:  # poison: released for the dead-letter queue
            return {**message(n), "Body": '{"broken": '}
        return message(n, Event(type="fail.me" if n % 3 == 1 else "order.ok", source="/t"))

    def fail(event: Event) -> None:
        if event.type == "fail.me":
            raise RuntimeError("handler failed")

    stand_in.script["ReceiveMessage"] = [_messages(30, mixed)]
    refused = {"Code": "ReceiptHandleIsInvalid", "SenderFault": True}
    stand_in.script["DeleteMessageBatch"] = [
        lambda body: {
            "Successful": [],
            "Failed": [{"Id": e["Id"], **refused} for e in body["Entries"]],
        }
    ]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url, heartbeat=False)
    consumer.on("**")(shell.handler(fail))
    running = shell.start(consumer)
    eventually(
        lambda: (
            _entries_of(stand_in, "ChangeMessageVisibilityBatch") == 20
            and _entries_of(stand_in, "DeleteMessageBatch") == 10
        )
    )
    run = consumer._current
    eventually(lambda: not run.handles, within=1)  # every message settled: no handle kept
    stats = running.stop(0)
    assert stats.poison == 10 and stats.retried == 10 and stats.delete_failed == 10

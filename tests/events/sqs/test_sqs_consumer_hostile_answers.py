"""``SQSConsumer`` of both shells against a scripted SQS stand-in giving hostile answers: huge event
types, poison by the hundred, bogus receive counts, more messages than asked for. The consumer
keeps its memory bounded, its workers alive, and settles every message it received."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import pytest

from midil_common.events import Event, RedeliveryPolicy
from midil_common.events.redelivery import SQS_MAX_VISIBILITY_TIMEOUT

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


def _visibility(stand_in: StandIn, handle: str) -> list[int]:
    """The visibility timeouts set on the message of receipt handle ``handle``."""
    return [
        int(entry["VisibilityTimeout"])
        for body in stand_in.calls_of("ChangeMessageVisibilityBatch")
        for entry in body.get("Entries", [])
        if entry["ReceiptHandle"] == handle
    ]


def test_a_bogus_receive_count_is_backed_off_at_the_cap_and_the_worker_goes_on(
    shell: Shell, stand_in: StandIn
) -> None:
    bogus = message(1, Event(type="fail.me", source="/t"), receive_count=10**10)
    stand_in.script["ReceiveMessage"] = [{"Messages": [bogus]}, {"Messages": [message(2)]}, {}]

    def fail(event: Event) -> None:
        if event.type == "fail.me":
            raise RuntimeError("handler failed")

    # int base and factor: the backoff must not be computed as an exact integer power
    policy = RedeliveryPolicy(base=1, factor=3, jitter=False)
    consumer = shell.consumer(
        stand_in.queue_url, stand_in.endpoint_url, concurrency=1, redelivery=policy
    )
    consumer.on("**")(shell.handler(fail))
    running = shell.start(consumer)
    eventually(lambda: consumer.stats.handled == 1, within=2)  # the only slot was freed
    stats = running.stop(1)
    assert stats.failed == stats.retried == 1
    assert _visibility(stand_in, bogus["ReceiptHandle"]) == [SQS_MAX_VISIBILITY_TIMEOUT]


class _BrokenPolicy(RedeliveryPolicy):
    """A policy that fails on the 7th receive: an unexpected error inside the consumer."""

    def visibility_after_failure(self, receive_count: int, rng: Any) -> int:
        if receive_count == 7:
            raise MemoryError("no memory left for this one")
        return super().visibility_after_failure(receive_count, rng)


def test_an_unexpected_error_settling_a_message_releases_it_and_the_worker_goes_on(
    shell: Shell, stand_in: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    poison = {**message(1, receive_count=7), "Body": '{"broken": '}
    stand_in.script["ReceiveMessage"] = [{"Messages": [poison]}, {"Messages": [message(2)]}, {}]
    consumer = shell.consumer(
        stand_in.queue_url, stand_in.endpoint_url, concurrency=1, redelivery=_BrokenPolicy()
    )
    consumer.on("**")(shell.handler(lambda e: None))
    running = shell.start(consumer)
    with caplog.at_level(logging.ERROR, logger="midil.events"):
        eventually(lambda: consumer.stats.handled == 1, within=2)  # the only worker lives on
        eventually(lambda: bool(_visibility(stand_in, poison["ReceiptHandle"])), within=1)
    stats = running.stop(1)
    assert _visibility(stand_in, poison["ReceiptHandle"]) == [0]  # released, never deleted
    assert stats.released == 1 and stats.deleted == 1 and stats.in_flight == 0
    assert any("m-1" in r.getMessage() and r.exc_info for r in caplog.records)


def test_messages_beyond_those_asked_for_are_released_at_once_and_never_handled(
    shell: Shell, stand_in: StandIn
) -> None:
    pool = [message(n) for n in range(14)]
    handles = {n: m["ReceiptHandle"] for n, m in enumerate(pool)}
    given: list[tuple[int, list[int]]] = []  # (asked, numbers given) per receive

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        asked = int(body["MaxNumberOfMessages"])
        extra = 3 if len(given) < 2 else 0  # the first two answers hold 3 more than asked
        batch = [pool.pop(0) for _ in range(min(len(pool), asked + extra))]
        given.append((asked, [int(m["MessageId"][2:]) for m in batch]))
        return {"Messages": batch} if batch else {}

    stand_in.script["ReceiveMessage"] = [answer]
    handled: list[int] = []
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url, concurrency=2)
    consumer.on("**")(shell.handler(lambda e: handled.append(e.data["n"])))
    running = shell.start(consumer)

    def settled() -> int:
        return _entries_of(stand_in, "DeleteMessageBatch") + _entries_of(
            stand_in, "ChangeMessageVisibilityBatch"
        )

    eventually(lambda: settled() == 14, within=2)
    stats = running.stop(1)
    # Of each answer, only as many as asked for were handled; the rest were given back at once.
    expected = sorted(n for asked, numbers in given for n in numbers[:asked])
    assert sorted(handled) == expected and stats.deleted == len(expected)
    for n, handle in handles.items():
        assert _visibility(stand_in, handle) == ([] if n in expected else [0]), n
    assert stats.received == 14 and stats.released == 14 - len(expected)
    assert stats.in_flight == 0

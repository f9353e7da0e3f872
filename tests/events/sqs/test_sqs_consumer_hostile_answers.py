"""``SQSConsumer`` of both shells against a scripted SQS stand-in giving hostile answers: huge event
types, poison by the hundred, bogus receive counts, more messages than asked for. The consumer
keeps its memory bounded, its workers alive, and settles every message it received."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from midil_common.events import Event

from .conftest import Shell, StandIn, message


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

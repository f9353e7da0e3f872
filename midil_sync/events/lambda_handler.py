# Generated from midil_async/events/lambda_handler.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""AWS Lambda with an SQS event source: ``sqs_batch_handler(router)``.

The handler it returns decodes the records of an invocation with the SQS codec
(:func:`~midil_common.events.lambda_sqs.parse_sqs_event`), routes each event with the
``EventRouter`` (the same routing as the dispatcher and the SQS consumer), runs its handlers in
the event's context (its correlation id, a child span of its ``traceparent``, its id as the
causation id) and answers with the partial batch response
(:func:`~midil_common.events.lambda_sqs.batch_item_failures`): the messages to leave on the queue.
The function's event source mapping must enable ``ReportBatchItemFailures``.

- A message is handled when every handler of its type returned; the first handler that raises
  fails it (logged with the event id and type, never the data) and the later ones do not run.
- A poison message (undecodable) and a message no handler is registered for are reported failed,
  so the queue's redrive policy moves them to its dead-letter queue.
- FIFO queues: the messages of one group are handled in order, one at a time; after the first
  that fails, the rest of that group is not handled and is reported failed, so Lambda delivers
  the group again in order.
- Messages of different groups (every message of a standard queue) are handled side by side in
  the async shell (concurrent threads), one after the other in the sync shell.
- Router handlers may be plain functions or functions, so one ``EventRouter`` serves
  both shells. In the async shell a function is awaited and a plain function runs in a
  worker thread; in the sync shell a plain function is called and a function runs to
  completion in a new loop of its own, per call (which fails, reporting the message failed, in a
  thread that is running a loop already).

In the async shell the handler is a function: the Lambda entry point runs it in a new
loop per invocation (``run(handler(event, context))``). It keeps nothing bound to a loop, and the
kit's clients (publishers, HTTP clients) make their connections anew in each loop: build them once
per process, at module level. Raises ``InvalidEventError`` when the payload is not an SQS event at
all. One source serves both shells: the sync module is generated from this one by
``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from midil_common.errors import ConfigError
from midil_common.events.dispatch import report_handler_failure, reset_current, set_current
from midil_common.events.lambda_sqs import batch_item_failures, parse_sqs_event
from midil_common.events.publishing import handling_context
from midil_common.events.receiving import message_lanes
from midil_common.events.router import EventRouter, Handler, PlanCache
from midil_common.events.sqs_codec import ReceivedMessage, SQSCodec
from midil_sync._primitives import gather
from midil_sync.events._handler_calls import handler_call

__all__ = ["SQSBatchHandler", "sqs_batch_handler"]

logger = logging.getLogger("midil.events")

BatchResponse = dict[str, list[dict[str, str]]]
_Step = tuple[Handler, Callable[[Any], Awaitable[Any]]]


class SQSBatchHandler(Protocol):
    """A Lambda handler for SQS events: ``handler(event, context)`` returning
    ``{"batchItemFailures": [{"itemIdentifier": message_id}, ...]}``."""

    def __call__(self, event: Any, context: Any = None) -> BatchResponse:
        """Handle one invocation's SQS event; ``context`` (Lambda's) is not used."""
        ...


class _Batches:
    """Handles the records of one invocation after another (no state between them)."""

    __slots__ = ("_codec", "_plans", "_router")

    def __init__(self, router: EventRouter, codec: SQSCodec | None) -> None:
        self._router = router
        self._codec = codec
        self._plans: PlanCache[tuple[_Step, ...]] = PlanCache()

    def _steps(self, event_type: str) -> tuple[_Step, ...]:
        handlers = self._router.handlers_for(event_type)
        steps = self._plans.get(event_type, handlers)
        if steps is None:
            steps = tuple((handler, handler_call(handler)) for handler in handlers)
            self._plans.put(event_type, handlers, steps)
        return steps

    def handle(self, payload: Any) -> BatchResponse:
        messages = parse_sqs_event(payload, codec=self._codec)
        succeeded: set[str] = set()
        gather(*(self._lane(lane, succeeded) for lane in message_lanes(messages)))
        return batch_item_failures(messages, succeeded)

    def _lane(self, lane: Sequence[ReceivedMessage], succeeded: set[str]) -> bool:
        """Handle one lane in order; False when a message of it failed."""
        for message in lane:
            if not self._message(message):
                return False  # FIFO: the rest of the group is reported failed, not handled
            succeeded.add(message.message_id)
        return True

    def _message(self, message: ReceivedMessage) -> bool:
        event = message.event
        if event is None:
            logger.warning(
                "poison SQS message %s reported failed: %s",
                message.message_id,
                message.poison,
                extra={"message_id": message.message_id, "poison": message.poison},
            )
            return False
        steps = self._steps(event.type)
        if not steps:
            logger.warning(
                "no handler for event %s (type %s) of SQS message %s: reported failed",
                event.id,
                event.type,
                message.message_id,
                extra={"message_id": message.message_id, "event_id": event.id},
            )
            return False
        token = set_current(handling_context(event))
        try:
            for handler, call in steps:
                try:
                    call(event)
                except Exception as exc:
                    report_handler_failure(event, handler, exc, None)
                    return False
        finally:
            reset_current(token)
        return True


def sqs_batch_handler(router: EventRouter, *, codec: SQSCodec | None = None) -> SQSBatchHandler:
    """The Lambda handler ``handler(event, context)`` of an SQS event source, routing with
    ``router`` and decoding with ``codec`` (default ``SQSCodec()``); see the module docstring."""
    if not isinstance(router, EventRouter):
        raise ConfigError("router must be an EventRouter", variable="router")
    if codec is not None and not isinstance(codec, SQSCodec):
        raise ConfigError("codec must be an SQSCodec", variable="codec")
    batches = _Batches(router, codec)

    def handler(event: Any, context: Any = None) -> BatchResponse:
        return batches.handle(event)

    return handler

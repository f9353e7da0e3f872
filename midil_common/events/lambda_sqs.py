"""AWS Lambda with an SQS event source: the records of an invocation, and the partial batch
response that tells Lambda which messages to leave on the queue.

A Lambda SQS event is ``{"Records": [record, ...]}``, each record shaped like a received message
with lower-case keys (``messageId``, ``receiptHandle``, ``body``, ``attributes``,
``messageAttributes`` with ``stringValue``/``dataType``, ``eventSourceARN``).
:func:`parse_sqs_event` decodes every record with the SQS codec (poison records included, never
raising for one record); :func:`batch_item_failures` builds the ``{"batchItemFailures": [...]}``
answer (the function's event source mapping must enable ``ReportBatchItemFailures``).

FIFO queues: messages of one group are handled in order (use
:func:`~midil_common.events.receiving.message_lanes`) and, after the first message of a group that
did not succeed, every later message of that group is reported failed too, even if it was handled,
so Lambda delivers the group again in order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from midil_common.errors import InvalidEventError
from midil_common.events.sqs_codec import ReceivedMessage, SQSCodec

__all__ = ["batch_item_failures", "parse_sqs_event"]

_DEFAULT_CODEC = SQSCodec()


def parse_sqs_event(payload: Any, *, codec: SQSCodec | None = None) -> tuple[ReceivedMessage, ...]:
    """The records of a Lambda SQS event, decoded in order (poison ones with their reason).

    Raises ``InvalidEventError`` only when ``payload`` is not an SQS event at all (no ``Records``
    list, or a record from another event source).
    """
    records = payload.get("Records") if isinstance(payload, Mapping) else None
    if not isinstance(records, list):
        raise InvalidEventError("not a Lambda SQS event: no 'Records' list")
    for record in records:
        if isinstance(record, Mapping) and record.get("eventSource", "aws:sqs") != "aws:sqs":
            raise InvalidEventError("not a Lambda SQS event: a record is from another source")
    codec = codec or _DEFAULT_CODEC
    return tuple(codec.decode_record(record) for record in records)


def batch_item_failures(
    messages: Sequence[ReceivedMessage], succeeded: Collection[str]
) -> dict[str, list[dict[str, str]]]:
    """The partial batch response for ``messages`` when those whose message id is in
    ``succeeded`` were handled successfully: every other message is reported failed, and on FIFO
    queues every message of a group after its first failure.

    A failed message without an id is reported with an empty ``itemIdentifier``, which makes Lambda
    treat the whole batch as failed: nothing is lost for want of an id.
    """
    failures: list[dict[str, str]] = []
    broken_groups: set[str] = set()
    reported: set[str] = set()
    for message in messages:
        failed = message.message_id not in succeeded or not message.message_id
        if message.group_id is not None:
            if message.group_id in broken_groups:
                failed = True
            elif failed:
                broken_groups.add(message.group_id)
        if failed and message.message_id not in reported:
            reported.add(message.message_id)
            failures.append({"itemIdentifier": message.message_id})
    return {"batchItemFailures": failures}

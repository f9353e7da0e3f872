"""What a consumer asks SQS for, and in which order it handles what it got.

- Backpressure: a receive asks for at most as many messages as there are free worker slots
  (:func:`receive_size`), and no receive is made without one (:func:`receive_request` gives None).
- Long polling: the HTTP read timeout must outlast the wait (:func:`read_timeout`).
- FIFO queues: messages of one group are handled in order, one at a time (:func:`message_lanes`);
  after a failure the rest of that group's batch is released, not handled out of order
  (:func:`release_after_failure`). Messages of standard queues each get a lane of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from midil_common.errors import ConfigError
from midil_common.events.redelivery import SQS_MAX_VISIBILITY_TIMEOUT
from midil_common.events.sqs_codec import ReceivedMessage

__all__ = [
    "SQS_MAX_RECEIVE",
    "SQS_MAX_WAIT_TIME",
    "message_lanes",
    "read_timeout",
    "receive_request",
    "receive_size",
    "release_after_failure",
]

SQS_MAX_RECEIVE = 10
"""The most messages one ``receive_message`` call returns."""
SQS_MAX_WAIT_TIME = 20
"""The longest long-polling wait, in seconds."""
_READ_MARGIN = 10.0


def _int(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}", variable=name)
    return value


def receive_size(free_slots: int, max_messages: int = SQS_MAX_RECEIVE) -> int:
    """How many messages to ask for: never more than the free slots, ``max_messages`` or 10."""
    return max(0, min(SQS_MAX_RECEIVE, max_messages, free_slots))


def receive_request(
    queue_url: str,
    *,
    free_slots: int,
    max_messages: int = SQS_MAX_RECEIVE,
    wait_time_seconds: int = SQS_MAX_WAIT_TIME,
    visibility_timeout: int | None = None,
) -> dict[str, Any] | None:
    """The ``receive_message`` arguments for the free slots, or None when no slot is free.

    Every system attribute (receive count, group id, timestamps, ``AWSTraceHeader``) and every
    message attribute is asked for.
    """
    _int("max_messages", max_messages, 1, SQS_MAX_RECEIVE)
    _int("wait_time_seconds", wait_time_seconds, 0, SQS_MAX_WAIT_TIME)
    count = receive_size(free_slots, max_messages)
    if count == 0:
        return None
    request: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": count,
        "WaitTimeSeconds": wait_time_seconds,
        "MessageSystemAttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
    }
    if visibility_timeout is not None:
        request["VisibilityTimeout"] = _int(
            "visibility_timeout", visibility_timeout, 0, SQS_MAX_VISIBILITY_TIMEOUT
        )
    return request


def read_timeout(wait_time_seconds: int, margin: float = _READ_MARGIN) -> float:
    """The HTTP read timeout of a long poll: the wait plus ``margin`` seconds."""
    return float(wait_time_seconds) + margin


def message_lanes(messages: Sequence[ReceivedMessage]) -> list[tuple[ReceivedMessage, ...]]:
    """Split a received batch into lanes handled one message at a time, lanes side by side.

    Messages of one FIFO group share a lane, in the order received (lanes ordered by their first
    message); a message without a group is a lane of its own.
    """
    lanes: list[list[ReceivedMessage]] = []
    by_group: dict[str, list[ReceivedMessage]] = {}
    for message in messages:
        if message.group_id is None:
            lanes.append([message])
            continue
        lane = by_group.get(message.group_id)
        if lane is None:
            lane = by_group[message.group_id] = []
            lanes.append(lane)
        lane.append(message)
    return [tuple(lane) for lane in lanes]


def release_after_failure(
    lane: Sequence[ReceivedMessage], failed: ReceivedMessage
) -> tuple[ReceivedMessage, ...]:
    """The messages of ``lane`` after ``failed``: not handled, to be released (visibility 0) so
    the group is delivered again in order. Empty when ``failed`` is not in the lane."""
    for index, message in enumerate(lane):
        if message is failed or (
            message.message_id == failed.message_id
            and message.receipt_handle == failed.receipt_handle
        ):
            return tuple(lane[index + 1 :])
    return ()

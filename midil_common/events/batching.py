"""Splitting entries into the batches SQS and EventBridge accept, before any call is made.

Limits:

- SQS ``send_message_batch``: at most 10 entries; each message at most the queue's
  ``MaximumMessageSize`` (the shell reads it from the queue; 262,144 bytes unless set, at most
  1 MiB = 1,048,576); the batch at most ``max_batch_size`` (default: the same as a message, which
  holds for queues of either era; SQS now accepts 1 MiB per batch and ``max_batch_size`` may say
  so). A message's size is what SQS counts: the body plus every message attribute's name, data type
  and value, in UTF-8 bytes (system attributes such as ``AWSTraceHeader`` do not count).
- EventBridge ``put_events``: at most 10 entries and 256 KiB in all, each entry sized as AWS
  documents it (``Time`` 14 bytes when present, plus the UTF-8 bytes of ``Source``, ``DetailType``,
  ``Detail`` and each of ``Resources``).
- ``delete_message_batch`` and ``change_message_visibility_batch``: at most 10 entries.

An event too big for one message is refused with :class:`~midil_common.errors.InvalidEventError`,
naming the event id and both sizes, before any batch is returned, so nothing of the call is sent:
the event itself is at fault and sending it again cannot help (``PublishError`` is kept for what
the service refused). Batches keep the order of their input, and entry ``Id`` s are the positions
in the batch (``"0"`` to ``"9"``), unique and valid whatever the event ids hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events.batch_result import (
    BatchResult,
    call_failed,
    eventbridge_batch_result,
    sqs_batch_result,
)
from midil_common.events.envelope import Event
from midil_common.events.eventbridge import DEFAULT_EVENT_BUS, eventbridge_entry
from midil_common.events.sqs_codec import (
    SQS_DEFAULT_MAX_MESSAGE_SIZE,
    SQS_MAX_MESSAGE_SIZE,
    ReceivedMessage,
    SQSCodec,
)

__all__ = [
    "EVENTBRIDGE_MAX_BATCH_ENTRIES",
    "EVENTBRIDGE_MAX_BATCH_SIZE",
    "EVENTBRIDGE_MAX_ENTRY_SIZE",
    "SQS_MAX_BATCH_ENTRIES",
    "SQS_MIN_MESSAGE_SIZE",
    "Batch",
    "delete_batches",
    "eventbridge_batches",
    "eventbridge_entry_size",
    "split_by_size",
    "sqs_batches",
    "sqs_message_size",
    "visibility_batches",
]

T = TypeVar("T")

SQS_MAX_BATCH_ENTRIES = 10
SQS_MIN_MESSAGE_SIZE = 1024
"""The smallest ``MaximumMessageSize`` a queue can have."""
EVENTBRIDGE_MAX_BATCH_ENTRIES = 10
EVENTBRIDGE_MAX_ENTRY_SIZE = 262_144
EVENTBRIDGE_MAX_BATCH_SIZE = 262_144
_EVENTBRIDGE_TIME_SIZE = 14


def _utf8(text: Any) -> int:
    if isinstance(text, (bytes, bytearray, memoryview)):
        return len(text)
    return len(str(text).encode("utf-8", "surrogatepass"))


def sqs_message_size(message: Mapping[str, Any]) -> int:
    """The size SQS counts for a message (a ``send_message`` argument dict or batch entry)."""
    size = _utf8(message.get("MessageBody", ""))
    attributes = message.get("MessageAttributes") or {}
    for name, attribute in attributes.items():
        size += _utf8(name) + _utf8(attribute.get("DataType", ""))
        if "StringValue" in attribute:
            size += _utf8(attribute["StringValue"])
        if "BinaryValue" in attribute:
            size += _utf8(attribute["BinaryValue"])
    return size


def eventbridge_entry_size(entry: Mapping[str, Any]) -> int:
    """The size EventBridge counts for a ``put_events`` entry (as AWS documents it)."""
    size = _EVENTBRIDGE_TIME_SIZE if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key) is not None:
            size += _utf8(entry[key])
    for resource in entry.get("Resources") or ():
        size += _utf8(resource)
    return size


def split_by_size(sizes: Sequence[int], *, max_entries: int, max_bytes: int) -> list[range]:
    """Split positions ``0..len(sizes)-1``, in order, into runs of at most ``max_entries`` whose
    sizes sum to at most ``max_bytes`` (each size must be at most ``max_bytes``). Greedy: a run
    closes only when the next entry would not fit."""
    runs: list[range] = []
    start = 0
    total = 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= max_entries or total + size > max_bytes):
            runs.append(range(start, index))
            start, total = index, 0
        total += size
    if start < len(sizes):
        runs.append(range(start, len(sizes)))
    return runs


@dataclass(frozen=True, slots=True)
class Batch(Generic[T]):
    """One batch call's worth of entries: ``items`` (what each entry stands for) and ``entries``
    (aligned, ready for ``Entries=list(batch.entries)``), with their counted ``size`` in bytes."""

    service: Literal["sqs", "eventbridge"]
    items: tuple[T, ...]
    entries: tuple[Mapping[str, Any], ...]
    size: int = 0

    def result(self, response: Mapping[str, Any]) -> BatchResult[T]:
        """Read the service's response to this batch (which entries succeeded and failed)."""
        if self.service == "eventbridge":
            return eventbridge_batch_result(self.items, response)
        return sqs_batch_result(self.items, self.entries, response)

    def call_failed(
        self,
        code: str | None,
        message: str = "",
        *,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> BatchResult[T]:
        """The result when the whole call raised (error ``code`` and HTTP ``status`` if known):
        every entry failed, retryably when the error is transient."""
        return call_failed(self.items, code, message, status=status, retryable=retryable)


def _limit(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}", variable=name)
    return value


def _short_id(event: Event) -> str:
    return repr(event.id) if len(event.id) <= 80 else repr(event.id[:80]) + "..."


def sqs_batches(
    events: Sequence[Event],
    *,
    max_message_size: int = SQS_DEFAULT_MAX_MESSAGE_SIZE,
    max_batch_size: int | None = None,
    codec: SQSCodec | None = None,
    trace_header: str | None = None,
    message_group_id: str | Callable[[Event], str] | None = None,
    deduplication_id: str | Callable[[Event], str] | None = None,
    fifo: bool | None = None,
) -> list[Batch[Event]]:
    """Encode ``events`` (see :meth:`SQSCodec.encode`) and split them into ``send_message_batch``
    batches, in order.

    Raises ``InvalidEventError`` (before returning anything) for an event whose message exceeds
    ``max_message_size`` bytes, and ``ConfigError`` for limits out of SQS's range.
    """
    max_message_size = _limit(
        "max_message_size", max_message_size, SQS_MIN_MESSAGE_SIZE, SQS_MAX_MESSAGE_SIZE
    )
    if max_batch_size is None:
        max_batch_size = max_message_size
    max_batch_size = _limit(
        "max_batch_size", max_batch_size, max_message_size, SQS_MAX_MESSAGE_SIZE
    )
    codec = codec or SQSCodec()
    messages: list[dict[str, Any]] = []
    sizes: list[int] = []
    for event in events:
        message = codec.encode(
            event,
            trace_header=trace_header,
            message_group_id=message_group_id,
            deduplication_id=deduplication_id,
            fifo=fifo,
        )
        size = sqs_message_size(message)
        if size > max_message_size:
            raise InvalidEventError(
                f"event {_short_id(event)} is {size} bytes as an SQS message (body and "
                f"attributes); the queue accepts at most {max_message_size} bytes"
            )
        messages.append(message)
        sizes.append(size)
    batches: list[Batch[Event]] = []
    for run in split_by_size(sizes, max_entries=SQS_MAX_BATCH_ENTRIES, max_bytes=max_batch_size):
        entries = tuple({"Id": str(n), **messages[i]} for n, i in enumerate(run))
        batches.append(
            Batch("sqs", tuple(events[i] for i in run), entries, sum(sizes[i] for i in run))
        )
    return batches


def eventbridge_batches(
    events: Sequence[Event],
    *,
    bus_name: str = DEFAULT_EVENT_BUS,
    source: str | None = None,
    trace_header: str | None = None,
    resources: Sequence[str] = (),
) -> list[Batch[Event]]:
    """Write ``events`` as ``put_events`` entries (see
    :func:`~midil_common.events.eventbridge.eventbridge_entry`) and split them into batches of at
    most 10 entries and 256 KiB, in order.

    Raises ``InvalidEventError`` (before returning anything) for an entry over 256 KiB.
    """
    entries: list[dict[str, Any]] = []
    sizes: list[int] = []
    for event in events:
        entry = eventbridge_entry(
            event, bus_name=bus_name, source=source, trace_header=trace_header, resources=resources
        )
        size = eventbridge_entry_size(entry)
        if size > EVENTBRIDGE_MAX_ENTRY_SIZE:
            raise InvalidEventError(
                f"event {_short_id(event)} is {size} bytes as an EventBridge entry; "
                f"EventBridge accepts at most {EVENTBRIDGE_MAX_ENTRY_SIZE} bytes"
            )
        entries.append(entry)
        sizes.append(size)
    return [
        Batch(
            "eventbridge",
            tuple(events[i] for i in run),
            tuple(entries[i] for i in run),
            sum(sizes[i] for i in run),
        )
        for run in split_by_size(
            sizes, max_entries=EVENTBRIDGE_MAX_BATCH_ENTRIES, max_bytes=EVENTBRIDGE_MAX_BATCH_SIZE
        )
    ]


def _chunks(count: int) -> list[range]:
    return [
        range(start, min(start + SQS_MAX_BATCH_ENTRIES, count))
        for start in range(0, count, SQS_MAX_BATCH_ENTRIES)
    ]


def delete_batches(messages: Sequence[ReceivedMessage]) -> list[Batch[ReceivedMessage]]:
    """``delete_message_batch`` batches of ``messages`` (by receipt handle), in order."""
    return [
        Batch(
            "sqs",
            tuple(messages[i] for i in run),
            tuple(
                {"Id": str(n), "ReceiptHandle": messages[i].receipt_handle}
                for n, i in enumerate(run)
            ),
        )
        for run in _chunks(len(messages))
    ]


def visibility_batches(
    changes: Sequence[tuple[ReceivedMessage, int]],
) -> list[Batch[ReceivedMessage]]:
    """``change_message_visibility_batch`` batches of ``(message, seconds)`` pairs, in order
    (``seconds`` from 0 to 43,200, as SQS requires)."""
    for _, seconds in changes:
        _limit("visibility_timeout", seconds, 0, 43_200)
    return [
        Batch(
            "sqs",
            tuple(changes[i][0] for i in run),
            tuple(
                {
                    "Id": str(n),
                    "ReceiptHandle": changes[i][0].receipt_handle,
                    "VisibilityTimeout": changes[i][1],
                }
                for n, i in enumerate(run)
            ),
        )
        for run in _chunks(len(changes))
    ]

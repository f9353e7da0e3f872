"""Events as SQS messages: what the publishers send and what the consumers make of what they receive.

Encoding (:meth:`SQSCodec.encode`): the body is the event's CloudEvents JSON (structured mode, the
correlation id included); two String message attributes, ``ce-type`` and ``traceparent`` (when
set), let consumers route and trace without parsing the body and leave 8 of SQS's 10 attributes to
the user; an X-Ray header given as ``trace_header`` travels as the ``AWSTraceHeader`` system
attribute. FIFO queues get ``MessageGroupId`` and ``MessageDeduplicationId`` (default: a digest of
the event's source and id, its CloudEvents identity, so a retried send is deduplicated by SQS and
two events sharing an id from different sources are both delivered).

Decoding (:meth:`SQSCodec.decode` for ``receive_message`` messages, :meth:`SQSCodec.decode_record`
for Lambda event records) never raises; it returns a :class:`ReceivedMessage` holding the event or
the reason the message is poison. Bodies are read in this order:

1. a JSON object with ``specversion``: a CloudEvents event (ours); invalid attributes make it poison;
2. an EventBridge event (``version`` "0", ``detail-type``, ``source``, ``detail``), as a rule
   delivers it to a queue: the event our EventBridge codec wrote, restored exactly, or an event
   with the envelope's id, source, time and type (``detail-type``) and ``detail`` as data;
3. an SNS notification (``Type`` "Notification", ``TopicArn``, ``Message``): its ``Message`` is
   decoded by these same rules, one level deep (an SNS envelope inside it is treated as plain JSON);
   the topic ARN is the fallback source and the SNS message id the fallback id;
4. any other JSON value: an event whose data is that value, whose id is the SQS message id (stable
   across redeliveries, so idempotent handlers see the same id), whose time is the message's
   ``SentTimestamp``, whose source is :attr:`SQSCodec.default_source` or else the queue, and whose
   type is the value of the message attribute named by :attr:`SQSCodec.type_attribute`, else of
   ``ce-type``, else :attr:`SQSCodec.default_type` (``"sqs.message"``);
5. text that is not JSON: the same, with the text as data and ``datacontenttype`` ``text/plain``.

Poison: a body longer than ``max_message_size`` (UTF-8 bytes), text that starts like a JSON object
or array (or is a bare number) but does not parse (too deep, a number no double holds, broken), a
CloudEvents object with invalid attributes, a message without an id, receipt handle or string
body. ``traceparent`` and ``correlationid`` message attributes fill in what the event lacks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal

import orjson

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events.context import (
    CORRELATION_ATTRIBUTE,
    TRACEPARENT_HEADER,
    extract_attributes,
)
from midil_common.events.envelope import DEFAULT_MAX_EVENT_SIZE, Event, _parse_time
from midil_common.events.eventbridge import is_eventbridge_envelope, parse_eventbridge_event

__all__ = [
    "DEFAULT_FALLBACK_TYPE",
    "SQS_DEFAULT_MAX_MESSAGE_SIZE",
    "SQS_MAX_MESSAGE_SIZE",
    "TRACE_HEADER_ATTRIBUTE",
    "TYPE_ATTRIBUTE",
    "MessageKind",
    "ReceivedMessage",
    "SQSCodec",
    "deduplication_id_for",
    "is_fifo_queue",
]

TYPE_ATTRIBUTE = "ce-type"
"""The message attribute holding the event type (CloudEvents' binary-mode name)."""

TRACE_HEADER_ATTRIBUTE = "AWSTraceHeader"
"""The SQS system attribute carrying an X-Ray trace header."""

DEFAULT_FALLBACK_TYPE = "sqs.message"
"""The type of an event decoded from a message that is not a CloudEvents event and names no type."""

SQS_DEFAULT_MAX_MESSAGE_SIZE = 262_144
"""A queue's ``MaximumMessageSize`` unless set otherwise (256 KiB)."""

SQS_MAX_MESSAGE_SIZE = DEFAULT_MAX_EVENT_SIZE
"""The largest message SQS accepts (1 MiB = 1,048,576 bytes)."""

MessageKind = Literal["cloudevent", "eventbridge", "sns", "json", "text", "poison"]
"""What a received body turned out to be."""

# SQS group and deduplication ids: 1 to 128 of a-z A-Z 0-9 and ASCII punctuation.
_SQS_ID = re.compile(r"[!-~]{1,128}")
# The characters SQS refuses in a body or a string attribute besides the C0 controls (which JSON
# escapes): U+FFFE and U+FFFF. JSON may escape them too, and reads them back unchanged.
_NON_CHARACTERS = str.maketrans({"\ufffe": "\\ufffe", "\uffff": "\\uffff"})
_SQS_TEXT = re.compile(r"[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_TYPE_MAX = 1024
# A body that starts like one of these and does not parse is broken JSON, not text.
_JSON_START = ("{", "[")
_JSON_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_TIMESTAMP_MAX_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z


def is_fifo_queue(queue_url: str) -> bool:
    """Whether ``queue_url`` (or a queue ARN) names a FIFO queue (its name ends in ``.fifo``)."""
    return queue_url.rstrip("/").endswith(".fifo")


def deduplication_id_for(event: Event) -> str:
    """The FIFO deduplication id of ``event``: the SHA-256 hex digest of its source and id.

    CloudEvents identify an event by source and id together: the id alone would let SQS drop a
    distinct event of another source that happens to share it, in silence (the send succeeds).
    The same event, sent again by a retry, always gets the same deduplication id. The newline
    separating the two cannot occur in a source (a URI-reference) and keeps ("a", "b\\nc") and
    ("a\\nb", "c") apart."""
    identity = f"{event.source}\n{event.id}"
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


def _check_sqs_id(name: str, value: Any) -> str:
    if type(value) is not str or _SQS_ID.fullmatch(value) is None:
        raise ConfigError(
            f"{name} must be 1 to 128 ASCII letters, digits or punctuation", variable=name
        )
    return value


def _string_attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One received SQS message, decoded.

    ``event`` is the decoded event, or None when the message is poison; then ``poison`` says why
    (never quoting the body). ``receive_count`` is ``ApproximateReceiveCount`` (1 on first
    delivery); ``group_id`` the FIFO message group; ``first_received_at`` and ``sent_at`` are epoch
    seconds from ``ApproximateFirstReceiveTimestamp`` and ``SentTimestamp`` (None when absent);
    ``trace_header`` the ``AWSTraceHeader`` system attribute; ``queue`` the queue URL or ARN the
    message came from, when known.
    """

    message_id: str
    receipt_handle: str
    event: Event | None
    kind: MessageKind
    receive_count: int = 1
    poison: str | None = None
    group_id: str | None = None
    first_received_at: float | None = None
    sent_at: float | None = None
    trace_header: str | None = None
    queue: str | None = None

    @property
    def ok(self) -> bool:
        """True when the message holds an event (it is not poison)."""
        return self.event is not None


class _Poison(Exception):
    """Internal: the body cannot be read; the message is the reason."""


def _string(value: Any) -> str | None:
    return value if type(value) is str else None


def _attribute_value(attribute: Any) -> str | None:
    """The string value of an SQS (``StringValue``), Lambda (``stringValue``) or SNS (``Value``)
    message attribute."""
    if not isinstance(attribute, Mapping):
        return None
    for key in ("StringValue", "stringValue", "Value"):
        value = attribute.get(key)
        if type(value) is str:
            return value
    return None


def _int(value: Any, default: int) -> int:
    text = _string(value)
    if text is None or not 0 < len(text) <= 12 or not text.isdigit() or not text.isascii():
        return default
    return int(text)


def _epoch_seconds(value: Any) -> float | None:
    text = _string(value)
    if text is None or not 0 < len(text) <= 16 or not text.isdigit() or not text.isascii():
        return None
    millis = int(text)
    return millis / 1000 if millis <= _TIMESTAMP_MAX_MS else None


def _valid_type(value: Any) -> str | None:
    if (
        type(value) is str
        and 0 < len(value) <= _TYPE_MAX
        and value.isprintable()
        and not any("\x80" <= c <= "\x9f" for c in value)
    ):
        return value
    return None


@dataclass(frozen=True, slots=True)
class SQSCodec:
    """Encodes events as SQS messages and decodes received messages (see the module docstring).

    Args:
        type_attribute: a message attribute naming the type of foreign (non-CloudEvents) messages,
            tried before ``ce-type``.
        default_type: the type of foreign messages that name none.
        default_source: the source of foreign messages; None takes the queue URL or ARN when
            known, else ``"sqs"``.
        max_message_size: the longest body decoded, in UTF-8 bytes (default 1 MiB, SQS's limit);
            a longer one is poison.
    """

    type_attribute: str | None = None
    default_type: str = DEFAULT_FALLBACK_TYPE
    default_source: str | None = None
    max_message_size: int = SQS_MAX_MESSAGE_SIZE

    def __post_init__(self) -> None:
        if self.type_attribute is not None and (
            type(self.type_attribute) is not str or not self.type_attribute
        ):
            raise ConfigError(
                "type_attribute must be a message attribute name", variable="type_attribute"
            )
        if _valid_type(self.default_type) is None:
            raise ConfigError(
                "default_type must be a non-empty printable string", variable="default_type"
            )
        if self.default_source is not None:
            try:
                Event(source=self.default_source, type="x")
            except InvalidEventError:
                raise ConfigError(
                    "default_source must be a URI reference", variable="default_source"
                ) from None
        if (
            type(self.max_message_size) is not int
            or not 1 <= self.max_message_size <= 16 * SQS_MAX_MESSAGE_SIZE
        ):
            raise ConfigError(
                "max_message_size must be a positive number of bytes", variable="max_message_size"
            )

    # ------------------------------------------------------------------------------ encoding

    def encode(
        self,
        event: Event,
        *,
        trace_header: str | None = None,
        message_group_id: str | Callable[[Event], str] | None = None,
        deduplication_id: str | Callable[[Event], str] | None = None,
        fifo: bool | None = None,
    ) -> dict[str, Any]:
        """The message of ``event``: the keyword arguments of ``send_message`` (without
        ``QueueUrl``) and, with an ``Id`` added, a ``send_message_batch`` entry.

        ``message_group_id`` and ``deduplication_id`` may be strings or functions of the event.
        ``fifo`` (default: whether a group id is given) adds ``MessageDeduplicationId``, by default
        :func:`deduplication_id_for`. Raises ``InvalidEventError`` when the event cannot be written
        as JSON and ``ConfigError`` for an invalid group id, deduplication id or trace header.
        """
        body = event.to_json().translate(_NON_CHARACTERS)
        attributes: dict[str, dict[str, str]] = {}
        # The body is authoritative; an attribute SQS would refuse is simply left out.
        if _SQS_TEXT.fullmatch(event.type) is not None:
            attributes[TYPE_ATTRIBUTE] = _string_attribute(event.type)
        if event.traceparent is not None and _SQS_TEXT.fullmatch(event.traceparent) is not None:
            attributes[TRACEPARENT_HEADER] = _string_attribute(event.traceparent)
        message: dict[str, Any] = {"MessageBody": body, "MessageAttributes": attributes}
        if trace_header is not None:
            if (
                type(trace_header) is not str
                or not 1 <= len(trace_header) <= 500
                or not trace_header.isascii()
                or not trace_header.isprintable()
            ):
                raise ConfigError(
                    "trace_header must be printable ASCII (an X-Ray trace header)",
                    variable="trace_header",
                )
            message["MessageSystemAttributes"] = {
                TRACE_HEADER_ATTRIBUTE: _string_attribute(trace_header)
            }
        if callable(message_group_id):
            message_group_id = message_group_id(event)
        if message_group_id is not None:
            message["MessageGroupId"] = _check_sqs_id("message_group_id", message_group_id)
        if fifo is None:
            fifo = message_group_id is not None
        if fifo:
            if callable(deduplication_id):
                deduplication_id = deduplication_id(event)
            message["MessageDeduplicationId"] = (
                deduplication_id_for(event)
                if deduplication_id is None
                else _check_sqs_id("deduplication_id", deduplication_id)
            )
        elif deduplication_id is not None:
            raise ConfigError(
                "deduplication_id applies to FIFO queues only (give message_group_id or fifo=True)",
                variable="deduplication_id",
            )
        return message

    # ------------------------------------------------------------------------------ decoding

    def decode(self, message: Any, *, queue: str | None = None) -> ReceivedMessage:
        """Decode one message of a ``receive_message`` response (``MessageId``, ``ReceiptHandle``,
        ``Body``, ``Attributes``, ``MessageAttributes``). Never raises."""
        if not isinstance(message, Mapping):
            return ReceivedMessage("", "", None, "poison", poison="not an SQS message")
        return self._decode(
            message.get("MessageId"),
            message.get("ReceiptHandle"),
            message.get("Body"),
            message.get("Attributes"),
            message.get("MessageAttributes"),
            queue,
        )

    def decode_record(self, record: Any) -> ReceivedMessage:
        """Decode one record of a Lambda SQS event (``messageId``, ``receiptHandle``, ``body``,
        ``attributes``, ``messageAttributes``, ``eventSourceARN``). Never raises. The receipt
        handle may be missing (Lambda deletes the messages itself)."""
        if not isinstance(record, Mapping):
            return ReceivedMessage("", "", None, "poison", poison="not an SQS event record")
        return self._decode(
            record.get("messageId"),
            record.get("receiptHandle"),
            record.get("body"),
            record.get("attributes"),
            record.get("messageAttributes"),
            _string(record.get("eventSourceARN")),
            need_receipt_handle=False,
        )

    def _decode(
        self,
        message_id: Any,
        receipt_handle: Any,
        body: Any,
        attributes: Any,
        message_attributes: Any,
        queue: str | None,
        *,
        need_receipt_handle: bool = True,
    ) -> ReceivedMessage:
        system = attributes if isinstance(attributes, Mapping) else {}
        user = message_attributes if isinstance(message_attributes, Mapping) else {}
        sent_at = _epoch_seconds(system.get("SentTimestamp"))
        received = ReceivedMessage(
            message_id=_string(message_id) or "",
            receipt_handle=_string(receipt_handle) or "",
            event=None,
            kind="poison",
            receive_count=max(1, _int(system.get("ApproximateReceiveCount"), 1)),
            group_id=_string(system.get("MessageGroupId")),
            first_received_at=_epoch_seconds(system.get("ApproximateFirstReceiveTimestamp")),
            sent_at=sent_at,
            trace_header=_string(system.get(TRACE_HEADER_ATTRIBUTE)),
            queue=queue,
        )
        if not received.message_id:
            return replace(received, poison="the message has no id")
        if need_receipt_handle and not received.receipt_handle:
            # Lambda deletes what it delivered; a consumer cannot delete without the handle.
            return replace(received, poison="the message has no receipt handle")
        if type(body) is not str:
            return replace(received, poison="the message body is not a string")
        try:
            kind, event = self._read_body(
                body,
                user,
                fallback_id=received.message_id,
                fallback_source=self.default_source or queue or "sqs",
                sent_at=sent_at,
                nested=False,
            )
            event = _fill_context(event, user)
        except _Poison as exc:
            return replace(received, poison=str(exc))
        except InvalidEventError as exc:
            # The kit's own messages name the attribute and never echo the input.
            return replace(received, poison=str(exc))
        except (RecursionError, MemoryError, ValueError, TypeError, OverflowError):
            # A safety net: a hostile body must never stop the consumer.
            return replace(received, poison="the message body cannot be decoded")
        return replace(received, kind=kind, event=event)

    def _read_body(
        self,
        body: str,
        attributes: Mapping[str, Any],
        *,
        fallback_id: str,
        fallback_source: str,
        sent_at: float | None,
        nested: bool,
    ) -> tuple[MessageKind, Event]:
        # Characters first (cheap), then bytes: no UTF-8 text is shorter in bytes than characters.
        if len(body) > self.max_message_size or (
            len(body) * 4 > self.max_message_size
            and len(body.encode("utf-8", "surrogatepass")) > self.max_message_size
        ):
            raise _Poison(f"the message body is longer than {self.max_message_size} bytes")
        stripped = body.strip(" \t\r\n")
        try:
            # orjson refuses nesting beyond 1024 levels, numbers a double cannot hold, NaN and
            # lone surrogates, in time linear in the body.
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            if stripped.startswith(_JSON_START) or _JSON_NUMBER.fullmatch(stripped):
                raise _Poison("the message body is not valid JSON") from None
            return "text", self._fallback(
                body,
                attributes,
                fallback_id=fallback_id,
                fallback_source=fallback_source,
                sent_at=sent_at,
                content_type="text/plain",
            )
        if isinstance(value, dict):
            if "specversion" in value:
                return "cloudevent", Event.from_dict(value)
            if is_eventbridge_envelope(value):
                return "eventbridge", parse_eventbridge_event(value)
            if not nested and _is_sns_notification(value):
                return "sns", self._read_sns(value)
        return "json", self._fallback(
            value,
            attributes,
            fallback_id=fallback_id,
            fallback_source=fallback_source,
            sent_at=sent_at,
            content_type="application/json",
        )

    def _read_sns(self, envelope: Mapping[str, Any]) -> Event:
        sns_attributes = envelope.get("MessageAttributes")
        attributes = sns_attributes if isinstance(sns_attributes, Mapping) else {}
        sns_id = _string(envelope.get("MessageId"))
        timestamp = _string(envelope.get("Timestamp"))
        time = None
        if timestamp is not None:
            try:
                time = _parse_time(timestamp).timestamp()
            except InvalidEventError:
                time = None
        _, event = self._read_body(
            envelope["Message"],
            attributes,
            fallback_id=sns_id or "",
            fallback_source=self.default_source or envelope["TopicArn"],
            sent_at=time,
            nested=True,
        )
        return _fill_context(event, attributes)

    def _fallback(
        self,
        data: Any,
        attributes: Mapping[str, Any],
        *,
        fallback_id: str,
        fallback_source: str,
        sent_at: float | None,
        content_type: str,
    ) -> Event:
        event_type = None
        if self.type_attribute is not None:
            event_type = _valid_type(_attribute_value(attributes.get(self.type_attribute)))
        if event_type is None:
            event_type = _valid_type(_attribute_value(attributes.get(TYPE_ATTRIBUTE)))
        values: dict[str, Any] = {
            "source": fallback_source,
            "type": event_type or self.default_type,
            "data": data,
            "datacontenttype": content_type,
        }
        if fallback_id:
            values["id"] = fallback_id
        if sent_at is not None:
            values["time"] = datetime.fromtimestamp(sent_at, timezone.utc)
        return Event(**values)


def _is_sns_notification(value: Mapping[str, Any]) -> bool:
    return (
        value.get("Type") == "Notification"
        and type(value.get("Message")) is str
        and type(value.get("TopicArn")) is str
        and bool(value["TopicArn"])
    )


def _fill_context(event: Event, attributes: Mapping[str, Any]) -> Event:
    """``event`` with the correlation id and traceparent of message attributes where it has none."""
    if event.correlation_id is not None and event.traceparent is not None:
        return event
    correlation_id, traceparent = extract_attributes(
        {
            name: {"StringValue": _attribute_value(attributes.get(name))}
            for name in (CORRELATION_ATTRIBUTE, TRACEPARENT_HEADER)
        }
    )
    changes: dict[str, str] = {}
    if event.correlation_id is None and correlation_id is not None:
        changes["correlation_id"] = correlation_id
    if event.traceparent is None and traceparent is not None:
        changes["traceparent"] = traceparent.format()
    # Both values were validated by extract_attributes.
    return event.model_copy(update=changes) if changes else event

"""What the shells' SQS and EventBridge publishers decide, free of I/O.

- :class:`CallFailed`: the error an AWS call of a publisher is mapped to (:func:`call_failed`),
  carrying the :class:`~midil_common.aws_errors.AWSErrorInfo`; the publisher turns it into the
  batch's result (:meth:`~midil_common.events.batching.Batch.call_failed`: every entry failed,
  retryably when the failure is transient), so a failed call is reported, never dropped.
- :func:`failed_call_result`: that result.
- :func:`queue_max_message_size`: a queue's ``MaximumMessageSize`` from ``GetQueueAttributes``.
- :func:`xray_trace_header`: the X-Ray ``TraceHeader`` of a W3C ``traceparent`` (EventBridge
  carries X-Ray headers only); :func:`with_trace_headers` puts each event's on its entry.
- :func:`handling_context`: the context a received event's handlers run in.
- :func:`sqs_publisher_kwargs`, :func:`eventbridge_publisher_kwargs`: ``from_settings`` arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from midil_common.aws_errors import AWSErrorInfo, AWSRetryPolicy, redact
from midil_common.errors import ConfigError, EventError
from midil_common.events.batch_result import BatchResult, EntryRetryPolicy
from midil_common.events.batching import SQS_MIN_MESSAGE_SIZE, Batch
from midil_common.events.context import EventContext, current_context, derive_context
from midil_common.events.envelope import Event
from midil_common.events.sqs_codec import SQS_DEFAULT_MAX_MESSAGE_SIZE, SQS_MAX_MESSAGE_SIZE
from midil_common.events.traceparent import TraceParent

if TYPE_CHECKING:
    from midil_common.settings import EventsSettings, MidilSettings

__all__ = [
    "DEFAULT_ENTRY_RETRY",
    "ONE_ATTEMPT",
    "CallFailed",
    "call_failed",
    "eventbridge_publisher_kwargs",
    "failed_call_result",
    "handling_context",
    "queue_max_message_size",
    "sqs_publisher_kwargs",
    "with_trace_headers",
    "xray_trace_header",
]

DEFAULT_ENTRY_RETRY = EntryRetryPolicy()
"""The publishers' default entry retries: 5 attempts, 0.1 s doubling to 5 s, 30 s in all."""

ONE_ATTEMPT = AWSRetryPolicy(max_attempts=1)
"""A batch call is made once per attempt: the entry retry policy alone decides the repeats (a
whole failed call is every entry failed), so retries never multiply."""


class CallFailed(EventError):
    """An AWS call of a publisher failed as a whole (after the client's own retries)."""

    def __init__(self, info: AWSErrorInfo) -> None:
        super().__init__(f"{info.service} {info.operation} failed: {info.code}")
        self.info = info


def call_failed(info: AWSErrorInfo) -> CallFailed:
    """The error mapper of the publishers' calls (an ``ErrorMapper``)."""
    return CallFailed(info)


def failed_call_result(batch: Batch[Event], failure: CallFailed) -> BatchResult[Event]:
    """Every entry of ``batch`` failed because the call did: retryable when the failure is
    (throttling, a 5xx, the network), with the service's message redacted and bounded."""
    info = failure.info
    return batch.call_failed(
        info.code,
        redact(info.message, ()),
        status=info.status_code,
        retryable=info.retryable,
    )


def queue_max_message_size(attributes: Mapping[str, Any]) -> int:
    """The ``MaximumMessageSize`` of a ``GetQueueAttributes`` answer, within SQS's range; the
    default (256 KiB) when it is missing or unreadable."""
    values = attributes.get("Attributes") if isinstance(attributes, Mapping) else None
    text = values.get("MaximumMessageSize") if isinstance(values, Mapping) else None
    if type(text) is str and text.isdigit() and len(text) <= 8:
        size = int(text)
        if SQS_MIN_MESSAGE_SIZE <= size <= SQS_MAX_MESSAGE_SIZE:
            return size
    return SQS_DEFAULT_MAX_MESSAGE_SIZE


def xray_trace_header(traceparent: str | TraceParent | None) -> str | None:
    """The X-Ray trace header of a W3C ``traceparent`` (X-Ray reads W3C trace ids written as
    ``Root=1-{8 hex}-{24 hex}``), or None when there is none or it is invalid."""
    if traceparent is None:
        return None
    if not isinstance(traceparent, TraceParent):
        try:
            traceparent = TraceParent.parse(traceparent)
        except (EventError, ValueError, TypeError):
            return None
    trace = traceparent.trace_id
    sampled = 1 if traceparent.sampled else 0
    return f"Root=1-{trace[:8]}-{trace[8:]};Parent={traceparent.parent_id};Sampled={sampled}"


def with_trace_headers(batches: Sequence[Batch[Event]]) -> list[Batch[Event]]:
    """``batches`` (from ``eventbridge_batches``) with each entry's ``TraceHeader`` set from its
    event's ``traceparent`` where it has none (EventBridge does not count it in the entry size)."""
    out: list[Batch[Event]] = []
    for batch in batches:
        entries = []
        for event, entry in zip(batch.items, batch.entries, strict=True):
            header = None if "TraceHeader" in entry else xray_trace_header(event.traceparent)
            entries.append(entry if header is None else {**entry, "TraceHeader": header})
        out.append(Batch(batch.service, batch.items, tuple(entries), batch.size))
    return out


def handling_context(event: Event, parent: EventContext | None = None) -> EventContext:
    """The context the handlers of a received ``event`` run in: its correlation id, a child span
    of its ``traceparent`` and its id as the causation id (as ``event_context(event=...)``)."""
    return derive_context(current_context() if parent is None else parent, event=event)


def _events_section(settings: MidilSettings | EventsSettings | None) -> EventsSettings:
    from midil_common.settings import EventsSettings, load_settings

    if settings is None:
        settings = load_settings()
    return settings if isinstance(settings, EventsSettings) else settings.events


def sqs_publisher_kwargs(settings: MidilSettings | EventsSettings | None = None) -> dict[str, Any]:
    """The ``SQSPublisher`` arguments of the ``events`` settings (``MIDIL_EVENTS__...``; read from
    the environment when None): ``queue_url`` is required."""
    events = _events_section(settings)
    if not events.queue_url:
        raise ConfigError(
            "MIDIL_EVENTS__QUEUE_URL is not set: SQSPublisher needs the URL of the queue to "
            "publish to",
            variable="MIDIL_EVENTS__QUEUE_URL",
        )
    return {
        "queue_url": events.queue_url,
        "region": events.region,
        "endpoint_url": events.endpoint_url,
    }


def eventbridge_publisher_kwargs(
    settings: MidilSettings | EventsSettings | None = None,
) -> dict[str, Any]:
    """The ``EventBridgePublisher`` arguments of the ``events`` settings."""
    events = _events_section(settings)
    return {
        "bus_name": events.bus_name,
        "source": events.source,
        "region": events.region,
        "endpoint_url": events.endpoint_url,
    }


def scheduler_kwargs(settings: MidilSettings | EventsSettings | None = None) -> dict[str, Any]:
    """The ``EventBridgeScheduler`` arguments of the ``events`` settings."""
    events = _events_section(settings)
    return {
        "group": events.schedule_group,
        "role_arn": events.scheduler_role_arn,
        "target_arn": events.scheduler_target_arn,
        "region": events.region,
        "endpoint_url": events.endpoint_url,
    }


# The default of a publisher's ``max_message_size`` when the queue's cannot be read.
FALLBACK_MAX_MESSAGE_SIZE = SQS_DEFAULT_MAX_MESSAGE_SIZE

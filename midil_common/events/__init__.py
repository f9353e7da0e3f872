"""In-process events, free of I/O: the CloudEvents envelope, the event context, routing, schedules.

- :class:`Event`: a CloudEvents 1.0 event (``to_json``/``from_json``, ``to_dict``/``from_dict``).
- :class:`TraceParent`: a W3C ``traceparent``.
- :class:`EventContext`, :func:`event_context`, :func:`current_context`, :func:`stamp`: the
  correlation id and trace context of the current work (contextvars), and the helpers that carry
  it over HTTP headers and SQS message attributes.
- :class:`ContextFilter`: adds the context to log records.
- :class:`EventRouter`: pattern routing shared by the dispatchers and consumers.
- :class:`PeriodicSchedule`: when a periodic task runs.
- :class:`DrainResult`: what a dispatcher's ``stop`` reports (see :mod:`.dispatch`).
- The SQS side: :class:`SQSCodec` and :class:`ReceivedMessage` (messages to and from events),
  :class:`RedeliveryPolicy` and :class:`Heartbeat` (a consumer's timing), :class:`ConsumerStats`
  (a consumer's counters), :class:`BatchResult` (what a batch call did).

Importing this package loads neither OpenTelemetry nor the CloudEvents SDK and registers no hook.
"""

from midil_common.events.batch_result import BatchResult, EntryRetryPolicy, FailedEntry
from midil_common.events.consuming import ConsumerStats
from midil_common.events.context import (
    CORRELATION_ATTRIBUTE,
    CORRELATION_HEADER,
    TRACEPARENT_HEADER,
    ContextScope,
    EventContext,
    current_context,
    derive_context,
    event_context,
    extract_attributes,
    extract_headers,
    inject_attributes,
    inject_headers,
    stamp,
    valid_correlation_id,
)
from midil_common.events.dispatch import DrainResult
from midil_common.events.envelope import DEFAULT_MAX_EVENT_SIZE, Event, ExtensionValue
from midil_common.events.eventbridge import parse_eventbridge_event
from midil_common.events.heartbeat import Heartbeat
from midil_common.events.log_filter import ContextFilter
from midil_common.events.periodic import PeriodicSchedule, ScheduleMode
from midil_common.events.redelivery import RedeliveryPolicy
from midil_common.events.router import EventRouter, Handler, is_async_handler
from midil_common.events.sqs_codec import ReceivedMessage, SQSCodec
from midil_common.events.traceparent import TraceParent

__all__ = [
    "CORRELATION_ATTRIBUTE",
    "CORRELATION_HEADER",
    "DEFAULT_MAX_EVENT_SIZE",
    "TRACEPARENT_HEADER",
    "BatchResult",
    "ConsumerStats",
    "ContextFilter",
    "ContextScope",
    "DrainResult",
    "EntryRetryPolicy",
    "Event",
    "EventContext",
    "EventRouter",
    "ExtensionValue",
    "FailedEntry",
    "Handler",
    "Heartbeat",
    "PeriodicSchedule",
    "ReceivedMessage",
    "RedeliveryPolicy",
    "SQSCodec",
    "ScheduleMode",
    "TraceParent",
    "current_context",
    "derive_context",
    "event_context",
    "extract_attributes",
    "extract_headers",
    "inject_attributes",
    "inject_headers",
    "is_async_handler",
    "parse_eventbridge_event",
    "stamp",
    "valid_correlation_id",
]

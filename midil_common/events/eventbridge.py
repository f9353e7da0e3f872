"""Events on EventBridge: the ``PutEvents`` entry of an :class:`Event`, and the event of an
EventBridge delivery (to a Lambda function, or to an SQS queue by a rule).

Writing (:func:`eventbridge_entry`): ``Source`` is the publisher's source (default: the event's
``source``), ``DetailType`` the event's ``type`` and ``Detail`` the event's structured CloudEvents
JSON, so that whoever reads it back gets the same event, id, time, correlation id and extensions
included. ``Time`` is the event's time; ``TraceHeader`` (an X-Ray header) and ``Resources`` are
optional.

Reading (:func:`parse_eventbridge_event`, also used by the SQS decoder for EventBridge-to-SQS
envelopes): when ``detail`` is a CloudEvents JSON object (it has ``specversion``), the event it holds
is restored exactly; any other ``detail`` becomes an event with ``id``, ``source``, ``type`` (the
``detail-type``) and ``time`` of the envelope and ``detail`` as its JSON ``data``. The envelope's
``account``, ``region`` and ``resources`` are not carried over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events.envelope import Event, _parse_time

__all__ = [
    "DEFAULT_EVENT_BUS",
    "eventbridge_entry",
    "is_eventbridge_envelope",
    "parse_eventbridge_event",
    "valid_bus_name",
]

DEFAULT_EVENT_BUS = "default"

# EventBusName as the EventBridge API model states it: a name, or the bus ARN.
_BUS_NAME = re.compile(
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/)?[.\-_A-Za-z0-9]+"
)
_TRACE_HEADER_MAX = 500


def valid_bus_name(value: Any) -> bool:
    """Whether ``value`` is an event bus name or ARN EventBridge accepts (at most 1,600 characters)."""
    return type(value) is str and len(value) <= 1600 and _BUS_NAME.fullmatch(value) is not None


def _check_trace_header(trace_header: str | None) -> None:
    if trace_header is None:
        return
    if (
        type(trace_header) is not str
        or not 1 <= len(trace_header) <= _TRACE_HEADER_MAX
        or not trace_header.isascii()
        or not trace_header.isprintable()
    ):
        raise ConfigError(
            "trace_header must be 1 to 500 printable ASCII characters (an X-Ray trace header)",
            variable="trace_header",
        )


def eventbridge_entry(
    event: Event,
    *,
    bus_name: str = DEFAULT_EVENT_BUS,
    source: str | None = None,
    trace_header: str | None = None,
    resources: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``PutEvents`` entry of ``event`` (a dict for ``put_events(Entries=[...])``).

    ``source`` overrides the entry's ``Source`` (rules match on it; default: ``event.source``).
    Raises ``ConfigError`` for a bad bus name, source or trace header and ``InvalidEventError`` when
    the event cannot be written as JSON. Sizes are checked by the batching
    (:func:`midil_common.events.batching.eventbridge_batches`), not here.
    """
    if not valid_bus_name(bus_name):
        raise ConfigError(
            "bus_name must be an event bus name or ARN ([.-_A-Za-z0-9]+)", variable="bus_name"
        )
    entry_source = event.source if source is None else source
    if type(entry_source) is not str or not entry_source or not entry_source.isprintable():
        raise ConfigError("source must be a non-empty printable string", variable="source")
    if entry_source.startswith("aws."):
        # EventBridge refuses custom events in the reserved namespace of AWS services.
        raise ConfigError("source must not start with 'aws.' (reserved by AWS)", variable="source")
    _check_trace_header(trace_header)
    entry: dict[str, Any] = {
        "Time": event.time,
        "Source": entry_source,
        "DetailType": event.type,
        "Detail": event.to_json(),
        "EventBusName": bus_name,
    }
    if resources:
        if isinstance(resources, str) or not all(
            type(r) is str and r and r.isprintable() for r in resources
        ):
            raise ConfigError("resources must be a sequence of ARNs", variable="resources")
        entry["Resources"] = list(resources)
    if trace_header is not None:
        entry["TraceHeader"] = trace_header
    return entry


def is_eventbridge_envelope(obj: Any) -> bool:
    """Whether ``obj`` (a decoded JSON value) has the shape of an EventBridge event."""
    return (
        isinstance(obj, Mapping)
        and obj.get("version") == "0"
        and "detail-type" in obj
        and "source" in obj
        and "detail" in obj
    )


def _is_cloudevent(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "specversion" in obj


def parse_eventbridge_event(payload: Any) -> Event:
    """The event of an EventBridge delivery (the ``event`` argument of an EventBridge-triggered
    Lambda function, or the body of an EventBridge-to-SQS message, decoded).

    If ``detail`` is the CloudEvents JSON object this kit's publishers write, the original event is
    restored exactly. Otherwise the event takes ``id``, ``source``, ``time`` and ``detail-type`` (as
    ``type``) from the envelope and ``detail`` as its data. Raises ``InvalidEventError`` when the
    payload is not an EventBridge event; the message never echoes the payload.
    """
    if not isinstance(payload, Mapping):
        raise InvalidEventError("an EventBridge event must be a JSON object")
    for name in ("id", "source", "detail-type"):
        if type(payload.get(name)) is not str or not payload[name]:
            raise InvalidEventError(f"the EventBridge event has no {name!r} string")
    if "detail" not in payload:
        raise InvalidEventError("the EventBridge event has no 'detail'")
    detail = payload["detail"]
    if _is_cloudevent(detail):
        return Event.from_dict(detail)
    values: dict[str, Any] = {
        "id": payload["id"],
        "source": payload["source"],
        "type": payload["detail-type"],
        "data": detail,
    }
    time = payload.get("time")
    if time is not None:
        values["time"] = _parse_time(time)
    return Event(**values)

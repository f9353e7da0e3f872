"""The event context: correlation id, causation id and trace context, carried in a contextvar.

A context is opened with :func:`event_context` (``with`` or ``async with``) and read with
:func:`current_context`. It lives in a :class:`contextvars.ContextVar`: asyncio tasks and
``asyncio.to_thread`` inherit it; a plain thread (or ``ThreadPoolExecutor.submit``) starts empty
unless its function runs in ``contextvars.copy_context().run``. Rules for a new scope:

- correlation id: the one given, else the parent scope's, else a new uuid4 string;
- trace context: a child (same trace, new span id) of the ``traceparent`` given, else of the parent
  scope's, else of the active OpenTelemetry span when ``opentelemetry-api`` is installed, else a new
  trace;
- causation id: the one given, else the id of the ``event`` given, else the parent scope's;
- values received from outside (headers, messages, events) that are not valid are replaced as if
  absent, never propagated: a correlation id is 1 to 128 printable ASCII characters without spaces,
  a traceparent follows :class:`~midil_common.events.traceparent.TraceParent`.

The first time a scope is entered (or :func:`current_context` or :func:`stamp` is called), the
package registers an HTTP header hook (:mod:`midil_common.http.hooks`) that adds ``traceparent`` and
``X-Correlation-ID`` of the current context to every outbound request of every ``HttpClient``.
Importing the package registers nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from midil_common.errors import InvalidEventError
from midil_common.events._ids import RandomBits, new_uuid4
from midil_common.events.traceparent import TraceParent

if TYPE_CHECKING:
    from midil_common.events.envelope import Event

__all__ = [
    "CORRELATION_ATTRIBUTE",
    "CORRELATION_HEADER",
    "TRACEPARENT_HEADER",
    "ContextScope",
    "EventContext",
    "current_context",
    "derive_context",
    "event_context",
    "extract_attributes",
    "extract_headers",
    "inject_attributes",
    "inject_headers",
    "stamp",
    "valid_correlation_id",
]

CORRELATION_HEADER = "X-Correlation-ID"
"""The HTTP header carrying the correlation id."""

TRACEPARENT_HEADER = "traceparent"
"""The W3C Trace Context header."""

CORRELATION_ATTRIBUTE = "correlationid"
"""The message attribute (SQS) carrying the correlation id, named like the CloudEvents extension."""

_CORRELATION_ID = re.compile(r"[\x21-\x7e]{1,128}")


_last_valid = ""


def valid_correlation_id(value: Any) -> str | None:
    """``value`` if it is an acceptable correlation id (1 to 128 printable ASCII, no spaces), else None."""
    global _last_valid
    if value is None:
        return None
    # The events of one flow carry one id: the last one accepted is not matched again.
    if value is _last_valid:
        return value
    if type(value) is str and _CORRELATION_ID.fullmatch(value) is not None:
        _last_valid = value
        return value
    return None


def _traceparent(value: Any) -> TraceParent | None:
    """A valid ``TraceParent`` from a string or a ``TraceParent``, else None."""
    if isinstance(value, TraceParent):
        return value
    if type(value) is str:
        try:
            return TraceParent.parse(value)
        except InvalidEventError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class EventContext:
    """Where the current work belongs: its correlation id, what caused it, and its trace context.

    ``traceparent`` is the current span: what outbound requests and new events carry as their parent.
    Outside any :func:`event_context` scope every field is None.
    """

    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: TraceParent | None = None

    @property
    def trace_id(self) -> str | None:
        """The trace id of ``traceparent``, or None."""
        return None if self.traceparent is None else self.traceparent.trace_id

    @property
    def span_id(self) -> str | None:
        """The current span id (``traceparent.parent_id``), or None."""
        return None if self.traceparent is None else self.traceparent.parent_id

    @property
    def empty(self) -> bool:
        """True outside any scope (nothing to propagate)."""
        return self.correlation_id is None and self.traceparent is None


_EMPTY = EventContext()

_set_correlation = EventContext.__dict__["correlation_id"].__set__
_set_causation = EventContext.__dict__["causation_id"].__set__
_set_traceparent = EventContext.__dict__["traceparent"].__set__


def _context(
    correlation_id: str | None, causation_id: str | None, traceparent: TraceParent | None
) -> EventContext:
    """An ``EventContext`` of fields already checked: one is made for every event handled, and the
    frozen dataclass's ``__init__`` (three ``object.__setattr__`` calls) costs almost twice this."""
    context = object.__new__(EventContext)
    _set_correlation(context, correlation_id)
    _set_causation(context, causation_id)
    _set_traceparent(context, traceparent)
    return context


_current: ContextVar[EventContext] = ContextVar("midil_event_context", default=_EMPTY)


# ---------------------------------------------------------------------------------- the HTTP hook

_hook_registered = False


def _header_hook() -> Mapping[str, str] | None:
    context = _current.get()
    return None if context.empty else inject_headers(context)


def _ensure_hook() -> None:
    """Register the header hook once, on first use of a context (never on import)."""
    global _hook_registered
    if _hook_registered:
        return
    from midil_common.http.hooks import register_header_hook

    # Registering twice is a no-op there, so two threads racing here do no harm.
    register_header_hook(_header_hook)
    _hook_registered = True


# -------------------------------------------------------------------------------- OpenTelemetry

_otel_trace: Any = None
_otel_checked = False


def _otel_parent() -> TraceParent | None:
    """The active OpenTelemetry span as a parent, when opentelemetry-api is installed and a valid
    span is active; the import is tried once and its absence remembered."""
    global _otel_trace, _otel_checked
    if not _otel_checked:
        try:
            _otel_trace = importlib.import_module("opentelemetry.trace")
        except ImportError:
            _otel_trace = None
        _otel_checked = True
    if _otel_trace is None:
        return None
    try:
        span_context = _otel_trace.get_current_span().get_span_context()
        if not span_context.is_valid:
            return None
        return TraceParent(
            format(span_context.trace_id, "032x"),
            format(span_context.span_id, "016x"),
            int(span_context.trace_flags) & 0xFF,
        )
    except Exception:
        # A broken tracing setup must not break the application's events: start a trace of our own.
        return None


# ---------------------------------------------------------------------------------- derivation


def derive_context(
    parent: EventContext,
    *,
    correlation_id: str | None = None,
    traceparent: str | TraceParent | None = None,
    causation_id: str | None = None,
    event: Event | None = None,
    rng: RandomBits | None = None,
) -> EventContext:
    """The context of a new scope under ``parent`` (see the module docstring for the rules)."""
    correlation = valid_correlation_id(correlation_id)
    remote = _traceparent(traceparent)
    causation = valid_correlation_id(causation_id)
    if event is not None:
        if correlation is None:
            correlation = valid_correlation_id(event.correlation_id)
        if remote is None:
            remote = _traceparent(event.traceparent)
        if causation is None:
            # The id was validated with the event (no control characters): safe to carry on.
            causation = event.id
    if correlation is None:
        correlation = parent.correlation_id or new_uuid4(rng)
    if causation is None:
        causation = parent.causation_id
    if remote is None:
        remote = parent.traceparent
    if remote is None:
        remote = _otel_parent()
    span = TraceParent.new(rng) if remote is None else remote.child(rng)
    return _context(correlation, causation, span)


class ContextScope:
    """What :func:`event_context` returns: a sync and an async context manager yielding the new
    :class:`EventContext` and restoring the previous one on exit."""

    __slots__ = ("_args", "_tokens")

    def __init__(self, args: dict[str, Any]) -> None:
        self._args = args
        self._tokens: list[Token[EventContext]] = []

    def __enter__(self) -> EventContext:
        _ensure_hook()
        context = derive_context(_current.get(), **self._args)
        self._tokens.append(_current.set(context))
        return context

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _current.reset(self._tokens.pop())

    async def __aenter__(self) -> EventContext:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def event_context(
    correlation_id: str | None = None,
    traceparent: str | TraceParent | None = None,
    causation_id: str | None = None,
    *,
    event: Event | None = None,
    rng: RandomBits | None = None,
) -> ContextScope:
    """Open a new event context (``with event_context(...) as ctx`` or ``async with``).

    ``event=`` opens the context of a received event: its correlation id, a child span of its
    ``traceparent``, and its id as the causation id; explicit arguments win over the event's. The
    previous context is restored on exit. ``rng`` (a ``random.Random``) makes the new ids
    reproducible in tests.
    """
    return ContextScope(
        {
            "correlation_id": correlation_id,
            "traceparent": traceparent,
            "causation_id": causation_id,
            "event": event,
            "rng": rng,
        }
    )


def current_context() -> EventContext:
    """The current context; outside any scope an empty one (all fields None). Never raises."""
    _ensure_hook()
    return _current.get()


def stamp(event: Event, context: EventContext | None = None) -> Event:
    """``event`` with the correlation id, causation id and ``traceparent`` of ``context`` (by
    default the current one) filled in where the event has none; the same object if nothing changes.
    """
    if context is None:
        context = current_context()
    changes: dict[str, str] = {}
    if event.correlation_id is None and context.correlation_id is not None:
        changes["correlation_id"] = context.correlation_id
    if event.causation_id is None and context.causation_id is not None:
        changes["causation_id"] = context.causation_id
    if event.traceparent is None and context.traceparent is not None:
        changes["traceparent"] = context.traceparent.format()
    if not changes:
        return event
    # The values come from a context, validated when it was made: copying skips re-validation.
    return event.model_copy(update=changes)


# -------------------------------------------------------------------------------- propagation


def inject_headers(context: EventContext | None = None) -> dict[str, str]:
    """HTTP headers (``traceparent``, ``X-Correlation-ID``) of ``context`` (default: the current)."""
    if context is None:
        context = current_context()
    headers: dict[str, str] = {}
    if context.traceparent is not None:
        headers[TRACEPARENT_HEADER] = context.traceparent.format()
    if context.correlation_id is not None:
        headers[CORRELATION_HEADER] = context.correlation_id
    return headers


def _single(value: Any) -> str | None:
    """One header value: a string without a comma, or a one-element list of one.

    A comma means the header was sent more than once (RFC 9110 joins repeated fields with commas);
    which copy to trust cannot be decided, so the value is dropped.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            return None
        value = value[0]
    if type(value) is not str or "," in value:
        return None
    # Optional whitespace around a field value is not part of it (RFC 9110 section 5.5).
    return value.strip(" \t")


def extract_headers(
    headers: Mapping[str, str | Sequence[str]],
) -> tuple[str | None, TraceParent | None]:
    """The validated ``(correlation_id, traceparent)`` of incoming HTTP headers.

    Header names are matched case-insensitively; a header present more than once (repeated keys
    differing in case, a list of values, comma-joined values) or invalid gives None for it.
    """
    found: dict[str, Any] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if type(name) is not str:
            continue
        key = name.lower()
        if key in (TRACEPARENT_HEADER, "x-correlation-id"):
            found[key] = None if key in seen else _single(value)
            seen.add(key)
    traceparent = found.get(TRACEPARENT_HEADER)
    return (
        valid_correlation_id(found.get("x-correlation-id")),
        None if traceparent is None else _traceparent(traceparent),
    )


def inject_attributes(context: EventContext | None = None) -> dict[str, dict[str, str]]:
    """SQS message attributes (``traceparent``, ``correlationid``) of ``context`` (default: the
    current), shaped ``{"traceparent": {"DataType": "String", "StringValue": "00-..."}}``."""
    if context is None:
        context = current_context()
    attributes: dict[str, dict[str, str]] = {}
    if context.traceparent is not None:
        attributes[TRACEPARENT_HEADER] = {
            "DataType": "String",
            "StringValue": context.traceparent.format(),
        }
    if context.correlation_id is not None:
        attributes[CORRELATION_ATTRIBUTE] = {
            "DataType": "String",
            "StringValue": context.correlation_id,
        }
    return attributes


def _attribute_string(attribute: Any) -> str | None:
    if not isinstance(attribute, Mapping):
        return None
    # The SQS API says StringValue; Lambda's event records say stringValue.
    value = attribute.get("StringValue", attribute.get("stringValue"))
    return value if type(value) is str else None


def extract_attributes(
    attributes: Mapping[str, Any],
) -> tuple[str | None, TraceParent | None]:
    """The validated ``(correlation_id, traceparent)`` of SQS message attributes (as the SQS API
    or a Lambda event record gives them); missing or invalid values give None."""
    if not isinstance(attributes, Mapping):
        return None, None
    return (
        valid_correlation_id(_attribute_string(attributes.get(CORRELATION_ATTRIBUTE))),
        _traceparent(_attribute_string(attributes.get(TRACEPARENT_HEADER))),
    )

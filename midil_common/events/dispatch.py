"""What both shells' ``EventDispatcher`` and ``PeriodicTask`` share, free of I/O.

- :class:`DispatcherSettings`: the dispatcher's options, validated once (``ConfigError`` names the
  argument).
- :class:`DrainResult`: what ``EventDispatcher.stop`` returns: how many events were handled and which
  accepted events were not (on a timeout), so nothing is lost silently.
- :class:`HandlingContexts`: the event as published (stamped with the publisher's context) and the
  :class:`~midil_common.events.context.EventContext` its handlers run in, decided in the publisher.
- :class:`use_context`, :func:`set_current` and :func:`reset_current`: run code inside a context
  decided earlier (a worker thread or task does so around each event it handles).
- :func:`report_handler_failure`, :func:`report_run_failure`: the logging (logger ``midil.events``,
  with the event id and type, never its data) and the ``on_error`` callback.

The context a handler runs in is exactly what ``event_context(event=event)`` opens in the
publisher: the event's correlation id (the publisher's, when the event had none), a child span of
the event's ``traceparent`` (the publisher's span, when the event had none) and the event's id as
the causation id. It is decided once per event, when it is published, so a handler on a worker
thread or task sees the same context as one run inline; all handlers of one event share it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import Token
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events.context import (
    EventContext,
    _current,
    current_context,
    derive_context,
    stamp,
)
from midil_common.events.envelope import Event
from midil_common.events.traceparent import TraceParent

__all__ = [
    "DispatcherSettings",
    "DrainResult",
    "ErrorCallback",
    "HandlingContexts",
    "OnFull",
    "callable_name",
    "report_handler_failure",
    "report_run_failure",
    "reset_current",
    "set_current",
    "use_context",
]

logger = logging.getLogger("midil.events")

OnFull = Literal["block", "raise"]
"""What ``publish`` does when the dispatcher's queue is full: wait for room, or raise
``PublishError``. It never drops an event."""

ErrorCallback = Callable[[Event, Callable[..., Any], BaseException], object]
"""``on_error(event, handler, exc)``: called after a handler raised (a plain function in both
shells)."""


@dataclass(frozen=True, slots=True)
class DrainResult:
    """What ``EventDispatcher.stop`` reports.

    ``handled`` counts the events whose handlers all ran (successfully or not: a failing handler is
    reported, not retried) since the dispatcher started; ``pending`` holds the accepted events that
    were not handled when ``stop`` returned (its timeout passed first): the events being handled at
    that moment first (one per busy worker), then the queued ones in the order they were accepted.
    Empty after a complete drain.
    """

    handled: int
    pending: tuple[Event, ...] = ()

    @property
    def drained(self) -> bool:
        """True when every accepted event was handled (nothing pending)."""
        return not self.pending


def _positive_int(name: str, value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1", variable=name)
    return value


@dataclass(frozen=True, slots=True)
class DispatcherSettings:
    """The options of an ``EventDispatcher``, validated on construction.

    Args:
        source: the CloudEvents ``source`` of the events ``notify`` builds (a non-empty URI
            reference).
        max_workers: handler concurrency: worker threads (sync) or worker tasks (async).
        max_queue: events accepted but not yet taken by a worker; beyond it ``on_full`` applies.
        inline: run the handlers in ``publish`` itself, before it returns (no queue, no workers).
        on_full: ``"block"`` (wait for room) or ``"raise"`` (``PublishError``) on a full queue.
        on_error: called with ``(event, handler, exc)`` when a handler raises.
    """

    source: str = "midil"
    max_workers: int = 8
    max_queue: int = 1000
    inline: bool = False
    on_full: OnFull = "block"
    on_error: ErrorCallback | None = None

    def __post_init__(self) -> None:
        if type(self.source) is not str or not self.source or any(c.isspace() for c in self.source):
            raise ConfigError("source must be a non-empty URI reference", variable="source")
        _positive_int("max_workers", self.max_workers)
        _positive_int("max_queue", self.max_queue)
        if type(self.inline) is not bool:
            raise ConfigError("inline must be a bool", variable="inline")
        if self.on_full not in ("block", "raise"):
            raise ConfigError("on_full must be 'block' or 'raise'", variable="on_full")
        if self.on_error is not None and not callable(self.on_error):
            raise ConfigError("on_error must be callable", variable="on_error")


class HandlingContexts:
    """Decides, in the publisher, the event as published and the context its handlers run in.

    :meth:`for_event` returns ``event`` stamped with the current context (where it has no
    correlation id, causation id or ``traceparent`` of its own) and the context of its handling
    (see the module docstring). One per dispatcher: it remembers the last ``traceparent`` text it
    parsed, as consecutive events of one publisher carry the same one.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[str, TraceParent | None] = ("", None)

    def _parsed(self, text: str) -> TraceParent | None:
        last = self._last
        if last[0] == text:
            return last[1]
        try:
            parsed: TraceParent | None = TraceParent.parse(text)
        except InvalidEventError:
            parsed = None  # not propagated: the handling context falls back as event_context does
        self._last = (text, parsed)
        return parsed

    def build(self, source: str, type: str, data: Any, attrs: Mapping[str, Any]) -> Event:
        """A new event (``notify``), carrying the current context as :func:`stamp` would leave it,
        but built with it rather than copied (an event copy costs about as much as half a new one).
        """
        context = current_context()
        values = {"source": source, **attrs, "type": type, "data": data}
        if values.get("correlation_id") is None and context.correlation_id is not None:
            values["correlation_id"] = context.correlation_id
        if values.get("causation_id") is None and context.causation_id is not None:
            values["causation_id"] = context.causation_id
        if values.get("traceparent") is None and context.traceparent is not None:
            values["traceparent"] = context.traceparent.format()
        return Event(**values)

    def for_event(self, event: Event) -> tuple[Event, EventContext]:
        """``(stamped event, handling context)``, decided in the current context."""
        parent = current_context()
        own_trace = event.traceparent
        event = stamp(event, parent)
        # Without a traceparent of its own, the event now carries the publisher's (or none): hand
        # over the parsed value rather than parse it back from text.
        trace = parent.traceparent if own_trace is None else self._parsed(own_trace)
        # An explicit traceparent wins over the event's: the same value, already parsed. When it
        # is None, derive_context reads the event's (invalid or absent) and falls back alike.
        return event, derive_context(parent, event=event, traceparent=trace)


set_current = _current.set
"""Make an :class:`EventContext` the current one; returns the token for :func:`reset_current`.
(A worker does so around the handlers of each event; cheaper than a ``with`` block.)"""

reset_current = _current.reset
"""Restore the context that was current before :func:`set_current` gave ``token``."""


class use_context:  # lowercase: used like a function, ``with use_context(ctx):``
    """Make ``context`` the current event context inside ``with`` (restored on exit)."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: EventContext) -> None:
        self._context = context
        self._token: Token[EventContext] | None = None

    def __enter__(self) -> EventContext:
        self._token = _current.set(self._context)
        return self._context

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None


def callable_name(func: Any) -> str:
    """A readable name of a handler or job for log lines (its qualified name, else its repr)."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if isinstance(name, str):
        module = getattr(func, "__module__", None)
        return f"{module}.{name}" if isinstance(module, str) else name
    return repr(func)[:100]


def report_handler_failure(
    event: Event,
    handler: Callable[..., Any],
    exc: BaseException,
    on_error: ErrorCallback | None,
) -> None:
    """Log a handler's failure (event id and type, never the data) and call ``on_error``.

    Nothing escapes: an exception raised by ``on_error`` is logged too.
    """
    name = callable_name(handler)
    extra = {"event_id": event.id, "event_type": event.type, "handler": name}
    if on_error is None:
        logger.error(
            "event handler %s failed on event %s (type %s): %s",
            name,
            event.id,
            event.type,
            type(exc).__name__,
            exc_info=exc,
            extra=extra,
        )
        return
    try:
        on_error(event, handler, exc)
    except Exception as callback_exc:
        logger.error(
            "on_error failed for handler %s on event %s (type %s): %s",
            name,
            event.id,
            event.type,
            type(callback_exc).__name__,
            exc_info=callback_exc,
            extra=extra,
        )


def report_run_failure(func: Any, exc: BaseException, consecutive_failures: int) -> None:
    """Log a periodic task's failed run; the schedule goes on."""
    name = callable_name(func)
    logger.error(
        "periodic task %s failed (%d in a row): %s; the schedule continues",
        name,
        consecutive_failures,
        type(exc).__name__,
        exc_info=exc,
        extra={"task": name, "consecutive_failures": consecutive_failures},
    )

"""A logging filter that adds the current event context to every record.

One line of configuration::

    handler.addFilter(ContextFilter())

then use ``%(correlation_id)s`` and ``%(trace_id)s`` (and ``%(span_id)s``) in the handler's format.
"""

from __future__ import annotations

import logging

from midil_common.events.context import _current

__all__ = ["ContextFilter"]


class ContextFilter(logging.Filter):
    """Sets ``record.correlation_id``, ``record.trace_id`` and ``record.span_id`` from the current
    :class:`~midil_common.events.context.EventContext` (``"-"`` when absent); never drops a record.

    Attach it to a handler (``handler.addFilter(ContextFilter())``) so records of every logger get
    the fields; values a record already carries (``extra={"correlation_id": ...}``) are kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the context fields; always True."""
        # Read the contextvar directly: logging must not register the HTTP hook as a side effect.
        context = _current.get()
        if not hasattr(record, "correlation_id"):
            record.correlation_id = context.correlation_id or "-"
        if not hasattr(record, "trace_id"):
            record.trace_id = context.trace_id or "-"
        if not hasattr(record, "span_id"):
            record.span_id = context.span_id or "-"
        return True

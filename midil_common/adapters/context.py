"""The event context of an inbound HTTP request, decided once for every adapter.

Each request runs in its own :func:`~midil_common.events.event_context`, opened from the request's
``X-Correlation-ID`` and ``traceparent`` headers: a valid correlation id is kept, an absent or invalid
one (control characters, spaces, over 128 characters, repeated) is replaced by a new uuid4; a valid
``traceparent`` is continued (same trace id, a new span id), an absent or invalid one starts a new
trace (or joins the active OpenTelemetry span). The validation is the events core's
(:func:`~midil_common.events.extract_headers`): nothing the client sent is trusted blindly, and
nothing invalid is echoed back. Every response then carries ``X-Correlation-ID`` with the id the
request actually ran under, replacing any other value of that header.

The adapters only move values: this module reads the headers from a WSGI ``environ`` (or Django's
``request.META``), from an ASGI scope, or from any mapping, and writes the response header into a
WSGI header list or an ASGI one. Only one scope is opened per request: the adapter that opens it
leaves the context under :data:`ENVIRON_KEY` (WSGI) or ``scope["state"][STATE_KEY]`` (ASGI), and any
inner adapter that finds it there passes the request through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from midil_common.events import (
    CORRELATION_HEADER,
    TRACEPARENT_HEADER,
    ContextScope,
    EventContext,
    event_context,
    extract_headers,
)

__all__ = [
    "CORRELATION_HEADER",
    "ENVIRON_KEY",
    "STATE_KEY",
    "TRACEPARENT_HEADER",
    "asgi_response_headers",
    "request_context",
    "request_context_from_asgi",
    "request_context_from_environ",
    "wsgi_response_headers",
]

ENVIRON_KEY = "midil.event_context"
"""The WSGI environ key (and Django ``request.META`` key) holding the request's ``EventContext``."""

STATE_KEY = "midil_context"
"""The ASGI ``scope["state"]`` key (``request.state.midil_context``) holding the request's context."""

_CORRELATION_LOWER = CORRELATION_HEADER.lower()
_CORRELATION_ENVIRON = "HTTP_X_CORRELATION_ID"
_TRACEPARENT_ENVIRON = "HTTP_TRACEPARENT"
_CORRELATION_BYTES = _CORRELATION_LOWER.encode("ascii")
_TRACEPARENT_BYTES = TRACEPARENT_HEADER.encode("ascii")
# ASGI servers lowercase header names (as Starlette's Headers assumes too).
_WANTED = frozenset((_CORRELATION_BYTES, _TRACEPARENT_BYTES))


def request_context(headers: Mapping[str, str | Sequence[str]]) -> ContextScope:
    """The scope to run a request in, from its headers (any mapping; names case-insensitive)."""
    correlation_id, traceparent = extract_headers(headers)
    return event_context(correlation_id, traceparent)


def request_context_from_environ(environ: Mapping[str, Any]) -> ContextScope:
    """:func:`request_context` for a WSGI ``environ`` or Django's ``request.META``.

    Reads the two CGI keys directly (no header view is built); a request carrying neither, the
    common case inside a service mesh without tracing, skips validation altogether.
    """
    correlation = environ.get(_CORRELATION_ENVIRON)
    traceparent = environ.get(_TRACEPARENT_ENVIRON)
    if correlation is None and traceparent is None:
        return event_context()
    found: dict[str, str] = {}
    if correlation is not None:
        found[_CORRELATION_LOWER] = correlation
    if traceparent is not None:
        found[TRACEPARENT_HEADER] = traceparent
    return request_context(found)


def request_context_from_asgi(raw_headers: Iterable[tuple[bytes, bytes]]) -> ContextScope:
    """:func:`request_context` for an ASGI scope's ``headers`` (lowercase byte names; a header
    sent twice arrives twice and is then dropped as ambiguous, as the core decides)."""
    found: dict[str, list[str]] = {}
    for name, value in raw_headers:
        if name in _WANTED:
            found.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    if not found:
        return event_context()
    return request_context(found)


def wsgi_response_headers(
    headers: list[tuple[str, str]], context: EventContext
) -> list[tuple[str, str]]:
    """``headers`` (a WSGI header list, changed in place) with ``X-Correlation-ID`` set to the
    context's id, any other value of it removed."""
    value = context.correlation_id
    if value is None:
        return headers
    for i in range(len(headers) - 1, -1, -1):
        if headers[i][0].lower() == _CORRELATION_LOWER:
            del headers[i]
    headers.append((CORRELATION_HEADER, value))
    return headers


def asgi_response_headers(
    raw_headers: Iterable[tuple[bytes, bytes]], context: EventContext
) -> list[tuple[bytes, bytes]]:
    """A new ASGI header list: ``raw_headers`` with ``x-correlation-id`` set to the context's id,
    any other value of it removed."""
    out = [(k, v) for k, v in raw_headers if k.lower() != _CORRELATION_BYTES]
    if context.correlation_id is not None:
        # A valid correlation id is printable ASCII (the core refuses anything else).
        out.append((_CORRELATION_BYTES, context.correlation_id.encode("ascii")))
    return out

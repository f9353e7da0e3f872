"""``midil_sync.django.ContextMiddleware``: every request runs in an event context, every response
says which.

The request's ``traceparent`` and ``X-Correlation-ID`` headers open the context (a valid correlation
id is kept, an absent or invalid one replaced; a valid ``traceparent`` continued with a new span id),
so views, DRF views, log records (with ``midil_common.events.ContextFilter`` on the handler) and
outgoing ``HttpClient`` calls carry them; the response gets ``X-Correlation-ID`` with the id used.

List it first, so responses made by the middleware after it (a CSRF 403, a redirect, the
authentication 401) carry the header too and their log lines the id::

    MIDDLEWARE = [
        "midil_sync.django.ContextMiddleware",
        "django.middleware.security.SecurityMiddleware",
        ...
        "midil_sync.django.AuthMiddleware",
    ]

``AuthMiddleware`` opens the same context by itself when this middleware is not installed
(``MIDIL["PROPAGATE_CONTEXT"]``, default True), so an existing ``MIDDLEWARE`` list gets propagation
from where ``AuthMiddleware`` stands. Only the outermost of them acts; the context is also in
``request.META["midil.event_context"]``. Both are sync and async capable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from midil_common.adapters.context import (
    CORRELATION_HEADER,
    ENVIRON_KEY,
    request_context_from_environ,
)

__all__ = ["ContextMiddleware", "in_context", "in_context_async", "opened"]


def opened(request: HttpRequest) -> bool:
    """True when a middleware already runs this request in its context."""
    return ENVIRON_KEY in request.META


def in_context(
    request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponseBase]
) -> HttpResponseBase:
    """``get_response(request)`` inside the request's context, with ``X-Correlation-ID`` set."""
    meta = request.META
    if ENVIRON_KEY in meta:
        return get_response(request)
    with request_context_from_environ(meta) as context:
        meta[ENVIRON_KEY] = context
        response = get_response(request)
    if context.correlation_id is not None:
        response[CORRELATION_HEADER] = context.correlation_id
    return response


async def in_context_async(
    request: HttpRequest, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]
) -> HttpResponseBase:
    """:func:`in_context` for the async stack."""
    meta = request.META
    if ENVIRON_KEY in meta:
        return await get_response(request)
    with request_context_from_environ(meta) as context:
        meta[ENVIRON_KEY] = context
        response = await get_response(request)
    if context.correlation_id is not None:
        response[CORRELATION_HEADER] = context.correlation_id
    return response


class ContextMiddleware:
    """Runs each request in an event context and answers with ``X-Correlation-ID`` (see the module
    documentation for where to list it)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        """Pass the request on inside its context (sync stack), or return the coroutine."""
        if self.is_async:
            return in_context_async(request, self.get_response)
        return in_context(request, self.get_response)

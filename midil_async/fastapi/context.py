"""``ContextMiddleware``: every request runs in an event context, every response says which.

A pure ASGI middleware. The request's ``traceparent`` and ``X-Correlation-ID`` headers open the
context (a valid correlation id is kept, an absent or invalid one replaced; a valid ``traceparent``
continued with a new span id) around the whole application call, so dependencies, endpoints,
background tasks started by them, log records (with ``midil_common.events.ContextFilter`` on the
handler) and outgoing ``HttpClient`` calls carry them; ``x-correlation-id`` is set on the
``http.response.start`` message, so every response the middleware sees carries the id used: the
endpoint's, a 401/403 of the dependencies, a JSON:API 400 or a 404 from the exception handlers. A
websocket runs in a context too (its handshake gets no header). Lifespan events pass untouched.

How it gets installed: :func:`~midil_async.fastapi.register_exception_handlers` adds it by default
(``propagate_context=True``), and :class:`~midil_async.fastapi.AuthMiddleware` opens the same context
when it finds none (``propagate_context=True``); or add it yourself, outermost::

    app.add_middleware(ContextMiddleware)

Only the outermost of them acts: the context is in ``request.state.midil_context`` as well as in
:func:`midil_common.events.current_context`. A response produced outside it (Starlette's
``ServerErrorMiddleware`` 500, which sits outside every user middleware) has no header.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from midil_common.adapters.context import (
    STATE_KEY,
    asgi_response_headers,
    request_context_from_asgi,
)

__all__ = ["ContextMiddleware", "run_in_context"]


async def run_in_context(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Call ``app`` inside the request's context (unless one is open already), adding
    ``x-correlation-id`` to the HTTP response. For ``http`` and ``websocket`` scopes only."""
    state = scope.setdefault("state", {})
    if STATE_KEY in state:
        await app(scope, receive, send)
        return
    with request_context_from_asgi(scope.get("headers", ())) as context:
        state[STATE_KEY] = context
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Replaced in place, as Starlette's own middleware does with MutableHeaders.
                message["headers"] = asgi_response_headers(message.get("headers", ()), context)
            await send(message)

        await app(scope, receive, send_with_header)


class ContextMiddleware:
    """Pure ASGI middleware running each request in its event context (see the module
    documentation)."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open the request's context around the wrapped app (HTTP and websockets)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await run_in_context(self.app, scope, receive, send)

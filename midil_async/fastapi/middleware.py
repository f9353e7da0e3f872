"""The pure ASGI ``AuthMiddleware``: every HTTP request and websocket handshake verified up front."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from midil_async.fastapi.context import run_in_context
from midil_async.fastapi.responses import as_response
from midil_common.adapters import AuthOptions, ErrorResponse, configured_realm, error_response
from midil_common.adapters.checks import check_authorizer
from midil_common.adapters.context import STATE_KEY
from midil_common.adapters.logs import log_failure
from midil_common.errors import MidilError

if TYPE_CHECKING:
    from midil_common.auth.protocols import AsyncAuthorizer

__all__ = ["AuthMiddleware"]

TOKEN_SOURCE_KEY = "midil_token_source"
"""The ``request.state`` key of the middleware's ``TokenSource`` (where to read the token again)."""


def joined_header(headers: Headers) -> Callable[[str], str | None]:
    """A header getter joining repeated fields with ``", "``, as WSGI servers do (RFC 9110 5.3).

    Starlette's ``get`` answers with the first field only: two ``Authorization`` fields would let
    the first token through where Flask and Django see both and refuse them as malformed.
    """

    def get(name: str) -> str | None:
        values = headers.getlist(name)
        return ", ".join(values) if values else None

    return get


log = logging.getLogger("midil.adapters.fastapi")


class AuthMiddleware:
    """Pure ASGI middleware: verifies every HTTP request and websocket handshake outside
    ``excluded_paths`` and sets ``request.state.claims`` (``websocket.state.claims``); answers
    401/403/503 itself with a JSON:API error document.

    A refused websocket handshake gets that same HTTP answer where the server supports the ASGI
    websocket denial response, and is closed with code 1008 (policy violation) elsewhere; the app
    never sees it. CORS preflight requests and lifespan events pass untouched. ``optional=True``
    lets requests without a token through with ``claims = None``. ``realm`` (the ``realm`` of
    challenges) defaults to ``MIDIL_AUTH__REALM``; ``realm=""`` means none.

    With ``propagate_context`` (the default) and no :class:`~midil_async.fastapi.ContextMiddleware`
    outside it, it runs each request in the event context of its ``traceparent`` and
    ``X-Correlation-ID`` headers and sets ``x-correlation-id`` on the response, its own refusals
    included (see :mod:`midil_async.fastapi.context`).
    """

    def __init__(
        self,
        app: ASGIApp,
        authorizer: AsyncAuthorizer,
        *,
        realm: str | None = None,
        excluded_paths: Iterable[str] = (),
        optional: bool = False,
        token_header: str = "Authorization",
        token_scheme: str | None = "Bearer",
        token_cookie: str | None = None,
        propagate_context: bool = True,
    ) -> None:
        check_authorizer(authorizer, coroutines=True)
        self.app = app
        self.authorizer = authorizer
        self.propagate_context = propagate_context
        self.options = AuthOptions.build(
            realm=configured_realm(realm),
            excluded_paths=excluded_paths,
            optional=optional,
            header=token_header,
            scheme=token_scheme,
            cookie=token_cookie,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate an HTTP request or websocket handshake, then call the wrapped app."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.propagate_context and STATE_KEY not in scope.get("state", ()):
            await run_in_context(self._authenticate, scope, receive, send)
            return
        await self._authenticate(scope, receive, send)

    async def _authenticate(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        headers = Headers(scope=scope)
        get_cookie = None
        if self.options.source.cookie is not None:
            cookies = cookie_parser(headers.get("cookie", ""))
            get_cookie = cookies.get
        claims = None
        # A websocket handshake is a GET: excluded paths and optional auth apply the same way.
        method = scope["method"] if kind == "http" else "GET"
        try:
            plan = self.options.plan(method, scope["path"], joined_header(headers), get_cookie)
            if plan.token is not None:
                claims = await self.authorizer.verify(plan.token)
        except MidilError as exc:
            err = error_response(exc, realm=self.options.realm)
            log_failure(log, exc, err.status)
            if kind == "http":
                await as_response(err)(scope, receive, send)
            else:
                await _refuse_websocket(err, scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["claims"] = claims
        # Where the token is (not the token): for a remote permission check that needs it again.
        state[TOKEN_SOURCE_KEY] = self.options.source
        await self.app(scope, receive, send)


async def _refuse_websocket(err: ErrorResponse, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a refused handshake over HTTP when the server can, else close it (1008)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client is already gone
    if "websocket.http.response" in scope.get("extensions", {}):
        raw_headers = [(b"content-type", err.content_type.encode("latin-1"))]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers]
        await send(
            {"type": "websocket.http.response.start", "status": err.status, "headers": raw_headers}
        )
        await send({"type": "websocket.http.response.body", "body": err.body()})
    else:
        await send({"type": "websocket.close", "code": 1008})

"""``midil_sync.django.AuthMiddleware``: bearer-token authentication for every request.

Both sync and async capable: under ASGI with an async stack, no thread is held per request and a
token is verified on the event loop when the issuer's keys are cached; only a key fetch runs in a
worker thread. Under WSGI it verifies in the request's thread.

Settings (``settings.MIDIL``): ``AUTHORIZER`` (dotted path, class, factory or instance; otherwise
one is built from ``ISSUER``, ``AUDIENCE``, ``JWKS_URL``, ``ALGORITHMS``, ``LEEWAY`` or
``COGNITO_USER_POOL_ID``, ``REGION``, ``CLIENT_IDS``, ``TOKEN_USE``, falling back to
``MIDIL_AUTH__...`` environment settings), ``REALM`` (default: ``MIDIL_AUTH__REALM``),
``EXCLUDED_PATHS``, ``REQUIRE_AUTH`` (refuse requests without a token; default False: they pass
with ``request.midil_claims = None`` and the decorators or DRF permissions decide),
``TOKEN_HEADER``, ``TOKEN_SCHEME``, ``TOKEN_COOKIE``, ``PERMISSION_POLICY``, ``USER_FACTORY``,
``SET_USER`` (default True: ``request.user`` becomes the claims user), ``PROPAGATE_CONTEXT``
(default True: when :class:`~midil_sync.django.ContextMiddleware` is not listed before it, run
each request in an event context from its ``traceparent`` and ``X-Correlation-ID`` headers and
answer with ``X-Correlation-ID``, its own 401/403/503 included; see
:mod:`midil_sync.django.context`).

A present but invalid token is always answered with 401 (RFC 6750), and every kit error raised by a
view (a bad JSON:API query, a missing scope) becomes a JSON:API error response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from midil_common.errors import MidilError
from midil_sync.django._http import (
    attach,
    averify,
    error_http_response,
    request_limit_error,
    request_token,
    verify,
)
from midil_sync.django.conf import MidilConfig, get_config
from midil_sync.django.context import in_context, in_context_async, opened

__all__ = ["AuthMiddleware"]


class AuthMiddleware:
    """Authenticates requests with the configured authorizer (see the module documentation)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        # Built now, while Django loads its middleware: a misconfiguration (no issuer, a bad
        # setting) stops the server at start-up with a ConfigError naming the setting, instead of
        # answering every request with a 500.
        get_config()

    def _token(self, config: MidilConfig, request: HttpRequest) -> str | None:
        if config.options.excluded.skips_environ(
            request.method or "GET", request.path, request.META
        ):
            return None
        return request_token(config, request, optional=not config.require_auth)

    def __call__(self, request: HttpRequest) -> Any:
        """Authenticate and pass on (sync stack), or return the coroutine (async stack)."""
        if self.is_async:
            return self.__acall__(request)
        if not opened(request) and _propagates():
            return in_context(request, self._authenticate)
        return self._authenticate(request)

    def _authenticate(self, request: HttpRequest) -> Any:
        config = None
        try:
            config = get_config()
            token = self._token(config, request)
            claims = None if token is None else verify(config.authorizer, token)
        except MidilError as exc:
            return error_http_response(exc, config)
        attach(config, request, claims)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not opened(request) and _propagates():
            return await in_context_async(request, self._authenticate_async)
        return await self._authenticate_async(request)

    async def _authenticate_async(self, request: HttpRequest) -> HttpResponseBase:
        config = None
        try:
            config = get_config()
            token = self._token(config, request)
            claims = None if token is None else await averify(config.authorizer, token)
        except MidilError as exc:
            return error_http_response(exc, config)
        attach(config, request, claims)
        result: Awaitable[HttpResponseBase] = self.get_response(request)
        return await result

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        """Render kit errors raised by views as JSON:API responses; leave the rest to Django."""
        if isinstance(exception, MidilError):
            return error_http_response(exception, get_config())
        refusal = request_limit_error(exception)
        if refusal is not None:
            return error_http_response(refusal, get_config())
        return None


def _propagates() -> bool:
    """``MIDIL["PROPAGATE_CONTEXT"]``; True when the configuration cannot be built (the error
    response that follows carries the header like any other)."""
    try:
        return get_config().propagate_context
    except MidilError:
        return True

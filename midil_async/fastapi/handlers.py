"""Exception handlers answering kit, validation and HTTP errors with JSON:API error documents."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from midil_async.fastapi.context import ContextMiddleware
from midil_async.fastapi.exceptions import MidilHTTPException
from midil_async.fastapi.responses import as_response
from midil_common.adapters import (
    configured_realm,
    error_response,
    framework_error,
    validation_response,
)
from midil_common.adapters.checks import check_policy
from midil_common.adapters.logs import log_failure
from midil_common.errors import MidilError

__all__ = ["register_exception_handlers"]

log = logging.getLogger("midil.adapters.fastapi")


def register_exception_handlers(
    app: FastAPI,
    *,
    realm: str | None = None,
    policy: Any = None,
    http_errors: bool = True,
    propagate_context: bool = True,
) -> None:
    """Answer kit errors, request validation errors (with JSON pointers) and, with ``http_errors``,
    Starlette's HTTP errors (404, 405 ...) with JSON:API error documents.

    ``realm`` (default: ``MIDIL_AUTH__REALM``; ``""``: none) and ``policy`` become the app's
    defaults for :func:`get_claims`, :func:`require_scopes` and :func:`require_permission`. With ``propagate_context`` (the
    default) the app also gets :class:`~midil_async.fastapi.ContextMiddleware` (once, added like
    ``app.add_middleware``, so call this before the app starts): every request runs in the event
    context of its ``traceparent`` and ``X-Correlation-ID`` headers, and every response these
    handlers make carries ``X-Correlation-ID``.
    """
    check_policy(policy, coroutines=True)
    realm = configured_realm(realm)
    app.state.midil_realm = realm
    if policy is not None:
        app.state.midil_policy = policy

    async def on_midil_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MidilHTTPException)
        return as_response(exc.error_response)

    async def on_midil(request: Request, exc: Exception) -> Response:
        err = error_response(exc, realm=realm)
        log_failure(log, exc, err.status)
        return as_response(err)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors: Sequence[Mapping[str, Any]] = exc.errors()
        return as_response(validation_response(errors))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        err = framework_error(exc.status_code, exc.detail)
        response = as_response(err)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    if propagate_context and not any(
        getattr(m, "cls", None) is ContextMiddleware for m in app.user_middleware
    ):
        app.add_middleware(ContextMiddleware)

    app.add_exception_handler(MidilHTTPException, on_midil_http)
    app.add_exception_handler(MidilError, on_midil)
    app.add_exception_handler(RequestValidationError, on_validation)
    if http_errors:
        app.add_exception_handler(StarletteHTTPException, on_http)

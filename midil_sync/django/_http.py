"""Turning the core's decisions into Django responses, and verifying without blocking the loop."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse

from midil_common.adapters import ErrorResponse, error_response, refuse_unless
from midil_common.adapters.logs import log_checker_failure, log_failure
from midil_common.errors import InvalidDocumentError, InvalidQueryError, JSONAPIError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.protocols import Authorizer
    from midil_common.auth.remote_policy import RemotePermissionPolicy
    from midil_sync.django.conf import MidilConfig

log = logging.getLogger("midil.adapters.django")


def request_limit_error(exc: BaseException) -> JSONAPIError | None:
    """The kit's error for Django's request limits, or None for anything else: more than
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields (a query, a form) or a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``. Django raises them as ``SuspiciousOperation`` and would answer
    with its own HTML page; a JSON:API client gets an error document like any other refusal."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exc, RequestDataTooBig):
        return InvalidDocumentError(
            "the request body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE)",
            status=413,
        )
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return InvalidQueryError(
            "the request has more fields than the server accepts "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_NUMBER_FILES)"
        )
    return None


def http_response(err: ErrorResponse) -> HttpResponse:
    """A Django response for the core's error response."""
    response = HttpResponse(err.body(), status=err.status, content_type=err.content_type)
    for name, value in err.headers:
        response[name] = value
    return response


def error_http_response(exc: BaseException, config: MidilConfig | None) -> HttpResponse:
    """The JSON:API error response for ``exc``, with the configured realm in challenges."""
    err = error_response(exc, realm=config.options.realm if config is not None else None)
    log_failure(log, exc, err.status)
    return http_response(err)


def request_token(config: MidilConfig, request: HttpRequest, *, optional: bool) -> str | None:
    """The request's token (None when absent and optional); raises the core's refusals."""
    # Read from META: request.headers would build a case-insensitive copy of every header.
    get_cookie = request.COOKIES.get if config.options.source.cookie else None
    return config.options.environ_token(request.META, get_cookie, optional=optional)


def verify(authorizer: Authorizer, token: str) -> TokenClaims:
    """Verify in the calling thread (the WSGI worker)."""
    return authorizer.verify(token)


async def averify(authorizer: Authorizer, token: str) -> TokenClaims:
    """Verify from async code: inline when the keys are warm, in a worker thread only for a fetch.

    ``verify_cached`` (on the kit's authorizers) never does I/O and returns None when the key must be
    fetched; an authorizer without it may block, so it always runs in a thread.
    """
    cached = getattr(authorizer, "verify_cached", None)
    if cached is not None:
        claims: TokenClaims | None = cached(token)
        if claims is not None:
            return claims
    return await sync_to_async(authorizer.verify, thread_sensitive=False)(token)


def ask_remote(
    policy: RemotePermissionPolicy,
    config: MidilConfig,
    request: HttpRequest,
    resource: str,
    action: str,
) -> None:
    """Ask the policy's checker with the request's token (read again, never stored); raise the
    403 unless it allows. A checker that raises denies (fails closed), logged without its text."""
    token = cast(str, request_token(config, request, optional=False))
    try:
        allowed = policy.checker.check(token, resource, action)
    except Exception as exc:
        log_checker_failure(log, exc, resource, action)
        allowed = False
    refuse_unless(allowed, policy, resource, action)


async def aask_remote(
    policy: RemotePermissionPolicy,
    config: MidilConfig,
    request: HttpRequest,
    resource: str,
    action: str,
) -> None:
    """:func:`ask_remote` from async code: the sync checker runs in a worker thread, so the event
    loop never waits on the decision service."""
    await sync_to_async(ask_remote, thread_sensitive=False)(
        policy, config, request, resource, action
    )


def attach(config: MidilConfig, request: Any, claims: TokenClaims | None) -> None:
    """Expose the claims (``request.midil_claims``) and, when configured, the claims user."""
    request.midil_claims = claims
    if claims is not None and config.set_user:
        request.user = config.user_factory(claims)

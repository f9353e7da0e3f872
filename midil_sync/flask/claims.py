"""The request's token, verified once per request: ``current_claims`` and the ``PROTECT_ALL`` guard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import g, request
from werkzeug.local import LocalProxy

from midil_common.adapters import MissingTokenError
from midil_sync.flask.state import app_state

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims

__all__ = ["current_claims"]

_UNSET = object()


def authenticate(optional: bool) -> TokenClaims | None:
    """Verify the request's token once per request; the result is kept on ``g``."""
    # Each context-local proxy access costs a context-variable lookup: resolve them once.
    ctx_g = cast(Any, g)._get_current_object()
    cached = ctx_g.get("_midil_claims", _UNSET)
    if cached is not _UNSET and (cached is not None or optional):
        return cast("TokenClaims | None", cached)
    state = app_state()
    req = cast(Any, request)._get_current_object()
    # Cookies are parsed only when a cookie source is configured; the header is read from the WSGI
    # environ, skipping werkzeug's header view.
    get_cookie = req.cookies.get if state.options.source.cookie else None
    token = state.options.environ_token(req.environ, get_cookie, optional=optional)
    claims = None if token is None else state.authorizer.verify(token)
    ctx_g._midil_claims = claims
    return claims


def required_claims() -> TokenClaims:
    """The request's verified claims; ``MissingTokenError`` (401) when it carries no token."""
    claims = authenticate(False)
    if claims is None:
        raise MissingTokenError()
    return claims


def request_token() -> str:
    """The current request's token, read again for a check that needs it (a remote permission
    policy); ``MissingTokenError`` when there is none. Never kept on ``g`` or the request."""
    state = app_state()
    req = cast(Any, request)._get_current_object()
    get_cookie = req.cookies.get if state.options.source.cookie else None
    return cast(str, state.options.environ_token(req.environ, get_cookie, optional=False))


def guard() -> None:
    """The ``before_request`` hook of ``MIDIL_PROTECT_ALL``: every non-excluded request needs a
    valid token."""
    state = app_state()
    req = cast(Any, request)._get_current_object()
    if state.options.excluded.skips_environ(req.method, req.path, req.environ):
        return
    authenticate(optional=False)


def _get_claims() -> TokenClaims | None:
    value = g.get("_midil_claims", None)
    return cast("TokenClaims | None", value)


current_claims: TokenClaims = cast("TokenClaims", LocalProxy(_get_claims))
"""The verified claims of the current request (``None`` when it was not authenticated)."""

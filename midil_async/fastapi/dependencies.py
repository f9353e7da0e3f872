"""Bearer-token dependencies: ``Authenticated``, ``get_claims``, ``require_scopes``, ``require_permission``.

The dependencies are built on ``fastapi.security.HTTPBearer(auto_error=False)``, so the OpenAPI
schema lists the bearer scheme and the lock on protected operations, while the kit parses the header
itself (strict RFC 6750 rules) and answers with RFC 6750 challenges and JSON:API error documents.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer, SecurityScopes

from midil_async.fastapi.exceptions import MidilHTTPException
from midil_async.fastapi.middleware import TOKEN_SOURCE_KEY, joined_header
from midil_common.adapters import (
    AuthOptions,
    Match,
    MissingTokenError,
    TokenSource,
    check_permission,
    check_scopes,
    configured_realm,
    refuse_unless,
    remote_policy,
)
from midil_common.adapters.checks import check_authorizer, check_policy
from midil_common.adapters.logs import log_checker_failure
from midil_common.errors import MidilError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.protocols import AsyncAuthorizer
    from midil_common.auth.remote_policy import RemotePermissionPolicy

__all__ = [
    "Authenticated",
    "bearer_scheme",
    "get_claims",
    "require_permission",
    "require_scopes",
]

log = logging.getLogger("midil.adapters.fastapi")

bearer_scheme = HTTPBearer(auto_error=False, description="A JWT access token (RFC 6750).")
"""The security scheme the dependencies declare (``HTTPBearer`` in OpenAPI)."""


def _state_claims(request: Request) -> Any:
    return getattr(request.state, "claims", None)


class Authenticated(HTTPBearer):
    """A dependency verifying the request's bearer token with ``authorizer``; returns ``TokenClaims``.

    Build it once per application. Use it as ``Depends(auth)``, or ``Security(auth, scopes=[...])``
    to also require scopes (all of them, or any with ``match="any"``). ``optional=True`` returns None
    when the request carries no token (a present but invalid token is still refused). When the
    :class:`AuthMiddleware` already verified the request, its claims are reused.

    Args:
        authorizer: any ``midil_common.auth.AsyncAuthorizer`` (``midil_async.JWTAuthorizer`` ...).
        realm: the ``realm`` of challenges (default: ``MIDIL_AUTH__REALM``; ``""``: none).
        optional: accept requests without a token.
        match: how ``Security`` scopes combine.
        token_cookie: also read the bare token from this cookie when there is no header.
        bearer: the ``HTTPBearer`` declared in OpenAPI (one with your own ``scheme_name``).
    """

    def __init__(
        self,
        authorizer: AsyncAuthorizer,
        *,
        realm: str | None = None,
        optional: bool = False,
        match: Match = "all",
        token_cookie: str | None = None,
        bearer: HTTPBearer | None = None,
    ) -> None:
        check_authorizer(authorizer, coroutines=True)
        scheme = bearer or bearer_scheme
        # The dependency is itself the HTTPBearer security scheme (its model and name are the
        # declared one's), so OpenAPI shows the lock without a nested dependency per request.
        super().__init__(auto_error=False)
        self.model = scheme.model
        self.scheme_name = scheme.scheme_name
        self.authorizer = authorizer
        self.options = AuthOptions.build(
            realm=configured_realm(realm), optional=optional, cookie=token_cookie
        )
        self.match: Match = match
        # FastAPI resolves string annotations through the callable's globals, which an instance
        # lacks: hand it the evaluated signature of __call__.
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=kind)
                for name, kind in (("request", Request), ("security_scopes", SecurityScopes))
            ]
        )

    def optional(self) -> Authenticated:
        """The same dependency, returning None when the request carries no token."""
        clone = Authenticated.__new__(Authenticated)
        clone.__dict__.update(self.__dict__)
        clone.options = AuthOptions(
            realm=self.options.realm, source=self.options.source, optional=True
        )
        return clone

    async def authenticate(self, request: Request) -> TokenClaims | None:
        """Verify the request's token (None when optional and absent); raises kit errors."""
        claims = _state_claims(request)
        if claims is not None:
            return claims  # type: ignore[no-any-return]
        get_cookie = request.cookies.get if self.options.source.cookie else None
        token = self.options.token(joined_header(request.headers), get_cookie)
        if token is None:
            return None
        claims = await self.authorizer.verify(token)
        request.state.claims = claims
        return claims

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> TokenClaims | None:
        """Dependency entry point: claims, or a :class:`MidilHTTPException`."""
        try:
            claims = await self.authenticate(request)
            if security_scopes.scopes:
                if claims is None:
                    raise MissingTokenError()
                check_scopes(claims, security_scopes.scopes, self.match)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=self.options.realm) from None
        return claims


async def get_claims(
    request: Request,
    security_scopes: SecurityScopes,
    _credentials: Any = Depends(bearer_scheme),  # noqa: B008
) -> TokenClaims:
    """The claims :class:`AuthMiddleware` verified (401 when there are none); honours
    ``Security(get_claims, scopes=[...])``."""
    claims = _state_claims(request)
    try:
        if claims is None:
            raise MissingTokenError()
        if security_scopes.scopes:
            check_scopes(claims, security_scopes.scopes, "all")
    except MidilError as exc:
        raise MidilHTTPException(exc, realm=_app_realm(request)) from None
    return claims  # type: ignore[no-any-return]


def _app_realm(request: Request) -> str | None:
    return getattr(request.app.state, "midil_realm", None)


ClaimsDependency = Callable[..., Awaitable[Any]]


def require_scopes(
    *scopes: str, match: Match = "all", auth: ClaimsDependency | None = None
) -> Callable[..., Awaitable[TokenClaims]]:
    """A dependency requiring a token granting ``scopes``; returns the claims.

    ``auth`` is an :class:`Authenticated` (default: :func:`get_claims`, the middleware's claims).
    """
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")
    source = auth or get_claims
    realm = auth.options.realm if isinstance(auth, Authenticated) else None

    async def dependency(request: Request, claims: Any = Depends(source)) -> TokenClaims:  # noqa: B008
        try:
            if claims is None:
                raise MissingTokenError()
            check_scopes(claims, scopes, match)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=realm or _app_realm(request)) from None
        return claims  # type: ignore[no-any-return]

    return dependency


def require_permission(
    resource: str, action: str, *, policy: Any = None, auth: ClaimsDependency | None = None
) -> Callable[..., Awaitable[TokenClaims]]:
    """A dependency requiring a token whose scopes or groups grant ``resource:action`` under
    ``policy`` (or ``app.state.midil_policy``); returns the claims.

    A ``RemotePermissionPolicy`` (around ``midil_async.RemotePermissionChecker``) awaits its
    checker with the request's token, read where ``auth`` (or the :class:`AuthMiddleware`) reads
    it; a deny, or a checker failure, is a 403. A sync checker is a ``ConfigError`` here.
    """
    check_policy(policy, coroutines=True)
    source = auth or get_claims
    realm = auth.options.realm if isinstance(auth, Authenticated) else None
    token_source = auth.options.source if isinstance(auth, Authenticated) else None

    async def dependency(request: Request, claims: Any = Depends(source)) -> TokenClaims:  # noqa: B008
        chosen = policy if policy is not None else getattr(request.app.state, "midil_policy", None)
        if chosen is None:
            raise RuntimeError("require_permission needs a PermissionPolicy")
        try:
            if claims is None:
                raise MissingTokenError()
            remote = remote_policy(chosen)
            if remote is None:
                check_permission(claims, chosen, resource, action)
            else:
                await _ask_remote(remote, request, token_source, resource, action)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=realm or _app_realm(request)) from None
        return claims  # type: ignore[no-any-return]

    return dependency


async def _ask_remote(
    policy: RemotePermissionPolicy,
    request: Request,
    source: TokenSource | None,
    resource: str,
    action: str,
) -> None:
    """Await the policy's checker with the request's token (read again, never stored); raise the
    403 unless it allows. A checker that raises denies (fails closed), logged without its text."""
    if not policy.coroutines:  # the app's policy, not checked when the dependency was built
        check_policy(policy, coroutines=True)
    if source is None:
        source = getattr(request.state, TOKEN_SOURCE_KEY, None) or _DEFAULT_SOURCE
    get_cookie = request.cookies.get if source.cookie else None
    token = source.extract(joined_header(request.headers), get_cookie)
    if token is None:
        raise MissingTokenError()
    try:
        allowed = await policy.checker.check(token, resource, action)
    except Exception as exc:
        log_checker_failure(log, exc, resource, action)
        allowed = False
    refuse_unless(allowed, policy, resource, action)


_DEFAULT_SOURCE = TokenSource()

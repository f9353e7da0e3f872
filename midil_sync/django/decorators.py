"""View decorators: ``require_auth``, ``require_scopes``, ``require_permission``, ``jsonapi_view``.

They work on sync and async function views, on view methods (``def get(self, request)``) and on
class-based views (decorate the class). With :class:`~midil_sync.django.AuthMiddleware` installed they
reuse the claims it verified; without it they verify the token themselves. Failures become JSON:API
error responses (401, 403, 503, 415, 406) with RFC 6750 challenges.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest

from midil_common.adapters import (
    Match,
    MissingTokenError,
    check_permission,
    check_scopes,
    remote_policy,
)
from midil_common.adapters.checks import check_policy
from midil_common.adapters.jsonapi import negotiate_request
from midil_common.errors import MidilError
from midil_sync.django._http import (
    aask_remote,
    ask_remote,
    attach,
    averify,
    error_http_response,
    request_limit_error,
    request_token,
    verify,
)
from midil_sync.django.conf import MidilConfig, get_config

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims

__all__ = ["jsonapi_view", "require_auth", "require_permission", "require_scopes"]

V = TypeVar("V")

# A check receives the request and its claims (None when optional and absent) and raises to refuse.
Check = Callable[[HttpRequest, "TokenClaims | None", MidilConfig], None]
# The same for async views, when the check may wait (a remote permission decision).
AsyncCheck = Callable[[HttpRequest, "TokenClaims | None", MidilConfig], Awaitable[None]]


def _find_request(args: tuple[Any, ...]) -> HttpRequest:
    for arg in args[:2]:
        if isinstance(arg, HttpRequest) or hasattr(arg, "_request"):
            return cast(HttpRequest, getattr(arg, "_request", arg))
    raise TypeError("the decorated view received no HttpRequest")


def _known_claims(request: HttpRequest) -> tuple[bool, TokenClaims | None]:
    claims = getattr(request, "midil_claims", None)
    return claims is not None, claims


def _sync_claims(request: HttpRequest, config: MidilConfig, optional: bool) -> TokenClaims | None:
    known, claims = _known_claims(request)
    if known:
        return claims
    token = request_token(config, request, optional=optional)
    claims = None if token is None else verify(config.authorizer, token)
    attach(config, request, claims)
    return claims


async def _async_claims(
    request: HttpRequest, config: MidilConfig, optional: bool
) -> TokenClaims | None:
    known, claims = _known_claims(request)
    if known:
        return claims
    token = request_token(config, request, optional=optional)
    claims = None if token is None else await averify(config.authorizer, token)
    attach(config, request, claims)
    return claims


def _guard(
    check: Check | None,
    *,
    optional: bool = False,
    authenticate: bool = True,
    acheck: AsyncCheck | None = None,
) -> Callable[[V], V]:
    """Wrap views with ``check`` (async views: ``acheck`` when given, else ``check`` inline)."""

    def decorator(view: V) -> V:
        if isinstance(view, type):
            # A class-based view: guard its dispatch, keeping the class.
            dispatch = view.dispatch  # type: ignore[attr-defined]
            if getattr(view, "view_is_async", False):

                async def adispatch(self: Any, request: HttpRequest, *a: Any, **kw: Any) -> Any:
                    return await guarded_async(lambda *x, **y: dispatch(self, *x, **y))(
                        request, *a, **kw
                    )

                view.dispatch = adispatch  # type: ignore[attr-defined]
            else:

                def sdispatch(self: Any, request: HttpRequest, *a: Any, **kw: Any) -> Any:
                    return guarded_sync(lambda *x, **y: dispatch(self, *x, **y))(request, *a, **kw)

                view.dispatch = sdispatch  # type: ignore[attr-defined]
            return view
        fn = cast(Callable[..., Any], view)
        if iscoroutinefunction(fn):
            return cast(V, functools.wraps(fn)(guarded_async(fn)))
        return cast(V, functools.wraps(fn)(guarded_sync(fn)))

    def guarded_sync(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args)
            config = None
            try:
                config = get_config()
                claims = _sync_claims(request, config, optional) if authenticate else None
                if check is not None:
                    check(request, claims, config)
                return fn(*args, **kwargs)
            except MidilError as exc:
                return error_http_response(exc, config)
            except SuspiciousOperation as exc:
                refusal = request_limit_error(exc)
                if refusal is None:
                    raise
                return error_http_response(refusal, config)

        return wrapper

    def guarded_async(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args)
            config = None
            try:
                config = get_config()
                claims = await _async_claims(request, config, optional) if authenticate else None
                if acheck is not None:
                    await acheck(request, claims, config)
                elif check is not None:
                    check(request, claims, config)
                return await fn(*args, **kwargs)
            except MidilError as exc:
                return error_http_response(exc, config)
            except SuspiciousOperation as exc:
                refusal = request_limit_error(exc)
                if refusal is None:
                    raise
                return error_http_response(refusal, config)

        return wrapper

    return decorator


def _required(claims: TokenClaims | None) -> TokenClaims:
    if claims is None:
        raise MissingTokenError()
    return claims


@overload
def require_auth(view: V) -> V: ...
@overload
def require_auth(*, optional: bool = False) -> Callable[[V], V]: ...
def require_auth(view: Any = None, *, optional: bool = False) -> Any:
    """Require a valid bearer token (``@require_auth``), or accept none (``optional=True``).

    The claims are in ``request.midil_claims``.
    """

    def check(request: HttpRequest, claims: TokenClaims | None, config: MidilConfig) -> None:
        if not optional:
            _required(claims)

    decorator = _guard(check, optional=optional)
    return decorator(view) if view is not None else decorator


def require_scopes(*scopes: str, match: Match = "all") -> Callable[[V], V]:
    """Require a valid token granting ``scopes`` (``match="any"``: one of them); else 403."""
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")

    def check(request: HttpRequest, claims: TokenClaims | None, config: MidilConfig) -> None:
        check_scopes(_required(claims), scopes, match)

    return _guard(check)


def require_permission(resource: str, action: str, *, policy: Any = None) -> Callable[[V], V]:
    """Require a token whose scopes or groups grant ``resource:action`` under the policy
    (``policy=`` or ``MIDIL["PERMISSION_POLICY"]``); else 403.

    A ``RemotePermissionPolicy`` (around ``midil_sync.RemotePermissionChecker``) asks its checker
    with the request's token: inline in a sync view, from a worker thread in an async view. A deny,
    or a checker failure, is a 403. An async checker is a ``ConfigError`` when the view is
    decorated.
    """
    check_policy(policy, coroutines=False)

    def chosen_policy(config: MidilConfig) -> Any:
        chosen = policy if policy is not None else config.policy
        if chosen is None:
            raise RuntimeError("require_permission needs a PermissionPolicy")
        return chosen

    def check(request: HttpRequest, claims: TokenClaims | None, config: MidilConfig) -> None:
        chosen = chosen_policy(config)
        required = _required(claims)
        remote = remote_policy(chosen)
        if remote is not None:
            ask_remote(remote, config, request, resource, action)
            return
        check_permission(required, chosen, resource, action)

    async def acheck(request: HttpRequest, claims: TokenClaims | None, config: MidilConfig) -> None:
        chosen = chosen_policy(config)
        required = _required(claims)
        remote = remote_policy(chosen)
        if remote is not None:
            await aask_remote(remote, config, request, resource, action)
            return
        check_permission(required, chosen, resource, action)

    return _guard(check, acheck=acheck)


def jsonapi_view(
    view: Any = None, *, extensions: Collection[str] = (), profiles: Collection[str] = ()
) -> Any:
    """Declare a view JSON:API: ``Content-Type`` (on bodies) and ``Accept`` are negotiated (415,
    406), and kit errors the view raises (such as a bad query) become JSON:API error responses."""

    def check(request: HttpRequest, claims: TokenClaims | None, config: MidilConfig) -> None:
        negotiate_request(
            request.method or "GET",
            request.headers.get("Content-Type"),
            request.headers.get("Accept"),
            extensions=extensions,
            profiles=profiles,
        )

    decorator = _guard(check, authenticate=False)
    return decorator(view) if view is not None else decorator

"""View decorators: ``require_auth``, ``require_scopes`` and ``require_permission``, sync or async."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from flask import current_app

from midil_common.adapters import (
    Match,
    check_permission,
    check_scopes,
    refuse_unless,
    remote_policy,
)
from midil_common.adapters.checks import check_policy
from midil_common.adapters.logs import log_checker_failure
from midil_sync.flask.claims import authenticate, request_token, required_claims
from midil_sync.flask.state import app_state

if TYPE_CHECKING:
    from midil_common.auth.remote_policy import RemotePermissionPolicy

__all__ = ["require_auth", "require_permission", "require_scopes"]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("midil.adapters.flask")


def decorate(check: Callable[[], None]) -> Callable[[F], F]:
    """A decorator running ``check`` before the view (sync views, and async ones through
    ``current_app.ensure_sync``)."""

    def decorator(view: F) -> F:
        if not inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                check()
                return view(*args, **kwargs)

            return cast(F, wrapper)

        @functools.wraps(view)
        def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(F, async_wrapper)

    return decorator


@overload
def require_auth(view: F) -> F: ...
@overload
def require_auth(*, optional: bool = False) -> Callable[[F], F]: ...
def require_auth(view: F | None = None, *, optional: bool = False) -> F | Callable[[F], F]:
    """Require a valid bearer token (``@require_auth``), or accept none (``optional=True``).

    Works on sync and async views. The claims are in :data:`current_claims`.
    """

    def check() -> None:
        authenticate(optional)

    decorator = decorate(check)
    return decorator(view) if view is not None else decorator


def require_scopes(*scopes: str, match: Match = "all") -> Callable[[F], F]:
    """Require a valid token granting ``scopes`` (all of them, or any with ``match="any"``); 403
    with ``error="insufficient_scope"`` otherwise."""
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")

    def check() -> None:
        claims = required_claims()
        check_scopes(claims, scopes, match)

    return decorate(check)


def require_permission(resource: str, action: str, *, policy: Any = None) -> Callable[[F], F]:
    """Require a valid token whose scopes or groups grant ``resource:action`` under the policy
    (``policy=`` or the one given to :class:`MidilAuth`).

    A ``RemotePermissionPolicy`` (around ``midil_sync.RemotePermissionChecker``) asks its checker
    with the request's token; a deny, or a checker failure, is a 403. An async checker is a
    ``ConfigError`` here, when the view is decorated.
    """
    check_policy(policy, coroutines=False)
    remote = remote_policy(policy)
    if remote is not None:

        def check_remote() -> None:
            required_claims()
            ask_remote(remote, resource, action)

        return decorate(check_remote)
    if policy is not None:

        def check_local() -> None:
            check_permission(required_claims(), policy, resource, action)

        return decorate(check_local)

    def check() -> None:
        claims = required_claims()
        chosen = app_state().policy
        if chosen is None:
            raise RuntimeError(
                "require_permission needs a PermissionPolicy (MidilAuth(policy=...))"
            )
        asked = remote_policy(chosen)
        if asked is not None:
            ask_remote(asked, resource, action)
            return
        check_permission(claims, chosen, resource, action)

    return decorate(check)


def ask_remote(policy: RemotePermissionPolicy, resource: str, action: str) -> None:
    """Ask the policy's checker with the request's token; raise the 403 unless it allows.

    The token goes to the checker only. A checker that raises denies (fails closed), logged
    without the exception's text.
    """
    token = request_token()
    try:
        allowed = policy.checker.check(token, resource, action)
    except Exception as exc:
        log_checker_failure(log, exc, resource, action)
        allowed = False
    refuse_unless(allowed, policy, resource, action)

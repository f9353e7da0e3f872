"""View decorators: ``require_auth``, ``require_scopes`` and ``require_permission``, sync or async."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from flask import current_app

from midil_common.adapters import Match, check_permission, check_scopes
from midil_sync.flask.claims import authenticate, required_claims
from midil_sync.flask.state import app_state

__all__ = ["require_auth", "require_permission", "require_scopes"]

F = TypeVar("F", bound=Callable[..., Any])


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
    (``policy=`` or the one given to :class:`MidilAuth`)."""

    def check() -> None:
        claims = required_claims()
        chosen = policy if policy is not None else app_state().policy
        if chosen is None:
            raise RuntimeError(
                "require_permission needs a PermissionPolicy (MidilAuth(policy=...))"
            )
        check_permission(claims, chosen, resource, action)

    return decorate(check)

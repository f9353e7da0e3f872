"""Scope and permission requirements, checked the same way by every adapter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from midil_common.errors import PermissionDeniedError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.remote_policy import RemotePermissionPolicy

__all__ = [
    "Match",
    "check_permission",
    "check_scopes",
    "missing_scopes",
    "permission_denied",
    "refuse_unless",
    "remote_policy",
]

Match = Literal["all", "any"]


def missing_scopes(
    granted: Iterable[str], required: Iterable[str], match: Match = "all"
) -> tuple[str, ...]:
    """The required scopes the token lacks; empty when the requirement is met."""
    have = frozenset(granted)
    need = tuple(dict.fromkeys(required))
    if not need:
        return ()
    if match == "any":
        return () if have.intersection(need) else need
    if match != "all":
        raise ValueError("match must be 'all' or 'any'")
    return tuple(s for s in need if s not in have)


def check_scopes(claims: TokenClaims, scopes: Iterable[str], match: Match = "all") -> None:
    """Raise ``PermissionDeniedError`` naming the needed scopes unless ``claims`` grants them."""
    required = scopes if type(scopes) is tuple else tuple(scopes)
    granted = claims.scopes
    if match == "all" and all(s in granted for s in required):
        return
    lacking = missing_scopes(claims.scopes, required, match)
    if lacking:
        if match == "any":
            message = "the token needs one of the scopes: " + " ".join(required)
        else:
            message = "the token lacks the scopes: " + " ".join(lacking)
        raise PermissionDeniedError(
            message, required_scopes=lacking if match == "all" else required
        )


def check_permission(claims: TokenClaims, policy: Any, resource: str, action: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``policy`` grants ``resource:action`` to ``claims``.

    ``policy`` is a ``midil_common.auth.PermissionPolicy`` or anything with ``check(claims, resource,
    action) -> bool``. The error names the scopes that would grant the permission when the policy can
    tell (``scopes_for(resource, action)``, or the permission itself when scopes named
    ``resource:action`` count as permissions), so the 403 challenge carries a useful ``scope``.
    """
    if policy.check(claims, resource, action):
        return
    raise permission_denied(policy, resource, action)


def permission_denied(policy: Any, resource: str, action: str) -> PermissionDeniedError:
    """The refusal of ``resource:action`` under ``policy``: a 403 ``insufficient_scope`` naming the
    permission, and the scopes that would grant it when the policy can tell."""
    granting: tuple[str, ...] = ()
    scopes_for = getattr(policy, "scopes_for", None)
    if callable(scopes_for):
        granting = tuple(scopes_for(resource, action))
    elif getattr(policy, "scopes_as_permissions", False):
        # A scope named like the permission grants it, so it is the scope to ask for.
        granting = (f"{resource}:{action}",)
    return PermissionDeniedError(
        f"the token does not grant the permission {resource}:{action}",
        required_scopes=granting,
        permission=f"{resource}:{action}",
    )


def remote_policy(policy: Any) -> RemotePermissionPolicy | None:
    """``policy`` when its decision needs the request's token (a ``RemotePermissionPolicy``, whose
    checker the adapter asks itself), else None (a local policy: :func:`check_permission`).

    Recognised by ``needs_token = True``, so that this module does not import the auth package.
    """
    return policy if getattr(policy, "needs_token", False) is True else None


def refuse_unless(allowed: object, policy: Any, resource: str, action: str) -> None:
    """Raise :func:`permission_denied` unless a checker's answer is exactly ``True``.

    Anything else (False, None, an unawaited coroutine, a truthy non-boolean) is a deny: a remote
    check fails closed.
    """
    if allowed is True:
        return
    raise permission_denied(policy, resource, action)

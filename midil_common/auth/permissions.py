"""Permissions of the form ``resource:action``, granted by scopes and groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from midil_common.auth.claims import TokenClaims
from midil_common.errors import ConfigError, PermissionDeniedError

__all__ = ["PermissionPolicy"]


def _split(permission: str) -> tuple[str, str]:
    resource, sep, action = permission.partition(":")
    if not sep or not resource or not action:
        raise ConfigError(f"permission {permission!r} is not 'resource:action'")
    return resource, action


class PermissionPolicy:
    """Maps scopes and groups to ``resource:action`` permissions.

    ``"orders:*"`` grants every action on ``orders``; ``"*:*"`` grants everything. With
    ``scopes_as_permissions=True`` (the default) a granted scope shaped ``resource:action`` is
    itself a permission, so ``orders:read`` works without a mapping::

        policy = PermissionPolicy(groups={"admins": ["*:*"]}, scopes={"orders.rw": ["orders:*"]})
        policy.require(claims, "orders", "write")
    """

    def __init__(
        self,
        *,
        scopes: Mapping[str, Iterable[str]] | None = None,
        groups: Mapping[str, Iterable[str]] | None = None,
        scopes_as_permissions: bool = True,
    ) -> None:
        self._scopes = {k: frozenset(v) for k, v in (scopes or {}).items()}
        self._groups = {k: frozenset(v) for k, v in (groups or {}).items()}
        for granted in (*self._scopes.values(), *self._groups.values()):
            for permission in granted:
                _split(permission)
        self.scopes_as_permissions = scopes_as_permissions

    def permissions(self, claims: TokenClaims) -> frozenset[str]:
        """Every permission the claims grant."""
        granted: set[str] = set()
        for scope in claims.scopes:
            granted |= self._scopes.get(scope, frozenset())
            if self.scopes_as_permissions and ":" in scope:
                granted.add(scope)
        for group in claims.groups:
            granted |= self._groups.get(group, frozenset())
        return frozenset(granted)

    def check(self, claims: TokenClaims, resource: str, action: str) -> bool:
        """True when the claims grant ``resource:action`` (directly or by a wildcard)."""
        granted = self.permissions(claims)
        return bool({f"{resource}:{action}", f"{resource}:*", f"*:{action}", "*:*"} & granted)

    def scopes_for(self, resource: str, action: str) -> tuple[str, ...]:
        """The scopes that would grant ``resource:action``, for the ``scope`` of a 403 challenge.

        The mapped scopes first (sorted), then the permission itself when scopes shaped
        ``resource:action`` count as permissions. Groups are not scopes and are not listed.
        """
        wanted = {f"{resource}:{action}", f"{resource}:*", f"*:{action}", "*:*"}
        mapped = sorted(scope for scope, granted in self._scopes.items() if granted & wanted)
        if self.scopes_as_permissions:
            mapped.append(f"{resource}:{action}")
        return tuple(dict.fromkeys(mapped))

    def require(self, claims: TokenClaims, resource: str, action: str) -> None:
        """Raise ``PermissionDeniedError`` unless the claims grant ``resource:action``."""
        if not self.check(claims, resource, action):
            raise PermissionDeniedError(
                f"permission {resource}:{action} is required",
                required_scopes=self.scopes_for(resource, action),
                permission=f"{resource}:{action}",
            )

"""A lightweight authenticated user built from token claims: no database, no session.

To map claims to your own user model instead, point ``MIDIL["USER_FACTORY"]`` at a callable taking
the ``TokenClaims`` and returning a user, for example::

    def user_from_claims(claims):
        user, _ = get_user_model().objects.get_or_create(username=claims.sub)
        return user

    MIDIL = {"USER_FACTORY": "myproject.auth.user_from_claims", ...}

The factory runs once per authenticated request (in a worker thread under ASGI only if you make it
do I/O and wrap it yourself; the default factory does none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims

__all__ = ["ClaimsUser"]


class ClaimsUser:
    """A Django-compatible user whose identity is the token's subject.

    ``is_authenticated`` is True, ``pk``/``id``/``username`` come from ``sub`` (or ``username``),
    ``groups_set`` and ``scopes`` come from the claims, and ``has_perm`` answers for
    ``"scope:<name>"`` and ``"group:<name>"`` strings. ``claims`` holds the whole verified claims.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, claims: TokenClaims) -> None:
        self.claims = claims
        self.username: str = claims.username or claims.sub or claims.client_id or ""
        self.pk: str = claims.sub or self.username
        self.id = self.pk

    @property
    def scopes(self) -> frozenset[str]:
        """The token's scopes."""
        return frozenset(self.claims.scopes)

    @property
    def groups_set(self) -> frozenset[str]:
        """The token's groups (Cognito ``cognito:groups``)."""
        return frozenset(self.claims.groups)

    def get_username(self) -> str:
        """The username, as Django's ``AbstractBaseUser`` offers it."""
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """True for ``scope:<name>`` / ``group:<name>`` the token grants."""
        kind, _, name = perm.partition(":")
        if kind == "scope":
            return name in self.claims.scopes
        if kind == "group":
            return name in self.claims.groups
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        """True when every permission of ``perms`` is granted."""
        return all(self.has_perm(p, obj) for p in perms)

    def has_module_perms(self, app_label: str) -> bool:
        """Claims users have no model permissions."""
        return False

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"ClaimsUser({self.username!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimsUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

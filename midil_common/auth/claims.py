"""The verified claims of a token, as both shells return them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from midil_common.errors import InvalidClaimError

__all__ = ["TokenClaims"]

_EMPTY: frozenset[str] = frozenset()
_STR_CLAIMS = ("sub", "iss", "client_id", "token_use", "username", "cognito:username")
_setattr = object.__setattr__


def _opt_time(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    # bool is an int subclass; a JSON true is not a time.
    if value is None or type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return value
    raise InvalidClaimError(f"claim {name!r} must be a finite number", claim=name)


def _str_list(value: Any, name: str) -> tuple[str, ...]:
    if type(value) is str:
        return (value,)
    if type(value) is list and all(type(v) is str for v in value):
        return tuple(value)
    raise InvalidClaimError(f"claim {name!r} must be a string or a list of strings", claim=name)


class TokenClaims(BaseModel):
    """The claims of a verified token.

    ``scopes`` come from ``scope`` (space separated) or ``scp`` (a list or a string); ``groups``
    from ``cognito:groups`` or ``groups``; ``username`` from ``username`` or ``cognito:username``.
    ``raw`` holds every claim as received.
    """

    model_config = ConfigDict(frozen=True)

    sub: str | None = None
    iss: str | None = None
    aud: tuple[str, ...] = ()
    exp: float | None = None
    iat: float | None = None
    nbf: float | None = None
    scopes: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    client_id: str | None = None
    token_use: str | None = None
    username: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], *, owned: bool = False) -> TokenClaims:
        """Build claims from a decoded payload, refusing claims of the wrong JSON type.

        ``owned=True`` says the caller hands the dict over (it becomes ``raw`` uncopied).
        Raises ``InvalidClaimError`` naming the claim.
        """
        get = payload.get
        scope = get("scope")
        if type(scope) is str:
            scopes = frozenset(scope.split())
        elif scope is not None:
            raise InvalidClaimError("claim 'scope' must be a string", claim="scope")
        elif "scp" in payload:
            scp = payload["scp"]
            scopes = frozenset(scp.split() if type(scp) is str else _str_list(scp, "scp"))
        else:
            scopes = _EMPTY
        if "cognito:groups" in payload:
            groups = frozenset(_str_list(payload["cognito:groups"], "cognito:groups"))
        elif "groups" in payload:
            groups = frozenset(_str_list(payload["groups"], "groups"))
        else:
            groups = _EMPTY
        aud = get("aud")
        if type(aud) is str:
            audience: tuple[str, ...] = (aud,)
        else:
            audience = () if aud is None else _str_list(aud, "aud")
        for name in _STR_CLAIMS:
            value = get(name)
            if value is not None and type(value) is not str:
                raise InvalidClaimError(f"claim {name!r} must be a string", claim=name)
        username = get("username")
        if username is None:
            username = get("cognito:username")
        # Every field is checked here, so validation would only cost time on the hot path.
        return cls._trusted(
            {
                "sub": get("sub"),
                "iss": get("iss"),
                "aud": audience,
                "exp": _opt_time(payload, "exp"),
                "iat": _opt_time(payload, "iat"),
                "nbf": _opt_time(payload, "nbf"),
                "scopes": scopes,
                "groups": groups,
                "client_id": get("client_id"),
                "token_use": get("token_use"),
                "username": username,
                "raw": payload if owned and type(payload) is dict else dict(payload),
            }
        )

    @classmethod
    def _trusted(cls, fields: dict[str, Any]) -> TokenClaims:
        """An instance from checked values of every field, as ``model_construct`` builds it,
        without its per-field overhead (this is on the hot path of every verification)."""
        claims = cls.__new__(cls)
        _setattr(claims, "__dict__", fields)
        _setattr(claims, "__pydantic_fields_set__", _ALL_FIELDS)
        _setattr(claims, "__pydantic_extra__", None)
        _setattr(claims, "__pydantic_private__", None)
        return claims

    def has_scopes(self, *scopes: str) -> bool:
        """True when every one of ``scopes`` was granted."""
        return all(s in self.scopes for s in scopes)

    def has_any_scope(self, *scopes: str) -> bool:
        """True when at least one of ``scopes`` was granted."""
        return any(s in self.scopes for s in scopes)

    def in_group(self, group: str) -> bool:
        """True when the subject belongs to ``group``."""
        return group in self.groups

    def get(self, name: str, default: Any = None) -> Any:
        """Any claim from ``raw``."""
        return self.raw.get(name, default)


_ALL_FIELDS = set(TokenClaims.model_fields)

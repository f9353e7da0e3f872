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
        raw = payload if owned and type(payload) is dict else dict(payload)
        return cls._from_checked(
            raw,
            raw.get("iss"),
            raw.get("aud"),
            _opt_time(raw, "exp"),
            _opt_time(raw, "iat"),
            _opt_time(raw, "nbf"),
        )

    @classmethod
    def _from_checked(
        cls,
        raw: dict[str, Any],
        iss: Any,
        aud: Any,
        exp: float | None,
        iat: float | None,
        nbf: float | None,
    ) -> TokenClaims:
        """:meth:`from_payload` for a caller that already checked the three time claims and
        read ``iss`` and ``aud`` from ``raw`` (their types are checked here).

        Written flat because it runs on every verification, right after the signature check,
        where each Python step costs more than it does alone.
        """
        get = raw.get
        sub = get("sub")
        client_id = get("client_id")
        token_use = get("token_use")
        username = get("username")
        cognito_username = get("cognito:username")
        if (
            (sub is not None and type(sub) is not str)
            or (iss is not None and type(iss) is not str)
            or (client_id is not None and type(client_id) is not str)
            or (token_use is not None and type(token_use) is not str)
            or (username is not None and type(username) is not str)
            or (cognito_username is not None and type(cognito_username) is not str)
        ):
            name = next(n for n in _STR_CLAIMS if get(n) is not None and type(get(n)) is not str)
            raise InvalidClaimError(f"claim {name!r} must be a string", claim=name)
        scope = get("scope")
        if type(scope) is str:
            scopes = frozenset(scope.split())
        elif scope is not None:
            raise InvalidClaimError("claim 'scope' must be a string", claim="scope")
        elif "scp" in raw:
            scp = raw["scp"]
            scopes = frozenset(scp.split() if type(scp) is str else _str_list(scp, "scp"))
        else:
            scopes = _EMPTY
        if "cognito:groups" in raw:
            groups = frozenset(_str_list(raw["cognito:groups"], "cognito:groups"))
        elif "groups" in raw:
            groups = frozenset(_str_list(raw["groups"], "groups"))
        else:
            groups = _EMPTY
        if type(aud) is str:
            audience: tuple[str, ...] = (aud,)
        else:
            audience = () if aud is None else _str_list(aud, "aud")
        # Every field is checked here, so validation would only cost time on the hot path.
        claims = _new(cls)
        _set_dict(
            claims,
            {
                "sub": sub,
                "iss": iss,
                "aud": audience,
                "exp": exp,
                "iat": iat,
                "nbf": nbf,
                "scopes": scopes,
                "groups": groups,
                "client_id": client_id,
                "token_use": token_use,
                "username": cognito_username if username is None else username,
                "raw": raw,
            },
        )
        _set_fields_set(claims, _ALL_FIELDS)
        _set_extra(claims, None)
        _set_private(claims, None)
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
# BaseModel's slot descriptors, called directly: cheaper than object.__setattr__ by name.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__

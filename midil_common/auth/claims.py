"""The verified claims of a token, as both shells return them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from midil_common.errors import InvalidClaimError

__all__ = ["TokenClaims"]


def _opt_str(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None or type(value) is str:
        return value
    raise InvalidClaimError(f"claim {name!r} must be a string", claim=name)


def _opt_time(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    # bool is an int subclass; a JSON true is not a time.
    if type(value) is int or type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidClaimError(f"claim {name!r} must be a finite number", claim=name)
        return value
    raise InvalidClaimError(f"claim {name!r} must be a number", claim=name)


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
    def from_payload(cls, payload: Mapping[str, Any]) -> TokenClaims:
        """Build claims from a decoded payload, refusing claims of the wrong JSON type.

        Raises ``InvalidClaimError`` naming the claim.
        """
        scope = payload.get("scope")
        if scope is not None:
            if type(scope) is not str:
                raise InvalidClaimError("claim 'scope' must be a string", claim="scope")
            scopes = frozenset(scope.split())
        elif "scp" in payload:
            scp = payload["scp"]
            scopes = frozenset(scp.split() if type(scp) is str else _str_list(scp, "scp"))
        else:
            scopes = frozenset()
        if "cognito:groups" in payload:
            groups = frozenset(_str_list(payload["cognito:groups"], "cognito:groups"))
        elif "groups" in payload:
            groups = frozenset(_str_list(payload["groups"], "groups"))
        else:
            groups = frozenset()
        aud = payload.get("aud")
        username = _opt_str(payload, "username")
        if username is None:
            username = _opt_str(payload, "cognito:username")
        # Every field is checked above, so validation would only cost time on the hot path.
        return cls.model_construct(
            sub=_opt_str(payload, "sub"),
            iss=_opt_str(payload, "iss"),
            aud=() if aud is None else _str_list(aud, "aud"),
            exp=_opt_time(payload, "exp"),
            iat=_opt_time(payload, "iat"),
            nbf=_opt_time(payload, "nbf"),
            scopes=scopes,
            groups=groups,
            client_id=_opt_str(payload, "client_id"),
            token_use=_opt_str(payload, "token_use"),
            username=username,
            raw=dict(payload),
        )

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

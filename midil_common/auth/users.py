"""The value types of user sessions, shared by both shells: :class:`User`, :class:`SessionTokens`,
:class:`HealthStatus`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_REFRESH_SKEW",
    "CodeDelivery",
    "HealthStatus",
    "Registration",
    "SessionTokens",
    "User",
    "attribute_list",
    "attribute_map",
    "needs_refresh",
    "session_expiry",
]

DEFAULT_REFRESH_SKEW = 60.0
"""A session's access token is refreshed this many seconds before it expires."""


class User(BaseModel):
    """A user of an identity provider, as its ``GetUser`` (Cognito) or userinfo answer describes.

    ``id`` is the stable subject (``sub``); ``username`` the provider's user name (for Cognito
    pools that sign in by e-mail, a UUID); ``attributes`` every attribute as the provider names it
    (``email``, ``given_name``, ``custom:plan``, ...).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    username: str | None = None
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    phone_number: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_attributes(
        cls,
        attributes: Mapping[str, str],
        *,
        username: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> User:
        """A user from a flat attribute map (``sub``, ``email``, ``email_verified``, ...); an
        ``updated_at`` that is not a Unix time a datetime can hold is left out."""
        attrs = {str(k): str(v) for k, v in attributes.items()}
        updated = updated_at
        if updated is None:
            updated = _timestamp(attrs.get("updated_at", ""))
        return cls(
            id=attrs.get("sub") or username or "",
            username=username,
            email=attrs.get("email"),
            email_verified=attrs.get("email_verified", "").lower() == "true",
            name=attrs.get("name"),
            given_name=attrs.get("given_name"),
            family_name=attrs.get("family_name"),
            phone_number=attrs.get("phone_number"),
            attributes=attrs,
            created_at=created_at,
            updated_at=updated,
        )

    @property
    def display_name(self) -> str | None:
        """``name``, else given and family names joined, else the e-mail address."""
        if self.name:
            return self.name
        joined = " ".join(n for n in (self.given_name, self.family_name) if n)
        return joined or self.email


_MAX_TIMESTAMP_DIGITS = 12
"""Seconds up to the year 9999 (253402300799); a longer number is no time at all."""


def _timestamp(text: str) -> datetime | None:
    """The Unix time ``text`` (ASCII digits) as a UTC datetime, or None: the provider's answer
    decides the text, and a huge number must not raise ``OverflowError`` (no ``time_t`` holds
    it) or ``ValueError`` (Python refuses to convert over 4300 digits) out of a profile read."""
    if not (0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        return None
    try:
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


class CodeDelivery(BaseModel):
    """Where a confirmation or reset code went: ``destination`` is masked by the provider
    (``a***@e***``), ``medium`` is ``EMAIL`` or ``SMS``."""

    model_config = ConfigDict(frozen=True)

    destination: str | None = None
    medium: str | None = None
    attribute: str | None = None


class Registration(BaseModel):
    """The outcome of a sign-up: the new user's id, whether it is confirmed already (a pool
    trigger may confirm it), and where the confirmation code went."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    confirmed: bool = False
    delivery: CodeDelivery | None = None


class SessionTokens(BaseModel):
    """One user's tokens: what a web app stores to rebuild a session later.

    The token strings are left out of ``repr``, so a logged object never shows them.
    """

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(repr=False)
    id_token: str | None = Field(default=None, repr=False)
    refresh_token: str | None = Field(default=None, repr=False)
    expires_at: float | None = None
    """Unix time at which the access token expires (None: unknown)."""
    token_type: str = "Bearer"
    username: str | None = None
    """The provider's user name (Cognito's ``SECRET_HASH`` for refreshes is computed over it)."""

    def refreshed(self, newer: SessionTokens) -> SessionTokens:
        """These tokens after a refresh answered ``newer``: a refresh answer without a refresh
        token (Cognito's) keeps the current one, and without an id token keeps that."""
        return newer.model_copy(
            update={
                "refresh_token": newer.refresh_token or self.refresh_token,
                "id_token": newer.id_token or self.id_token,
                "username": newer.username or self.username,
            }
        )

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds left before the access token expires (negative once expired), or None."""
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)


def session_expiry(expires_at: float | None, exp: float | None) -> float | None:
    """When a session's access token expires: the earlier of ``expires_at`` (from the provider's
    ``ExpiresIn``) and the verified token's ``exp`` claim, whichever are known. A provider's answer
    can say the token lives longer than it does; the token's own ``exp`` has the last word."""
    known = [t for t in (expires_at, exp) if t is not None]
    return min(known) if known else None


def needs_refresh(
    tokens: SessionTokens | None, now: float, skew: float = DEFAULT_REFRESH_SKEW
) -> bool:
    """Whether the access token must be refreshed before use: it expires within ``skew`` seconds
    of ``now`` (a token of unknown lifetime is used as it is)."""
    if tokens is None:
        return False
    return tokens.expires_at is not None and tokens.expires_at - now < skew


class HealthStatus(BaseModel):
    """What a readiness probe needs to know about an identity provider; never raised, returned."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    status: Literal["ok", "unavailable", "misconfigured"]
    detail: str = ""
    latency: float = 0.0
    """Seconds the probe took."""

    @classmethod
    def of(
        cls, status: Literal["ok", "unavailable", "misconfigured"], detail: str, latency: float
    ) -> HealthStatus:
        """A status; ``ok`` follows from it."""
        return cls(ok=status == "ok", status=status, detail=detail, latency=latency)


def attribute_list(attributes: Mapping[str, Any]) -> list[dict[str, str]]:
    """``{"given_name": "Ada"}`` as Cognito's ``[{"Name": "given_name", "Value": "Ada"}]``
    (booleans as ``true``/``false``)."""
    out = []
    for name, value in attributes.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out.append({"Name": str(name), "Value": text})
    return out


def attribute_map(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Cognito's ``[{"Name": ..., "Value": ...}]`` as a dict."""
    return {str(i.get("Name")): str(i.get("Value", "")) for i in items if i.get("Name")}

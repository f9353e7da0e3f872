"""The token a client obtained from a token endpoint."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AccessToken"]


class AccessToken(BaseModel):
    """An OAuth 2.0 token response, with ``expires_in`` turned into an absolute ``expires_at``.

    The token strings are excluded from ``repr`` so a logged object never leaks them.
    """

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    """Unix time at which the token expires, or None when the server did not say."""
    scope: str | None = None
    refresh_token: str | None = Field(default=None, repr=False)
    id_token: str | None = Field(default=None, repr=False)

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds left before expiry (negative once expired), or None when unknown."""
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, now: float | None = None, leeway: float = 0.0) -> bool:
        """True when the token expires within ``leeway`` seconds of ``now``."""
        left = self.expires_in(now)
        return left is not None and left <= leeway

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes, split on spaces."""
        return frozenset((self.scope or "").split())

    def authorization_header(self) -> str:
        """The value of the ``Authorization`` header for this token."""
        kind = "Bearer" if self.token_type.lower() == "bearer" else self.token_type
        return f"{kind} {self.access_token}"

"""The pluggable interfaces: anything that satisfies them works with the adapters and ``HttpClient``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims

__all__ = ["AsyncAuthProvider", "AsyncAuthorizer", "AuthProvider", "Authorizer"]


@runtime_checkable
class Authorizer(Protocol):
    """Verifies an inbound bearer token (sync)."""

    def verify(self, token: str) -> TokenClaims:
        """Return the verified claims or raise an ``InvalidTokenError`` subclass."""


@runtime_checkable
class AsyncAuthorizer(Protocol):
    """Verifies an inbound bearer token (async)."""

    async def verify(self, token: str) -> TokenClaims:
        """Return the verified claims or raise an ``InvalidTokenError`` subclass."""


@runtime_checkable
class AuthProvider(Protocol):
    """Supplies credentials for outbound requests (sync)."""

    def get_headers(self) -> dict[str, str]:
        """Headers to add to a request, such as ``Authorization``."""

    def invalidate(self) -> None:
        """Forget cached credentials, so the next call fetches fresh ones (after a 401)."""


@runtime_checkable
class AsyncAuthProvider(Protocol):
    """Supplies credentials for outbound requests (async)."""

    async def get_headers(self) -> dict[str, str]:
        """Headers to add to a request, such as ``Authorization``."""

    async def invalidate(self) -> None:
        """Forget cached credentials, so the next call fetches fresh ones (after a 401)."""

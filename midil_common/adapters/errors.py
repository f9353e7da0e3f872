"""The one failure the adapters add to the tree: a protected resource was asked for without a token."""

from __future__ import annotations

from midil_common.errors import AuthError

__all__ = ["MissingTokenError"]


class MissingTokenError(AuthError):
    """The request carried no bearer token where one is required (401 without an ``error``)."""

    def __init__(self, message: str = "authentication is required") -> None:
        super().__init__(message)

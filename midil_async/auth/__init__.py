"""Inbound token verification for asyncio (the httpx shell)."""

from midil_async.auth.authorizers import CognitoJWTAuthorizer, JWTAuthorizer, MultiIssuerAuthorizer

__all__ = ["CognitoJWTAuthorizer", "JWTAuthorizer", "MultiIssuerAuthorizer"]

"""Inbound token verification for threads (the requests shell)."""

from midil_sync.auth.authorizers import CognitoJWTAuthorizer, JWTAuthorizer, MultiIssuerAuthorizer

__all__ = ["CognitoJWTAuthorizer", "JWTAuthorizer", "MultiIssuerAuthorizer"]

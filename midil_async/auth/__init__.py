"""Inbound token verification for asyncio (the httpx shell)."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_async.auth.authorizers import (
        CognitoJWTAuthorizer,
        JWTAuthorizer,
        MultiIssuerAuthorizer,
    )
    from midil_async.auth.oauth_client import OAuthClient
    from midil_async.auth.remote_permissions import RemotePermissionChecker
    from midil_async.auth.users import CognitoUserClient, UserSession

__all__: list[str] = [
    "CognitoJWTAuthorizer",
    "CognitoUserClient",
    "JWTAuthorizer",
    "MultiIssuerAuthorizer",
    "OAuthClient",
    "RemotePermissionChecker",
    "UserSession",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "CognitoJWTAuthorizer": "midil_async.auth.authorizers",
        "CognitoUserClient": "midil_async.auth.users",
        "JWTAuthorizer": "midil_async.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_async.auth.authorizers",
        "OAuthClient": "midil_async.auth.oauth_client",
        "RemotePermissionChecker": "midil_async.auth.remote_permissions",
        "UserSession": "midil_async.auth.users",
    },
)

"""Inbound token verification for threads (the requests shell)."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_sync.auth.authorizers import (
        CognitoJWTAuthorizer,
        JWTAuthorizer,
        MultiIssuerAuthorizer,
    )
    from midil_sync.auth.oauth_client import OAuthClient
    from midil_sync.auth.remote_permissions import RemotePermissionChecker
    from midil_sync.auth.users import CognitoUserClient, UserSession

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
        "CognitoJWTAuthorizer": "midil_sync.auth.authorizers",
        "CognitoUserClient": "midil_sync.auth.users",
        "JWTAuthorizer": "midil_sync.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_sync.auth.authorizers",
        "OAuthClient": "midil_sync.auth.oauth_client",
        "RemotePermissionChecker": "midil_sync.auth.remote_permissions",
        "UserSession": "midil_sync.auth.users",
    },
)

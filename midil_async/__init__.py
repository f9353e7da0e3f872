"""midil-kit's asynchronous shell (httpx, aiobotocore, asyncio).

Every public name here has a twin of the same name and parameters in :mod:`midil_sync`.
"""

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
    from midil_async.events.dispatcher import DrainResult, EventDispatcher
    from midil_async.events.periodic import PeriodicTask
    from midil_async.http.client import HttpClient
    from midil_async.http.providers import (
        APIKeyProvider,
        ClientCredentialsProvider,
        CognitoClientCredentialsAuthenticator,
        StaticTokenProvider,
    )

__all__: list[str] = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "CognitoJWTAuthorizer",
    "CognitoUserClient",
    "DrainResult",
    "EventDispatcher",
    "HttpClient",
    "JWTAuthorizer",
    "MultiIssuerAuthorizer",
    "OAuthClient",
    "PeriodicTask",
    "RemotePermissionChecker",
    "StaticTokenProvider",
    "UserSession",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "APIKeyProvider": "midil_async.http.providers",
        "ClientCredentialsProvider": "midil_async.http.providers",
        "CognitoClientCredentialsAuthenticator": "midil_async.http.providers",
        "CognitoJWTAuthorizer": "midil_async.auth.authorizers",
        "CognitoUserClient": "midil_async.auth.users",
        "DrainResult": "midil_async.events.dispatcher",
        "EventDispatcher": "midil_async.events.dispatcher",
        "HttpClient": "midil_async.http.client",
        "JWTAuthorizer": "midil_async.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_async.auth.authorizers",
        "OAuthClient": "midil_async.auth.oauth_client",
        "PeriodicTask": "midil_async.events.periodic",
        "RemotePermissionChecker": "midil_async.auth.remote_permissions",
        "StaticTokenProvider": "midil_async.http.providers",
        "UserSession": "midil_async.auth.users",
    },
)

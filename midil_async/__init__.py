"""midil-kit's asynchronous shell (httpx, aiobotocore, asyncio).

Every public name here has a twin of the same name and parameters in :mod:`midil_sync`.
"""

from midil_async.auth import CognitoJWTAuthorizer, JWTAuthorizer, MultiIssuerAuthorizer
from midil_async.http import (
    APIKeyProvider,
    ClientCredentialsProvider,
    CognitoClientCredentialsAuthenticator,
    HttpClient,
    StaticTokenProvider,
)

__all__: list[str] = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "CognitoJWTAuthorizer",
    "HttpClient",
    "JWTAuthorizer",
    "MultiIssuerAuthorizer",
    "StaticTokenProvider",
]

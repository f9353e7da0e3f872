"""midil-kit's synchronous shell (requests, urllib3, boto3, threads).

Every public name here has a twin of the same name and parameters in :mod:`midil_async`.
"""

from midil_sync.auth import CognitoJWTAuthorizer, JWTAuthorizer, MultiIssuerAuthorizer
from midil_sync.http import (
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

"""Outbound HTTP for the async shell: ``HttpClient`` and the auth providers that authenticate it."""

from midil_async.http.client import HttpClient, StreamingResponse
from midil_async.http.providers import (
    APIKeyProvider,
    ClientCredentialsProvider,
    CognitoClientCredentialsAuthenticator,
    StaticTokenProvider,
)

__all__ = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "HttpClient",
    "StaticTokenProvider",
    "StreamingResponse",
]

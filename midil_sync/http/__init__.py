"""Outbound HTTP for the sync shell: ``HttpClient`` and the auth providers that authenticate it."""

from midil_sync.http.client import HttpClient, StreamingResponse
from midil_sync.http.providers import (
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

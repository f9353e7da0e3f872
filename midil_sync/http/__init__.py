"""Outbound HTTP for the sync shell: ``HttpClient`` and the auth providers that authenticate it."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_sync.http.client import HttpClient, StreamingResponse
    from midil_sync.http.providers import (
        APIKeyProvider,
        ClientCredentialsProvider,
        CognitoClientCredentialsAuthenticator,
        StaticTokenProvider,
    )

__all__: list[str] = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "HttpClient",
    "StaticTokenProvider",
    "StreamingResponse",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "APIKeyProvider": "midil_sync.http.providers",
        "ClientCredentialsProvider": "midil_sync.http.providers",
        "CognitoClientCredentialsAuthenticator": "midil_sync.http.providers",
        "HttpClient": "midil_sync.http.client",
        "StaticTokenProvider": "midil_sync.http.providers",
        "StreamingResponse": "midil_sync.http.client",
    },
)

"""Outbound HTTP for the async shell: ``HttpClient`` and the auth providers that authenticate it."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_async.http.client import HttpClient, StreamingResponse
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
    "HttpClient",
    "StaticTokenProvider",
    "StreamingResponse",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "APIKeyProvider": "midil_async.http.providers",
        "ClientCredentialsProvider": "midil_async.http.providers",
        "CognitoClientCredentialsAuthenticator": "midil_async.http.providers",
        "HttpClient": "midil_async.http.client",
        "StaticTokenProvider": "midil_async.http.providers",
        "StreamingResponse": "midil_async.http.client",
    },
)

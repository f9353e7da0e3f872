"""Inbound token verification for asyncio (the httpx shell)."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_async.auth.authorizers import (
        CognitoJWTAuthorizer,
        JWTAuthorizer,
        MultiIssuerAuthorizer,
    )

__all__: list[str] = [
    "CognitoJWTAuthorizer",
    "JWTAuthorizer",
    "MultiIssuerAuthorizer",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "CognitoJWTAuthorizer": "midil_async.auth.authorizers",
        "JWTAuthorizer": "midil_async.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_async.auth.authorizers",
    },
)

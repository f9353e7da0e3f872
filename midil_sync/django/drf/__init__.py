"""Django REST framework integration (being split into modules with one job each)."""

from midil_sync.django.drf.permissions import (
    HasPermission,
    HasScopes,
    JSONAPIContentNegotiation,
    JSONAPIParser,
    JSONAPIRenderer,
    JWTAuthentication,
    MidilAPIException,
    jsonapi_exception_handler,
)

__all__ = [
    "HasPermission",
    "HasScopes",
    "JSONAPIContentNegotiation",
    "JSONAPIParser",
    "JSONAPIRenderer",
    "JWTAuthentication",
    "MidilAPIException",
    "jsonapi_exception_handler",
]

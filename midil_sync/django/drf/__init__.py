"""Django REST framework integration: authentication, permissions and a JSON:API exception handler.

::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["midil_sync.django.drf.JWTAuthentication"],
        "EXCEPTION_HANDLER": "midil_sync.django.drf.jsonapi_exception_handler",
    }

    class ArticleViewSet(viewsets.ViewSet):
        permission_classes = [HasScopes]
        required_scopes = ["articles:read"]

The modules, one job each: :mod:`.authentication` (``JWTAuthentication``), :mod:`.permissions`
(``HasScopes``, ``HasPermission``), :mod:`.content` (``JSONAPIRenderer``, ``JSONAPIParser``,
``JSONAPIContentNegotiation``) and :mod:`.exceptions` (``MidilAPIException``,
``jsonapi_exception_handler``).

Each name is imported from its module on first use: DRF's renderers and parsers read
``settings.REST_FRAMEWORK`` when they are imported, and importing ``HasScopes`` should not need that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from midil_sync.django.drf import _requires  # noqa: F401  (first: names a missing extra)

if TYPE_CHECKING:
    from midil_sync.django.drf.authentication import JWTAuthentication
    from midil_sync.django.drf.content import (
        JSONAPIContentNegotiation,
        JSONAPIParser,
        JSONAPIRenderer,
    )
    from midil_sync.django.drf.exceptions import MidilAPIException, jsonapi_exception_handler
    from midil_sync.django.drf.permissions import HasPermission, HasScopes

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

_MODULE_OF = {
    "HasPermission": "permissions",
    "HasScopes": "permissions",
    "JSONAPIContentNegotiation": "content",
    "JSONAPIParser": "content",
    "JSONAPIRenderer": "content",
    "JWTAuthentication": "authentication",
    "MidilAPIException": "exceptions",
    "jsonapi_exception_handler": "exceptions",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module (``midil_sync.django.drf.X`` in settings works too)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The public names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})

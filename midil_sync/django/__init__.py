"""Django adapter: middleware, decorators and JSON:API helpers (DRF classes in ``.drf``).

Enable with ``"midil_sync.django.AuthMiddleware"`` in ``MIDDLEWARE`` and a ``MIDIL`` settings dict;
see :mod:`midil_sync.django.middleware` for the keys. ``"midil_sync.django.ContextMiddleware"``,
listed first, runs every request in an event context from its ``traceparent`` and
``X-Correlation-ID`` headers and answers with ``X-Correlation-ID`` (``AuthMiddleware`` does the same
from where it stands when it is absent); see :mod:`midil_sync.django.context`. DRF users add
``midil_sync.django.drf.JWTAuthentication``, ``HasScopes`` / ``HasPermission`` and
``midil_sync.django.drf.jsonapi_exception_handler``.
"""

from midil_sync.django import _requires  # noqa: F401  (first: names a missing extra)
from midil_sync.django.conf import get_config, reset_config
from midil_sync.django.context import ContextMiddleware
from midil_sync.django.decorators import (
    jsonapi_view,
    require_auth,
    require_permission,
    require_scopes,
)
from midil_sync.django.jsonapi import jsonapi_query, jsonapi_response
from midil_sync.django.middleware import AuthMiddleware
from midil_sync.django.users import ClaimsUser

__all__ = [
    "AuthMiddleware",
    "ClaimsUser",
    "ContextMiddleware",
    "get_config",
    "jsonapi_query",
    "jsonapi_response",
    "jsonapi_view",
    "require_auth",
    "require_permission",
    "require_scopes",
    "reset_config",
]

"""DRF authentication with the ``MIDIL`` authorizer: ``request.user`` and ``request.auth``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication

from midil_common.adapters import bearer_challenge
from midil_common.errors import MidilError
from midil_sync.django._http import attach, request_token, verify
from midil_sync.django.conf import get_config
from midil_sync.django.drf.exceptions import wrap

if TYPE_CHECKING:
    from rest_framework.request import Request

    from midil_common.auth.claims import TokenClaims

__all__ = ["JWTAuthentication"]


class JWTAuthentication(BaseAuthentication):
    """DRF authentication with the ``MIDIL`` authorizer: returns ``(user, claims)``.

    ``request.user`` is the claims user (``MIDIL["USER_FACTORY"]``), ``request.auth`` the
    ``TokenClaims``. No token: None (DRF answers 401 through :meth:`authenticate_header` when a
    permission needs a user). An invalid token: 401 with ``error="invalid_token"``.
    """

    def authenticate(self, request: Request) -> tuple[Any, TokenClaims] | None:
        """Verify the bearer token, reusing the middleware's result when it ran."""
        django_request: HttpRequest = request._request
        config = get_config()
        claims = getattr(django_request, "midil_claims", None)
        if claims is None:
            try:
                token = request_token(config, django_request, optional=True)
                if token is None:
                    return None
                claims = verify(config.authorizer, token)
            except MidilError as exc:
                raise wrap(exc) from exc
            attach(config, django_request, claims)
        return config.user_factory(claims), claims

    def authenticate_header(self, request: Request) -> str:
        """The ``WWW-Authenticate`` challenge DRF sends with 401."""
        return bearer_challenge(realm=get_config().options.realm)

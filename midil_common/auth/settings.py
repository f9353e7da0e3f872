"""Authorizer arguments from the ``auth`` settings section (``MIDIL_AUTH__...``)."""

from __future__ import annotations

from typing import Any

from midil_common.errors import ConfigError
from midil_common.settings import AuthSettings, load_settings

__all__ = ["cognito_kwargs", "jwt_kwargs"]


def _section(settings: AuthSettings | None) -> AuthSettings:
    return load_settings().auth if settings is None else settings


def jwt_kwargs(settings: AuthSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``JWTAuthorizer`` from the settings; ``ConfigError`` without issuer."""
    auth = _section(settings)
    if not auth.issuer:
        raise ConfigError("MIDIL_AUTH__ISSUER is required", variable="MIDIL_AUTH__ISSUER")
    return {
        "issuer": auth.issuer,
        "audience": auth.audience or None,
        "jwks_url": auth.jwks_url,
        "algorithms": auth.algorithms,
        "leeway": auth.leeway,
        "token_cache_size": auth.token_cache_size,
        "accept_any_audience": auth.accept_any_audience,
    }


def cognito_kwargs(settings: AuthSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``CognitoJWTAuthorizer`` from the settings."""
    auth = _section(settings)
    if not auth.cognito_user_pool_id:
        raise ConfigError(
            "MIDIL_AUTH__COGNITO_USER_POOL_ID is required",
            variable="MIDIL_AUTH__COGNITO_USER_POOL_ID",
        )
    if auth.token_use == "id" and not auth.client_ids:
        raise ConfigError(
            "MIDIL_AUTH__CLIENT_IDS is required for id tokens (MIDIL_AUTH__TOKEN_USE=id): "
            "an id token's 'aud' is the app client id, which must be checked",
            variable="MIDIL_AUTH__CLIENT_IDS",
        )
    return {
        "user_pool_id": auth.cognito_user_pool_id,
        "region": auth.region,
        "client_ids": auth.client_ids or None,
        "token_use": auth.token_use,
        "groups": auth.required_groups or None,
        "jwks_url": auth.jwks_url,
        "leeway": auth.leeway,
        "token_cache_size": auth.token_cache_size,
    }

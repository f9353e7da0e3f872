"""Token-provider arguments from the ``service_auth`` settings section (``MIDIL_SERVICE_AUTH__...``).

Both shells' ``from_settings()`` call these, so which setting wins and which are required is decided
once, here.
"""

from __future__ import annotations

from typing import Any

from midil_common.auth.oauth import cognito_token_url
from midil_common.errors import ConfigError
from midil_common.settings import MidilSettings, ServiceAuthSettings, load_settings

__all__ = ["client_credentials_kwargs", "cognito_client_kwargs"]


def _section(settings: MidilSettings | None) -> ServiceAuthSettings:
    return (load_settings() if settings is None else settings).service_auth


def _credentials(section: ServiceAuthSettings) -> tuple[str, str]:
    if not section.client_id:
        raise ConfigError(
            "MIDIL_SERVICE_AUTH__CLIENT_ID is required", variable="MIDIL_SERVICE_AUTH__CLIENT_ID"
        )
    secret = section.client_secret.get_secret_value() if section.client_secret else ""
    if not secret:
        raise ConfigError(
            "MIDIL_SERVICE_AUTH__CLIENT_SECRET is required",
            variable="MIDIL_SERVICE_AUTH__CLIENT_SECRET",
        )
    return section.client_id, secret


def client_credentials_kwargs(settings: MidilSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``ClientCredentialsProvider``: ``token_url`` wins over
    ``cognito_domain``; a missing value raises ``ConfigError`` naming its variable."""
    section = _section(settings)
    client_id, secret = _credentials(section)
    if section.token_url:
        token_url = section.token_url
    elif section.cognito_domain:
        token_url = cognito_token_url(section.cognito_domain)
    else:
        raise ConfigError(
            "MIDIL_SERVICE_AUTH__TOKEN_URL or MIDIL_SERVICE_AUTH__COGNITO_DOMAIN is required",
            variable="MIDIL_SERVICE_AUTH__TOKEN_URL",
        )
    return {
        "token_url": token_url,
        "client_id": client_id,
        "client_secret": secret,
        "scope": section.scope or None,
        "audience": section.audience,
        "resource": section.resource,
        "auth_method": section.auth_method,
        "refresh_leeway": section.refresh_leeway,
    }


def cognito_client_kwargs(settings: MidilSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``CognitoClientCredentialsAuthenticator``."""
    section = _section(settings)
    client_id, secret = _credentials(section)
    if not section.cognito_domain:
        raise ConfigError(
            "MIDIL_SERVICE_AUTH__COGNITO_DOMAIN is required",
            variable="MIDIL_SERVICE_AUTH__COGNITO_DOMAIN",
        )
    return {
        "client_id": client_id,
        "client_secret": secret,
        "cognito_domain": section.cognito_domain,
        "scope": section.scope or None,
        "refresh_leeway": section.refresh_leeway,
    }

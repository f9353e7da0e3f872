"""Token-client arguments from the ``service_auth`` settings section (``MIDIL_SERVICE_AUTH__...``),
with the ``http`` section's timeouts and retries for their requests (:func:`token_request_kwargs`).

Both shells' ``from_settings()`` call these, so which setting wins and which are required is decided
once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from midil_common.auth.oauth import TOKEN_RETRY_POLICY, cognito_token_url
from midil_common.auth.settings import not_set
from midil_common.errors import ConfigError
from midil_common.http.types import Timeout
from midil_common.settings import MidilSettings, ServiceAuthSettings, load_settings

__all__ = [
    "client_credentials_kwargs",
    "cognito_client_kwargs",
    "oauth_client_kwargs",
    "token_request_kwargs",
]

# ``http`` settings -> the ``RetryPolicy`` field of a token request they tune, when set.
_TOKEN_RETRY_SETTINGS = {
    "max_attempts": "max_attempts",
    "backoff_initial": "backoff_initial",
    "backoff_multiplier": "backoff_multiplier",
    "backoff_max": "backoff_max",
    "deadline": "deadline",
    "retry_after_max": "retry_after_max",
    "retry_statuses": "retry_statuses",
    "retry_budget": "budget_capacity",
}


def _resolved(settings: MidilSettings | None) -> MidilSettings:
    return load_settings() if settings is None else settings


def _section(settings: MidilSettings | None) -> ServiceAuthSettings:
    return _resolved(settings).service_auth


def token_request_kwargs(settings: MidilSettings | None = None) -> dict[str, Any]:
    """``timeout`` and ``retry`` of the token requests of a client built from settings.

    The timeouts are the ``http`` section's (``MIDIL_HTTP__CONNECT_TIMEOUT``, ``__READ_TIMEOUT``),
    as for every outbound request. The retry policy is ``TOKEN_RETRY_POLICY`` (POST and 500
    retried: a token request is safe to repeat; 3 attempts, a 20 s deadline, no budget) with the
    ``http`` retry settings that are *set* laid over it, so an operator's tuning (``MAX_ATTEMPTS=1``
    to turn retries off, a shorter ``DEADLINE``) reaches token requests while the section's generic
    defaults do not replace the token ones. Redirects stay off and idempotency keys are not added
    (the clients build their ``HttpClient`` so), whatever the section says.
    """
    http = _resolved(settings).http
    changes: dict[str, Any] = {
        field: getattr(http, name)
        for name, field in _TOKEN_RETRY_SETTINGS.items()
        if name in http.model_fields_set
    }
    connect, read = http.connect_timeout, http.read_timeout
    return {
        "timeout": Timeout(connect=connect, read=read, write=read, pool=connect),
        "retry": TOKEN_RETRY_POLICY.replace(**changes) if changes else TOKEN_RETRY_POLICY,
    }


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
    settings = _resolved(settings)
    section = settings.service_auth
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
        **token_request_kwargs(settings),
    }


def cognito_client_kwargs(settings: MidilSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``CognitoClientCredentialsAuthenticator``."""
    settings = _resolved(settings)
    section = settings.service_auth
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
        **token_request_kwargs(settings),
    }


def oauth_client_kwargs(
    settings: MidilSettings | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword arguments of ``OAuthClient``: the issuer of ``MIDIL_AUTH__ISSUER`` (the one whose
    tokens the service accepts), this service's client of ``MIDIL_SERVICE_AUTH__CLIENT_ID``,
    ``__CLIENT_SECRET`` (optional: without it, a public client) and ``__AUTH_METHOD``, and the
    token requests' timeouts and retries (:func:`token_request_kwargs`).

    ``overrides`` (constructor arguments) win, and stand in for a missing setting.
    """
    given = dict(overrides or {})
    settings = _resolved(settings)
    section = settings.service_auth
    if not settings.auth.issuer and "issuer" not in given:
        raise not_set(
            "MIDIL_AUTH__ISSUER",
            "OAuthClient needs the issuer URL, whose discovery document names its endpoints",
            "issuer",
        )
    if not section.client_id and "client_id" not in given:
        raise not_set("MIDIL_SERVICE_AUTH__CLIENT_ID", "OAuthClient needs a client id", "client_id")
    secret = section.client_secret.get_secret_value() if section.client_secret else ""
    return {
        "issuer": settings.auth.issuer,
        "client_id": section.client_id,
        "client_secret": secret or None,
        "auth_method": section.auth_method,
        **token_request_kwargs(settings),
        **given,
    }

"""The one mapping from settings to an authorizer, used by both shells and all three adapters.

``JWTAuthorizer.from_settings`` and ``CognitoJWTAuthorizer.from_settings`` read the ``auth`` section
(``MIDIL_AUTH__...``); the Flask and Django adapters first lay their own configuration keys
(``MIDIL_ISSUER`` in Flask's config, ``settings.MIDIL["ISSUER"]`` in Django) over that section with
:func:`with_overrides`, then take the same :func:`authorizer_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ValidationError

from midil_common.auth.token_cache import DEFAULT_TOKEN_CACHE_SIZE
from midil_common.errors import ConfigError
from midil_common.settings import AuthSettings, MidilSettings, load_settings

__all__ = ["auth_section", "authorizer_spec", "cognito_kwargs", "jwt_kwargs", "with_overrides"]

AuthorizerKind = Literal["jwt", "cognito"]


def auth_section(settings: MidilSettings | AuthSettings | None = None) -> AuthSettings:
    """The ``auth`` section of ``settings`` (read from the environment when None)."""
    if settings is None:
        return load_settings().auth
    return settings.auth if isinstance(settings, MidilSettings) else settings


def with_overrides(auth: AuthSettings, config: Mapping[str, Any]) -> AuthSettings:
    """``auth`` with a framework's configuration laid over it.

    ``config`` holds upper-case keys without prefix, named as the settings are (``ISSUER``,
    ``AUDIENCE``, ``ACCEPT_ANY_AUDIENCE``, ``JWKS_URL``, ``ALGORITHMS``, ``LEEWAY``,
    ``COGNITO_USER_POOL_ID``, ``REGION``, ``CLIENT_IDS``, ``TOKEN_USE``, ``REQUIRED_GROUPS``,
    ``TOKEN_CACHE_SIZE``); keys that name no auth setting are the adapter's own and are ignored
    here, and None leaves the setting as it is. A bad value raises ``ConfigError`` naming its key.
    """
    fields = AuthSettings.model_fields
    changes = {
        key.lower(): value
        for key, value in config.items()
        if key.lower() in fields and value is not None
    }
    if not changes:
        return auth
    try:
        return AuthSettings.model_validate({**auth.model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]).upper() if first["loc"] else "MIDIL"
        raise ConfigError(f"{key}: {first['msg']}", variable=key) from None


def authorizer_spec(
    settings: MidilSettings | AuthSettings | None = None,
) -> tuple[AuthorizerKind, dict[str, Any]]:
    """Which authorizer the settings ask for, and its keyword arguments.

    A Cognito user pool id selects ``CognitoJWTAuthorizer``, an issuer ``JWTAuthorizer``; neither
    is a ``ConfigError``. Arguments left at their defaults are left out.
    """
    auth = auth_section(settings)
    if auth.cognito_user_pool_id:
        return "cognito", cognito_kwargs(auth)
    if auth.issuer:
        return "jwt", jwt_kwargs(auth)
    raise ConfigError(
        "no token issuer is configured: set ISSUER (MIDIL_AUTH__ISSUER) or COGNITO_USER_POOL_ID "
        "(MIDIL_AUTH__COGNITO_USER_POOL_ID), or pass an authorizer",
        variable="ISSUER",
    )


def jwt_kwargs(settings: MidilSettings | AuthSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``JWTAuthorizer``; ``ConfigError`` without an issuer."""
    auth = auth_section(settings)
    if not auth.issuer:
        raise ConfigError(
            "MIDIL_AUTH__ISSUER is required (the exact iss of the tokens, an https URL)",
            variable="MIDIL_AUTH__ISSUER",
        )
    kwargs: dict[str, Any] = {"issuer": auth.issuer}
    if auth.audience:
        kwargs["audience"] = auth.audience[0] if len(auth.audience) == 1 else auth.audience
    if auth.accept_any_audience:
        kwargs["accept_any_audience"] = True
    if auth.jwks_url:
        kwargs["jwks_url"] = auth.jwks_url
    if auth.algorithms != AuthSettings().algorithms:
        kwargs["algorithms"] = auth.algorithms
    if auth.leeway:
        kwargs["leeway"] = auth.leeway
    if auth.token_cache_size != DEFAULT_TOKEN_CACHE_SIZE:
        kwargs["token_cache_size"] = auth.token_cache_size
    return kwargs


def cognito_kwargs(settings: MidilSettings | AuthSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``CognitoJWTAuthorizer``; ``ConfigError`` without a pool id."""
    auth = auth_section(settings)
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
    kwargs: dict[str, Any] = {"user_pool_id": auth.cognito_user_pool_id}
    if auth.region:
        kwargs["region"] = auth.region
    if auth.client_ids:
        kwargs["client_ids"] = auth.client_ids
    if auth.token_use != "access":
        kwargs["token_use"] = auth.token_use
    if auth.required_groups:
        kwargs["groups"] = auth.required_groups
    if auth.jwks_url:
        kwargs["jwks_url"] = auth.jwks_url
    if auth.leeway:
        kwargs["leeway"] = auth.leeway
    if auth.token_cache_size != DEFAULT_TOKEN_CACHE_SIZE:
        kwargs["token_cache_size"] = auth.token_cache_size
    return kwargs

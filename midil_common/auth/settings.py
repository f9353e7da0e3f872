"""The one mapping from settings to an authorizer, used by both shells and all three adapters.

``JWTAuthorizer.from_settings`` and ``CognitoJWTAuthorizer.from_settings`` read the ``auth`` section
(``MIDIL_AUTH__...``); the Flask and Django adapters first lay their own configuration keys
(``MIDIL_ISSUER`` in Flask's config, ``settings.MIDIL["ISSUER"]`` in Django) over that section with
:func:`with_overrides`, then take the same :func:`authorizer_spec`. ``CognitoUserClient`` and
``RemotePermissionChecker`` take their ``from_settings`` arguments from
:func:`cognito_user_client_kwargs` and :func:`remote_permission_kwargs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ValidationError

from midil_common.auth.cognito import emulator_jwks_url
from midil_common.auth.token_cache import DEFAULT_TOKEN_CACHE_SIZE
from midil_common.errors import ConfigError
from midil_common.settings import AuthSettings, MidilSettings, load_settings

__all__ = [
    "COGNITO_ALGORITHM",
    "auth_section",
    "authorizer_spec",
    "cognito_kwargs",
    "cognito_user_client_kwargs",
    "jwt_kwargs",
    "not_set",
    "refuse_key_options_beside",
    "remote_permission_kwargs",
    "with_overrides",
]

COGNITO_ALGORITHM = "RS256"
"""The one algorithm Cognito signs its tokens with."""

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
    jwks_url = auth.jwks_url or emulator_jwks_url(
        auth.cognito_endpoint_url, auth.cognito_user_pool_id
    )
    if jwks_url:
        kwargs["jwks_url"] = jwks_url
    if auth.leeway:
        kwargs["leeway"] = auth.leeway
    if auth.algorithms != AuthSettings().algorithms:
        # Set for this service: Cognito signs with RS256, so a list without it would refuse every
        # token. Unset, the section's generic default (RS256, ES256) is not Cognito's: RS256 alone.
        if COGNITO_ALGORITHM not in auth.algorithms:
            raise ConfigError(
                f"MIDIL_AUTH__ALGORITHMS must include {COGNITO_ALGORITHM} for a Cognito user pool "
                f"(Cognito signs every token with {COGNITO_ALGORITHM}; without it every token "
                "would be refused): add it, or unset MIDIL_AUTH__ALGORITHMS",
                variable="MIDIL_AUTH__ALGORITHMS",
            )
        kwargs["algorithms"] = auth.algorithms
    if auth.token_cache_size != DEFAULT_TOKEN_CACHE_SIZE:
        kwargs["token_cache_size"] = auth.token_cache_size
    return kwargs


def not_set(variable: str, needs: str, argument: str) -> ConfigError:
    """The ``ConfigError`` of a required setting left unset: the variable, what it is for, and the
    fix (set it, or pass the argument it stands for)."""
    return ConfigError(
        f"{variable} is not set: {needs} (set it, or pass {argument}=...)", variable=variable
    )


def cognito_user_client_kwargs(
    settings: MidilSettings | AuthSettings | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``CognitoUserClient``: the pool (``MIDIL_AUTH__COGNITO_USER_POOL_ID``),
    its region, the app client (the first of ``MIDIL_AUTH__CLIENT_IDS``) and its secret
    (``MIDIL_AUTH__COGNITO_CLIENT_SECRET``), an emulator (``MIDIL_AUTH__COGNITO_ENDPOINT_URL``), and
    for the authorizer it makes unless ``overrides`` bring one, ``MIDIL_AUTH__JWKS_URL`` and
    ``MIDIL_AUTH__LEEWAY``.

    ``overrides`` (constructor arguments) win, and stand in for a missing setting; a setting that
    is missing and not overridden raises ``ConfigError`` naming its variable.
    """
    given = dict(overrides or {})
    auth = auth_section(settings)
    if not auth.cognito_user_pool_id and "user_pool_id" not in given:
        raise not_set(
            "MIDIL_AUTH__COGNITO_USER_POOL_ID",
            "CognitoUserClient needs the id of the user pool ('eu-west-1_AbC123')",
            "user_pool_id",
        )
    if not auth.client_ids and "client_id" not in given:
        raise not_set(
            "MIDIL_AUTH__CLIENT_IDS",
            "CognitoUserClient needs the app client id users log in through (the first listed)",
            "client_id",
        )
    kwargs: dict[str, Any] = {
        "user_pool_id": auth.cognito_user_pool_id,
        "client_id": auth.client_ids[0] if auth.client_ids else None,
    }
    if auth.cognito_client_secret is not None:
        kwargs["client_secret"] = auth.cognito_client_secret.get_secret_value() or None
    if auth.region:
        kwargs["region"] = auth.region
    if auth.cognito_endpoint_url:
        kwargs["endpoint_url"] = auth.cognito_endpoint_url
    if "authorizer" not in given:
        # For the authorizer the client makes; one passed in is the caller's, configured already.
        if auth.jwks_url:
            kwargs["jwks_url"] = auth.jwks_url
        if auth.leeway:
            kwargs["leeway"] = auth.leeway
    return {**kwargs, **given}


def refuse_key_options_beside(*, jwks_url: str | None, leeway: float) -> None:
    """``ConfigError`` when ``CognitoUserClient`` is given an ``authorizer`` and also options of
    the authorizer it would otherwise make: they would be silently ignored."""
    for name, value in (("jwks_url", jwks_url), ("leeway", leeway)):
        if value:
            raise ConfigError(
                f"CognitoUserClient: {name}= configures the authorizer the client makes, and an "
                f"authorizer was passed: configure {name} on that authorizer instead",
                variable=name,
            )


def remote_permission_kwargs(
    settings: MidilSettings | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Keyword arguments of ``RemotePermissionChecker`` (the decision service's URL,
    ``MIDIL_AUTH__PERMISSIONS_URL``), and those of the ``HttpClient`` the checker makes and owns
    (the ``http`` section, ``MIDIL_HTTP__...``), or None when ``overrides`` bring one
    (``http_client=``, which stays the caller's to close).

    ``overrides`` win, and stand in for a missing setting (``url=``).
    """
    from midil_common.http.prepare import client_settings

    given = dict(overrides or {})
    if settings is None:
        settings = load_settings()
    url = settings.auth.permissions_url
    if not url and "url" not in given:
        raise not_set(
            "MIDIL_AUTH__PERMISSIONS_URL",
            "RemotePermissionChecker needs the URL of the policy decision service to ask",
            "url",
        )
    kwargs = {"url": url, **given}
    if "http_client" in kwargs:
        return kwargs, None
    return kwargs, client_settings(settings)

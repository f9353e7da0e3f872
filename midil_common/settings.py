"""Typed settings read from ``MIDIL_...`` environment variables.

Each module has a section; nested values use ``__``: ``MIDIL_AUTH__ISSUER``,
``MIDIL_SERVICE_AUTH__CLIENT_SECRET``. Lists accept JSON (``["a","b"]``) or a comma-separated string.
A bad value raises :class:`~midil_common.errors.ConfigError` naming the variable; secrets are
``SecretStr`` and never appear in reprs or messages. Nothing is read at import time: call
:func:`load_settings`.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from midil_common.errors import ConfigError

__all__ = [
    "AuthSettings",
    "EventsSettings",
    "HttpSettings",
    "JSONAPISettings",
    "MidilSettings",
    "ServiceAuthSettings",
    "known_variables",
    "load_settings",
    "unknown_variables",
]

ENV_PREFIX = "MIDIL_"
ENV_NESTED_DELIMITER = "__"


def _split_list(value: Any) -> Any:
    """Accept JSON arrays and comma-separated strings for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                # RecursionError: a value nested deeper than the interpreter's stack, which must
                # fail as the bad value it is. No chain: a JSONDecodeError keeps the whole value.
                raise ValueError("not a valid JSON array") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[tuple[str, ...], NoDecode]


def _http_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, without user info, query or fragment."""
    return _checked_url(value, query=False)


def _http_url_with_query(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, without user info or fragment; a query is allowed
    (RFC 6749 section 3.2 lets an endpoint's URL have one), and ``midil settings check`` masks its
    values."""
    return _checked_url(value, query=True)


def _checked_url(value: str | None, *, query: bool) -> str | None:
    if value is None:
        return None
    from urllib.parse import urlsplit

    # The messages never quote the value: user info or a query may hold a password.
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or (parts.query and not query)
        or parts.fragment
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        if query:
            raise ValueError("must be an http(s) URL with a host, no user info or fragment")
        raise ValueError("must be an http(s) URL with a host, no user info, query or fragment")
    return value


def _cognito_domain(value: str | None) -> str | None:
    """A host name, or an http(s) URL checked as the other URL settings are."""
    if value is None or "://" in value:
        return _http_url(value)
    if "@" in value or any(c.isspace() or not c.isprintable() for c in value.strip()):
        raise ValueError("must be a host name or an http(s) URL, without user info")
    return value


class _Section(BaseModel):
    # allow_inf_nan=False: an infinite timeout or delay is never meant, and `midil settings check
    # -o json` could not print it as JSON.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def __repr_args__(self) -> Any:
        # Some URLs take a query (the token endpoint's, RFC 6749 section 3.2), and a query may
        # hold a secret: a repr lands in logs and tracebacks, so its values are masked.
        from midil_common.http.urls import masked_url

        for name, value in super().__repr_args__():
            yield name, masked_url(value) if isinstance(value, str) and "://" in value else value


class AuthSettings(_Section):
    """Inbound token verification (``MIDIL_AUTH__...``).

    ``accept_any_audience`` (``MIDIL_AUTH__ACCEPT_ANY_AUDIENCE``, default false) is the explicit
    opt-out for an issuer whose tokens carry ``aud`` values the service does not check; without
    it and without ``audience``, a token that carries ``aud`` is refused (RFC 7519 section 4.1.3).

    Who reads it: ``JWTAuthorizer.from_settings`` (``issuer`` and the verification settings),
    ``CognitoJWTAuthorizer.from_settings`` (``cognito_user_pool_id``, ``region``, ``client_ids``,
    ...), ``CognitoUserClient.from_settings`` (``cognito_user_pool_id``, ``region``, the first of
    ``client_ids``, ``cognito_client_secret``, ``cognito_endpoint_url``), ``OAuthClient.from_settings``
    (``issuer``, with the client id and secret of ``service_auth``),
    ``RemotePermissionChecker.from_settings`` (``permissions_url``) and the framework adapters.
    """

    issuer: str | None = Field(
        default=None,
        description="The exact `iss` of accepted tokens (an https URL); selects `JWTAuthorizer`.",
    )
    audience: StrList = Field(
        default=(),
        description="The audience(s) this service answers to; a token's `aud` must name one.",
    )
    jwks_url: str | None = Field(
        default=None,
        description="The JWKS URL; by default read from `{issuer}/.well-known/openid-configuration`.",
    )
    algorithms: StrList = Field(
        default=("RS256", "ES256"),
        description="The signature algorithms allowed (`none` and HMAC can never be allowed). Cognito signs with RS256: `CognitoJWTAuthorizer` allows RS256 alone unless this is set, and a value set for it must include RS256.",
    )
    leeway: float = Field(
        default=0.0,
        ge=0.0,
        le=300.0,
        description="Seconds of clock skew allowed on `exp`, `nbf` and `iat`.",
    )
    cognito_user_pool_id: str | None = Field(
        default=None,
        description="A Cognito user pool id (`eu-west-1_AbC123`); selects `CognitoJWTAuthorizer` (wins over `issuer`).",
    )
    region: str | None = Field(
        default=None,
        description="The Cognito user pool's AWS region (by default taken from the pool id).",
    )
    client_ids: StrList = Field(
        default=(),
        description="Cognito app client ids accepted (`client_id` of access tokens, `aud` of id tokens); `CognitoUserClient.from_settings` logs users in through the first.",
    )
    cognito_client_secret: SecretStr | None = Field(
        default=None,
        description="The secret of the app client `CognitoUserClient` logs users in through, when it has one (`SECRET_HASH` is then sent; a `SecretStr`: never printed).",
    )
    cognito_endpoint_url: str | None = Field(
        default=None,
        description="A local Cognito emulator's URL (moto, LocalStack) for `CognitoUserClient`, and where `CognitoJWTAuthorizer` fetches the pool's keys unless `jwks_url` is set; leave it unset on AWS.",
    )
    token_use: Literal["access", "id"] = Field(
        default="access",
        description="Which Cognito token is accepted: `access` or `id` (`id` needs `client_ids`).",
    )
    required_groups: StrList = Field(
        default=(), description="Cognito groups a token must be in (any of them)."
    )
    realm: str | None = Field(
        default=None,
        description="The `realm` of `WWW-Authenticate` challenges, used by the Flask, Django (DRF included) and FastAPI adapters when their own configuration names none (`MIDIL_REALM` in Flask, `MIDIL['REALM']` in Django, `realm=` in FastAPI win; an empty string there means no realm).",
    )
    token_cache_size: int = Field(
        default=1024, ge=0, description="Entries of the verified-token cache (0 turns it off)."
    )
    accept_any_audience: bool = Field(
        default=False,
        description="Accept tokens whatever their `aud` (explicit opt-out; not with `audience`).",
    )
    permissions_url: str | None = Field(
        default=None,
        description="The policy decision service `RemotePermissionChecker.from_settings` asks (`POST`, the token as a bearer credential, `{resource, action}` as JSON); its requests take the `http` section's settings.",
    )

    _urls = field_validator("issuer", "cognito_endpoint_url", "permissions_url")(_http_url)
    _urls_with_query = field_validator("jwks_url")(_http_url_with_query)
    _lists = field_validator(
        "audience", "algorithms", "client_ids", "required_groups", mode="before"
    )(_split_list)


class HttpSettings(_Section):
    """Outbound HTTP defaults (``MIDIL_HTTP__...``).

    ``HttpClient.from_settings`` and ``RemotePermissionChecker.from_settings`` take all of them.
    Token requests (``ClientCredentialsProvider``, ``CognitoClientCredentialsAuthenticator`` and
    ``OAuthClient``, built with ``from_settings``) take the two timeouts, and the retry settings
    that are set (attempts, backoff, deadline, ``Retry-After`` limit, statuses, budget); the ones
    left unset keep the token-request defaults (3 attempts, POST and 500 retried, a 20 s deadline,
    no budget). Redirects and idempotency keys never apply to token requests: a token request is
    not redirected (it carries the client secret) and is safe to repeat without a key.
    """

    connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to establish a connection."
    )
    read_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for each read of the response."
    )
    max_attempts: int = Field(
        default=4, ge=1, le=20, description="Attempts per request, the first included."
    )
    backoff_initial: float = Field(
        default=0.1, ge=0, description="The first retry's maximum delay in seconds (full jitter)."
    )
    backoff_multiplier: float = Field(
        default=2.0, ge=1, description="Growth of the maximum delay per retry."
    )
    backoff_max: float = Field(
        default=5.0, ge=0, description="Cap of the delay between two attempts, in seconds."
    )
    deadline: float = Field(
        default=30.0,
        gt=0,
        description="Wall-clock limit of a request and all its retries, in seconds.",
    )
    retry_after_max: float = Field(
        default=60.0,
        ge=0,
        description="The longest `Retry-After` honoured, in seconds; beyond it the request fails at once.",
    )
    retry_statuses: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(429, 502, 503, 504),
        description="Response statuses retried (idempotent methods, or with an `Idempotency-Key`).",
    )
    retry_budget: int | None = Field(
        default=500, ge=0, description="Retries per client per minute, roughly (None: no budget)."
    )
    auto_idempotency_key: bool = Field(
        default=False,
        description="Add a fresh `Idempotency-Key` to every POST and PATCH, so they can be retried.",
    )
    follow_redirects: bool = Field(
        default=True, description="Follow redirects (credentials are dropped across origins)."
    )
    max_redirects: int = Field(
        default=5, ge=0, le=30, description="Redirects followed before `TooManyRedirectsError`."
    )

    _lists = field_validator("retry_statuses", mode="before")(_split_list)


class ServiceAuthSettings(_Section):
    """Outbound service credentials (``MIDIL_SERVICE_AUTH__...``)."""

    token_url: str | None = Field(
        default=None,
        description="The OAuth2 token endpoint of the client-credentials grant (wins over `cognito_domain`).",
    )
    cognito_domain: str | None = Field(
        default=None,
        description="A Cognito domain (`my.auth.eu-west-1.amazoncognito.com`); the token URL is derived from it.",
    )
    client_id: str | None = Field(default=None, description="This service's client id.")
    client_secret: SecretStr | None = Field(
        default=None, description="This service's client secret (a `SecretStr`: never printed)."
    )
    scope: StrList = Field(default=(), description="Scopes asked for.")
    audience: str | None = Field(
        default=None, description="The `audience` parameter some issuers need (Auth0)."
    )
    auth_method: Literal["client_secret_basic", "client_secret_post"] = Field(
        default="client_secret_basic",
        description="How the client authenticates to the token endpoint.",
    )
    resource: str | None = Field(default=None, description="The RFC 8707 `resource` parameter.")
    refresh_leeway: float | None = Field(
        default=None,
        ge=0,
        description="Seconds before expiry to refresh a token (None: `min(60 s, 10%)` of its lifetime).",
    )

    _urls_with_query = field_validator("token_url")(_http_url_with_query)
    _domain = field_validator("cognito_domain")(_cognito_domain)
    _lists = field_validator("scope", mode="before")(_split_list)


class JSONAPISettings(_Section):
    """JSON:API query limits (``MIDIL_JSONAPI__...``).

    The Flask, Django and FastAPI adapters' ``jsonapi_query`` (and FastAPI's ``parse_page`` and
    ``parse_include``) take the limits they are not given from here; ``default_page_size`` may not
    exceed ``max_page_size``.
    """

    max_page_size: int = Field(
        default=100,
        ge=1,
        description="Largest `page[size]` (or `page[limit]`) accepted; a larger one is refused with 400. The default of the adapters' `jsonapi_query` and `parse_page` and of `midil jsonapi query`; an explicit `max_page_size=` wins.",
    )
    default_page_size: int = Field(
        default=20,
        ge=1,
        description="`page[size]` when the request has none (at most `max_page_size`); the adapters' default, like `max_page_size`.",
    )
    max_include_depth: int = Field(
        default=3,
        ge=1,
        description="Longest relationship path in `include` (`a.b.c` is 3); the adapters' default, like `max_page_size`.",
    )

    @field_validator("default_page_size")
    @classmethod
    def _default_within_max(cls, value: int, info: ValidationInfo) -> int:
        maximum = info.data.get("max_page_size")
        if maximum is not None and value > maximum:
            raise ValueError(f"must not exceed max_page_size ({maximum})")
        return value


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", re.ASCII)
_BUS = re.compile(
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/)?[.\-_A-Za-z0-9]+"
)
_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)?:iam::[0-9]{12}:role/[\w+=,.@/-]+", re.ASCII)
_TARGET_ARN = re.compile(r"arn:aws(-[a-z]+)?:[a-z0-9\-]+:[!-~]*", re.ASCII)
_SCHEDULE_GROUP = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")


class EventsSettings(_Section):
    """Events on AWS (``MIDIL_EVENTS__...``): SQS queues, EventBridge, EventBridge Scheduler.

    ``queue_url`` and ``dlq_url`` are SQS queue URLs; ``region`` an AWS region (``eu-west-1``);
    ``endpoint_url`` a local emulator (moto, LocalStack); ``bus_name`` an event bus name or ARN;
    ``source`` the EventBridge ``Source`` of published events (default: each event's source);
    ``scheduler_role_arn``, ``scheduler_target_arn`` and ``schedule_group`` the Scheduler's role,
    default target and group. The consumer's defaults: ``wait_time_seconds`` (long polling, 0 to
    20), ``visibility_timeout`` (None: the queue's), ``concurrency`` and ``max_messages``
    (1 to 10 per receive).
    """

    queue_url: str | None = Field(
        default=None, description="The SQS queue URL that publishers and consumers use."
    )
    dlq_url: str | None = Field(default=None, description="The dead-letter queue's URL.")
    region: str | None = Field(
        default=None,
        description="The AWS region (`eu-west-1`); otherwise boto's own configuration.",
    )
    endpoint_url: str | None = Field(
        default=None,
        description="A local emulator's URL (moto, LocalStack); leave it unset on AWS.",
    )
    bus_name: str = Field(default="default", description="The EventBridge event bus name or ARN.")
    source: str | None = Field(
        default=None,
        description="The EventBridge `Source` of published events (default: each event's `source`).",
    )
    scheduler_role_arn: str | None = Field(
        default=None, description="The IAM role EventBridge Scheduler assumes to reach the target."
    )
    scheduler_target_arn: str | None = Field(
        default=None,
        description="The default target of schedules (an SQS queue, a Lambda function ...).",
    )
    schedule_group: str = Field(
        default="default", description="The EventBridge Scheduler schedule group."
    )
    wait_time_seconds: int = Field(
        default=20,
        ge=0,
        le=20,
        description="SQS long polling: seconds a receive waits for messages (0 to 20).",
    )
    visibility_timeout: int | None = Field(
        default=None,
        ge=0,
        le=43200,
        description="Seconds a received message stays hidden (None: the queue's own setting).",
    )
    concurrency: int = Field(
        default=10, ge=1, le=1000, description="Messages handled at once by a consumer."
    )
    max_messages: int = Field(
        default=10, ge=1, le=10, description="Messages asked for per receive (1 to 10)."
    )

    _urls = field_validator("queue_url", "dlq_url", "endpoint_url")(_http_url)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and _REGION.fullmatch(value) is None:
            raise ValueError("must be an AWS region such as 'eu-west-1'")
        return value

    @field_validator("bus_name")
    @classmethod
    def _bus(cls, value: str) -> str:
        if len(value) > 1600 or _BUS.fullmatch(value) is None:
            raise ValueError("must be an event bus name or ARN")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and (not value or not value.isprintable() or value.startswith("aws.")):
            raise ValueError("must be printable and must not start with 'aws.'")
        return value

    @field_validator("scheduler_role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and _ROLE_ARN.fullmatch(value) is None:
            raise ValueError("must be an IAM role ARN (arn:aws:iam::123456789012:role/name)")
        return value

    @field_validator("scheduler_target_arn")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 1600 or _TARGET_ARN.fullmatch(value) is None):
            raise ValueError("must be an ARN")
        return value

    @field_validator("schedule_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if _SCHEDULE_GROUP.fullmatch(value) is None:
            raise ValueError("must be 1 to 64 of 0-9 a-z A-Z - _ .")
        return value


class MidilSettings(BaseSettings):
    """Every section of the kit's configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="ignore",
        frozen=True,
    )

    auth: AuthSettings = AuthSettings()
    http: HttpSettings = HttpSettings()
    service_auth: ServiceAuthSettings = ServiceAuthSettings()
    jsonapi: JSONAPISettings = JSONAPISettings()
    events: EventsSettings = EventsSettings()


def load_settings(**overrides: Any) -> MidilSettings:
    """Read the settings from the environment (and keyword overrides, by section).

    Raises ``ConfigError`` whose message and ``variable`` name the offending environment variable.
    """
    _warn_unknown(os.environ)
    try:
        return MidilSettings(**overrides)
    except ValidationError as exc:
        failure = _validation_failure(exc)
    except SettingsError as exc:
        # A section variable (MIDIL_SERVICE_AUTH='{...}') that is not JSON.
        named = _SETTINGS_FIELD.search(str(exc))
        failure = _json_failure(named.group(1) if named else None)
    except (ValueError, RecursionError):
        # RecursionError: a section variable nested deeper than the interpreter's stack.
        failure = _json_failure(None)
    # Raised outside the except blocks, so that it has no __context__ either: pydantic's
    # ValidationError and json's JSONDecodeError (its .doc) keep the raw value, a secret perhaps.
    raise failure


_SETTINGS_FIELD = re.compile(r'field "(\w+)"')


def _validation_failure(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    variable = ENV_PREFIX + ENV_NESTED_DELIMITER.join(part.upper() for part in loc)
    # The value itself is left out: it may be a secret.
    message = f"{variable}: {first['msg']}"
    if first["type"] == "extra_forbidden":
        close = difflib.get_close_matches(variable, known_variables(), n=1, cutoff=0.6)
        message = f"{variable} matches no midil-kit setting" + (
            f"; did you mean {close[0]}?" if close else ""
        )
    return ConfigError(message, variable=variable)


def _json_failure(field: str | None) -> ConfigError:
    """The error of a section variable that is not valid JSON, found by decoding each section
    variable again, or else named by the ``field`` of pydantic-settings' message."""
    variable = _undecodable_section(os.environ)
    if variable is None:
        variable = ENV_PREFIX + (field.upper() if field else "...")
    return ConfigError(
        f"{variable}: not a valid JSON object (or nested too deeply)", variable=variable
    )


def _undecodable_section(environ: Mapping[str, str]) -> str | None:
    import json

    sections = {f"{ENV_PREFIX}{section}".upper() for section in MidilSettings.model_fields}
    for name, value in sorted(environ.items()):
        if name.upper() in sections:
            try:
                json.loads(value)
            except (ValueError, RecursionError):
                return name
    return None


_warned: set[str] = set()


def known_variables() -> frozenset[str]:
    """Every ``MIDIL_...`` environment variable that names a setting."""
    names = set()
    for section, field in MidilSettings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name in model.model_fields:
                names.add(f"{ENV_PREFIX}{section}{ENV_NESTED_DELIMITER}{name}".upper())
    return frozenset(names)


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``MIDIL_...`` variables in ``environ`` that match no setting, each with the closest real
    setting (or None), so that a typo such as ``MIDIL_AUTH_ISSUER`` is not silently ignored."""
    known = known_variables()
    unknown = []
    for name in environ:
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known:
            close = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
            unknown.append((name, close[0] if close else None))
    return sorted(unknown)


def _warn_unknown(environ: Mapping[str, str]) -> None:
    sections = tuple(
        f"{ENV_PREFIX}{section}{ENV_NESTED_DELIMITER}".upper()
        for section in MidilSettings.model_fields
    )
    for name, closest in unknown_variables(environ):
        if name in _warned or name.upper().startswith(sections):
            continue  # inside a section, an unknown name is an error of load_settings instead
        _warned.add(name)
        hint = f"; did you mean {closest}?" if closest else " (sections and names use '__')"
        warnings.warn(
            f"the environment variable {name} matches no midil-kit setting{hint}",
            UserWarning,
            stacklevel=3,
        )

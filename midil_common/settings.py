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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
            except ValueError as exc:
                raise ValueError("not a valid JSON array") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[tuple[str, ...], NoDecode]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSettings(_Section):
    """Inbound token verification (``MIDIL_AUTH__...``).

    ``accept_any_audience`` (``MIDIL_AUTH__ACCEPT_ANY_AUDIENCE``, default false) is the explicit
    opt-out for an issuer whose tokens carry ``aud`` values the service does not check; without
    it and without ``audience``, a token that carries ``aud`` is refused (RFC 7519 section 4.1.3).
    """

    issuer: str | None = None
    audience: StrList = ()
    jwks_url: str | None = None
    algorithms: StrList = ("RS256", "ES256")
    leeway: float = Field(default=0.0, ge=0.0, le=300.0)
    cognito_user_pool_id: str | None = None
    region: str | None = None
    client_ids: StrList = ()
    token_use: Literal["access", "id"] = "access"
    required_groups: StrList = ()
    realm: str | None = None
    token_cache_size: int = Field(default=1024, ge=0)
    accept_any_audience: bool = False

    _lists = field_validator(
        "audience", "algorithms", "client_ids", "required_groups", mode="before"
    )(_split_list)


class HttpSettings(_Section):
    """Outbound HTTP defaults (``MIDIL_HTTP__...``)."""

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_initial: float = Field(default=0.1, ge=0)
    backoff_multiplier: float = Field(default=2.0, ge=1)
    backoff_max: float = Field(default=5.0, ge=0)
    deadline: float = Field(default=30.0, gt=0)
    retry_after_max: float = Field(default=60.0, ge=0)
    retry_statuses: Annotated[tuple[int, ...], NoDecode] = (429, 502, 503, 504)
    retry_budget: int | None = Field(default=500, ge=0)
    auto_idempotency_key: bool = False
    follow_redirects: bool = True
    max_redirects: int = Field(default=5, ge=0, le=30)

    _lists = field_validator("retry_statuses", mode="before")(_split_list)


class ServiceAuthSettings(_Section):
    """Outbound service credentials (``MIDIL_SERVICE_AUTH__...``)."""

    token_url: str | None = None
    cognito_domain: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: StrList = ()
    audience: str | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    resource: str | None = None
    refresh_leeway: float | None = Field(default=None, ge=0)

    _lists = field_validator("scope", mode="before")(_split_list)


class JSONAPISettings(_Section):
    """JSON:API defaults (``MIDIL_JSONAPI__...``)."""

    max_page_size: int = Field(default=100, ge=1)
    default_page_size: int = Field(default=20, ge=1)
    max_include_depth: int = Field(default=3, ge=1)


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", re.ASCII)
_BUS = re.compile(
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus/)?[.\-_A-Za-z0-9]+"
)
_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)?:iam::[0-9]{12}:role/[\w+=,.@/-]+", re.ASCII)
_TARGET_ARN = re.compile(r"arn:aws(-[a-z]+)?:[a-z0-9\-]+:[!-~]*", re.ASCII)
_SCHEDULE_GROUP = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")


def _http_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, without user info, query or fragment."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise ValueError("must be an http(s) URL with a host, no user info, query or fragment")
    return value


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

    queue_url: str | None = None
    dlq_url: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    bus_name: str = "default"
    source: str | None = None
    scheduler_role_arn: str | None = None
    scheduler_target_arn: str | None = None
    schedule_group: str = "default"
    wait_time_seconds: int = Field(default=20, ge=0, le=20)
    visibility_timeout: int | None = Field(default=None, ge=0, le=43200)
    concurrency: int = Field(default=10, ge=1, le=1000)
    max_messages: int = Field(default=10, ge=1, le=10)

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
        raise ConfigError(message, variable=variable) from None


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

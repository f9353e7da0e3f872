"""The client side of an OAuth 2.0 token endpoint, free of I/O.

- :class:`ClientCredentials` builds the ``client_credentials`` request (RFC 6749 section 4.4) for
  ``client_secret_basic`` and ``client_secret_post``, with ``scope``, ``audience`` and ``resource``
  (RFC 8707) on every fetch.
- :func:`parse_token_response` turns the answer into an :class:`~midil_common.auth.tokens.AccessToken`,
  or the OAuth error (RFC 6749 section 5.2) into :class:`~midil_common.errors.TokenRequestError`.
- :class:`AccessTokenCache` decides when a cached token must be refreshed: ``min(60 s, 10 % of its
  lifetime)`` before it expires, with a fallback lifetime for tokens without ``expires_in``.

The shells add the I/O and the single-flight: one fetch for any number of concurrent callers.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, quote_plus, urlsplit

from midil_common.auth.tokens import AccessToken
from midil_common.errors import ConfigError, TokenRequestError
from midil_common.http.retry import IDEMPOTENT_METHODS, RetryPolicy
from midil_common.http.types import Response
from midil_common.http.urls import check_url, safe_url

__all__ = [
    "CLIENT_AUTH_METHODS",
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_REFRESH_LEEWAY",
    "MAX_TOKEN_RESPONSE_SIZE",
    "TOKEN_RETRY_POLICY",
    "AccessTokenCache",
    "AuthMethod",
    "ClientCredentials",
    "check_credential",
    "cognito_token_url",
    "lifetime_seconds",
    "parse_token_response",
    "redaction_forms",
    "refresh_leeway",
    "server_text",
]

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
CLIENT_AUTH_METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post")

MAX_REFRESH_LEEWAY = 60.0
"""A token is refreshed at most this many seconds before it expires."""

DEFAULT_TOKEN_LIFETIME = 300.0
"""Assumed lifetime of a token whose response has no ``expires_in``: short, since a stale token
costs a 401 and a refetch while a long guess could keep an expired token around."""

TOKEN_RETRY_POLICY = RetryPolicy(
    max_attempts=3,
    idempotent_methods=IDEMPOTENT_METHODS | {"POST"},
    retry_statuses=frozenset({429, 500, 502, 503, 504}),
    deadline=20.0,
    budget_capacity=None,
)
"""Token requests are safe to repeat (a second token is harmless), so POST is retried on connection
errors and 5xx like an idempotent request."""

_MAX_DESCRIPTION = 200
_MAX_EXPIRES_IN = 10 * 366 * 86400.0  # longer is not a lifetime but garbage: the fallback applies
MAX_TOKEN_RESPONSE_SIZE = 1024 * 1024
"""Token endpoint responses larger than this are refused (a token response is a few KiB)."""

# RFC 6749 appendix A.12: access-token = 1*VSCHAR (printable ASCII and space).
_VSCHAR = re.compile(r"[\x20-\x7e]+")
# token_type is a type name (RFC 6749 section 7.1), sent back in the Authorization header.
_TOKEN_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def check_credential(value: str, what: str) -> str:
    """``value`` if it can travel in a header: non-empty printable ASCII (RFC 6749 appendix A.12).

    Raises ``ConfigError`` naming ``what``, never showing the value: a CR or LF in a token would
    split the header, and libraries quote such headers in their own errors.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty string", variable=what)
    if _VSCHAR.fullmatch(value) is None:
        raise ConfigError(
            f"{what} must be printable ASCII (RFC 6749 appendix A.12); it holds a control or "
            "non-ASCII character (the value is not shown)",
            variable=what,
        )
    return value


def refresh_leeway(lifetime: float, *, maximum: float = MAX_REFRESH_LEEWAY) -> float:
    """How long before expiry a token of ``lifetime`` seconds is refreshed: ``min(60 s, 10 %)``."""
    return max(0.0, min(maximum, 0.1 * lifetime))


def cognito_token_url(cognito_domain: str) -> str:
    """The token endpoint of a Cognito domain.

    ``auth.example.com`` (or ``x.auth.eu-west-1.amazoncognito.com``) gives
    ``https://{domain}/oauth2/token``; a full URL is kept (``/oauth2/token`` is added when it has no
    path), so tests and demos can point at a local server.
    """
    domain = cognito_domain.strip()
    if not domain:
        raise ConfigError("cognito_domain must not be empty")
    if "://" in domain:
        parts = urlsplit(domain)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("cognito_domain must be a host name or an http(s) URL")
        if parts.path in ("", "/"):
            return domain.rstrip("/") + "/oauth2/token"
        return domain
    if "/" in domain:
        raise ConfigError("cognito_domain must be a host name or an http(s) URL")
    return f"https://{domain}/oauth2/token"


@dataclass(frozen=True)
class ClientCredentials:
    """What a ``client_credentials`` token request needs; the secret never appears in its repr."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    audience: str | None = None
    resource: str | None = None
    auth_method: AuthMethod = "client_secret_basic"

    def __post_init__(self) -> None:
        check_url(self.token_url, what="token_url")
        if not self.client_id:
            raise ConfigError("client_id must not be empty")
        if not self.client_secret:
            raise ConfigError("client_secret must not be empty")
        if self.auth_method not in CLIENT_AUTH_METHODS:
            raise ConfigError(
                f"auth_method must be one of {', '.join(CLIENT_AUTH_METHODS)}, "
                f"not {self.auth_method!r}"
            )

    @staticmethod
    def join_scope(scope: str | Iterable[str] | None) -> str | None:
        """``scope`` as the space-separated string the token endpoint expects (None when empty)."""
        if scope is None:
            return None
        text = scope if isinstance(scope, str) else " ".join(scope)
        return text.strip() or None

    def form(self) -> dict[str, str]:
        """The form fields of the token request."""
        fields = {"grant_type": "client_credentials"}
        if self.scope:
            fields["scope"] = self.scope
        if self.audience:
            fields["audience"] = self.audience
        if self.resource:
            fields["resource"] = self.resource
        if self.auth_method == "client_secret_post":
            fields["client_id"] = self.client_id
            fields["client_secret"] = self.client_secret
        return fields

    def headers(self) -> dict[str, str]:
        """The headers of the token request (``Authorization: Basic`` for ``client_secret_basic``)."""
        headers = {"Accept": "application/json"}
        if self.auth_method == "client_secret_basic":
            # RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return headers

    def secret_forms(self) -> tuple[str, ...]:
        """Every form in which the secret leaves this process, to redact from server text: as is,
        form-encoded, and the ``Basic`` credential of ``client_secret_basic``."""
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
        basic = base64.b64encode(pair.encode()).decode("ascii")
        forms = {self.client_secret, quote_plus(self.client_secret), pair, basic}
        # A server may echo the credential without its padding, or cut it short.
        forms.add(basic.rstrip("="))
        return tuple(sorted(forms, key=len, reverse=True))

    def describe(self) -> str:
        """A one-line description for logs and errors, without the secret."""
        return f"client {self.client_id!r} at {safe_url(self.token_url)}"


def parse_token_response(
    response: Response,
    *,
    now: float,
    redact: Iterable[str] = (),
) -> AccessToken:
    """The token in a token-endpoint ``response``, or ``TokenRequestError`` with the OAuth error.

    ``now`` (Unix time) turns ``expires_in`` into ``expires_at``. Strings in ``redact`` (the client
    secret, the password or refresh token of the grant) are removed, in every encoding of
    :func:`redaction_forms`, from any server text copied into the error.
    """
    secrets = redaction_forms(redact)
    where = safe_url(response.url)
    try:
        doc: Any = json.loads(response.content) if response.content.strip() else None
    except (ValueError, RecursionError):
        doc = None
    if response.status_code >= 400 or not isinstance(doc, Mapping) or "error" in doc:
        error = server_text(doc.get("error"), secrets) if isinstance(doc, Mapping) else None
        description = (
            server_text(doc.get("error_description"), secrets) if isinstance(doc, Mapping) else None
        )
        if error is None and response.status_code < 400:
            message = f"token endpoint {where} returned an invalid response"
        else:
            message = f"token endpoint {where} answered {response.status_code}"
            if error:
                message += f": {error}"
            if description:
                message += f" ({description})"
        raise TokenRequestError(
            message, error=error, error_description=description, status_code=response.status_code
        )
    access_token = doc.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise TokenRequestError(
            f"token endpoint {where} answered without an access_token",
            status_code=response.status_code,
        )
    if _VSCHAR.fullmatch(access_token) is None:
        raise TokenRequestError(
            f"token endpoint {where} answered with an access_token that is not printable ASCII "
            "(RFC 6749 appendix A.12)",
            status_code=response.status_code,
        )
    expires_in = lifetime_seconds(doc.get("expires_in"))
    token_type = doc.get("token_type")
    if token_type is not None and (
        not isinstance(token_type, str) or _TOKEN_TYPE.fullmatch(token_type) is None
    ):
        raise TokenRequestError(
            f"token endpoint {where} answered with an invalid token_type",
            status_code=response.status_code,
        )
    scope = doc.get("scope")
    refresh = doc.get("refresh_token")
    id_token = doc.get("id_token")
    return AccessToken(
        access_token=access_token,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        expires_at=None if expires_in is None else now + expires_in,
        scope=scope if isinstance(scope, str) else None,
        refresh_token=refresh if isinstance(refresh, str) else None,
        id_token=id_token if isinstance(id_token, str) else None,
    )


class AccessTokenCache:
    """The cached token of one provider and when it must be refreshed.

    Not thread-safe: the shells call it under their single-flight lock or from one event loop.
    ``refresh_leeway`` fixes the leeway; by default it is ``min(60 s, 10 % of the lifetime)``.
    """

    __slots__ = ("_refresh_at", "_token", "fallback_lifetime", "leeway")

    def __init__(
        self,
        *,
        refresh_leeway: float | None = None,
        fallback_lifetime: float = DEFAULT_TOKEN_LIFETIME,
    ) -> None:
        if refresh_leeway is not None and refresh_leeway < 0:
            raise ConfigError("refresh_leeway must be >= 0")
        if fallback_lifetime <= 0:
            raise ConfigError("fallback_lifetime must be > 0")
        self.leeway = refresh_leeway
        self.fallback_lifetime = fallback_lifetime
        self._token: AccessToken | None = None
        self._refresh_at = -math.inf

    def current(self, now: float) -> AccessToken | None:
        """The cached token while it is fresh at ``now``; None means "fetch a new one"."""
        if self._token is not None and now < self._refresh_at:
            return self._token
        return None

    def store(self, token: AccessToken, now: float) -> None:
        """Cache ``token``, fetched at ``now``."""
        left = token.expires_in(now)
        lifetime = self.fallback_lifetime if left is None else max(0.0, left)
        leeway = refresh_leeway(lifetime) if self.leeway is None else self.leeway
        self._token = token
        self._refresh_at = now + lifetime - leeway

    def invalidate(self) -> None:
        """Forget the cached token (after a 401)."""
        self._token = None
        self._refresh_at = -math.inf

    @property
    def refresh_at(self) -> float | None:
        """When the cached token will be refreshed (Unix time), or None when nothing is cached."""
        return None if self._token is None else self._refresh_at


def redaction_forms(values: Iterable[str]) -> list[str]:
    """Every form in which ``values`` may come back in server text, longest first: as is,
    form-encoded (``quote_plus``, how a form body carries them) and percent-encoded
    (``quote(safe="")``, how a server logging the decoded field might re-encode it).

    A server that echoes the request body quotes the form-encoded value, not the one the caller
    passed; redacting only the raw value would leave ``p%40ss+w0rd`` in the error.
    """
    forms = {form for value in values if value for form in _encodings(value)}
    # Longest first: a form that contains a shorter one is replaced whole.
    return sorted(forms, key=len, reverse=True)


def _encodings(value: str) -> tuple[str, str, str]:
    return value, quote_plus(value), quote(value, safe="")


def server_text(value: object, secrets: list[str]) -> str | None:
    """Server text for a message: ``secrets`` (from :func:`redaction_forms`) redacted, control
    characters replaced, bounded."""
    if not isinstance(value, str) or not value:
        return None
    for secret in secrets:
        value = value.replace(secret, "***")
    return _UNPRINTABLE.sub("?", value[: _MAX_DESCRIPTION * 4])[:_MAX_DESCRIPTION]


def lifetime_seconds(value: object) -> float | None:
    """A token's ``expires_in`` (OAuth) or ``ExpiresIn`` (Cognito) as seconds, or None when it is
    no lifetime: not a number, not finite, negative, or longer than ten years."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int of 10**400: no float holds it
            return None
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 32:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number) or number < 0 or number > _MAX_EXPIRES_IN:
        return None
    return number

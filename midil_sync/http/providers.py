# Generated from midil_async/http/providers.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""Credentials for outbound requests: OAuth client credentials, Cognito, static tokens, API keys.

Each provider satisfies :class:`midil_common.auth.protocols.AuthProvider` (``get_headers()``
and ``invalidate()``), so ``HttpClient(auth=...)`` takes any of them, or a user's
own. Concurrent callers share one token request (a ``SingleFlight`` of the shell's primitives).
One source serves both shells: the sync module is generated from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from midil_common.auth.oauth import (
    MAX_TOKEN_RESPONSE_SIZE,
    TOKEN_RETRY_POLICY,
    AccessTokenCache,
    AuthMethod,
    ClientCredentials,
    check_credential,
    cognito_token_url,
    parse_token_response,
)
from midil_common.auth.service_settings import client_credentials_kwargs, cognito_client_kwargs
from midil_common.auth.tokens import AccessToken
from midil_common.errors import ConfigError, TokenRequestError, TransportError
from midil_common.http.prepare import TimeoutInput
from midil_common.http.retry import RetryPolicy
from midil_common.http.urls import masked_url
from midil_sync._primitives import SingleFlight, StateLock
from midil_sync.http.client import HttpClient

if TYPE_CHECKING:
    from midil_common.settings import MidilSettings

__all__ = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "StaticTokenProvider",
]

logger = logging.getLogger("midil.auth")


class ClientCredentialsProvider:
    """Service-to-service tokens from an OAuth 2.0 token endpoint (``client_credentials`` grant).

    The first token is fetched on first use and cached; it is refreshed ``min(60 s, 10 %)`` of its
    lifetime before it expires (or ``refresh_leeway`` seconds when given). Concurrent threads
    asking at once cause one token request. Endpoint errors raise ``TokenRequestError`` carrying the
    OAuth ``error`` and ``error_description``, never the secret. ``clock`` (Unix time) is injectable
    for tests.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | Iterable[str] | None = None,
        audience: str | None = None,
        resource: str | None = None,
        auth_method: AuthMethod = "client_secret_basic",
        refresh_leeway: float | None = None,
        timeout: TimeoutInput = 10.0,
        retry: RetryPolicy | None = TOKEN_RETRY_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = ClientCredentials(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scope=ClientCredentials.join_scope(scope),
            audience=audience,
            resource=resource,
            auth_method=auth_method,
        )
        self._cache = AccessTokenCache(refresh_leeway=refresh_leeway)
        self._clock = clock
        self._flight = SingleFlight()
        self._state_lock = StateLock()  # around the cache: a fetch stores while others invalidate
        self._http = HttpClient(
            timeout=timeout,
            retry=retry,
            follow_redirects=False,
            max_response_size=MAX_TOKEN_RESPONSE_SIZE,
        )

    @classmethod
    def from_settings(cls, settings: MidilSettings | None = None) -> ClientCredentialsProvider:
        """A provider configured by the ``service_auth`` section (``MIDIL_SERVICE_AUTH__...``).

        ``token_url`` wins over ``cognito_domain``; a missing value raises ``ConfigError`` naming it.
        Its token requests take the ``MIDIL_HTTP__`` timeouts, and the retry settings that are set
        (:func:`midil_common.auth.service_settings.token_request_kwargs`).
        """
        return ClientCredentialsProvider(**client_credentials_kwargs(settings))

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self._credentials.token_url

    @property
    def client_id(self) -> str:
        """The OAuth client id."""
        return self._credentials.client_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_url={masked_url(self._credentials.token_url)!r}, "
            f"client_id={self._credentials.client_id!r}, client_secret='***')"
        )

    def get_token(self) -> AccessToken:
        """A valid token: the cached one, or a new one fetched once for all concurrent callers."""
        token = self._cache.current(self._clock())
        if token is not None:
            return token
        fetched = self._flight.run(self._fetch_unless_fresh)
        assert fetched is not None
        return fetched

    def _fetch_unless_fresh(self) -> AccessToken:
        # Re-checked inside the flight: the run this caller waited for may have fetched already.
        token = self._cache.current(self._clock())
        return token if token is not None else self._fetch()

    def get_headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer ..."}`` with a valid token."""
        return {"Authorization": (self.get_token()).authorization_header()}

    def invalidate(self) -> None:
        """Forget the cached token, so the next request fetches a new one."""
        with self._state_lock:
            self._cache.invalidate()

    def _fetch(self) -> AccessToken:
        credentials = self._credentials
        try:
            response = self._http.request(
                "POST",
                credentials.token_url,
                data=credentials.form(),
                headers=credentials.headers(),
            )
        except TransportError as exc:
            raise TokenRequestError(
                f"cannot reach the token endpoint for {credentials.describe()}"
            ) from exc
        now = self._clock()
        token = parse_token_response(response, now=now, redact=credentials.secret_forms())
        with self._state_lock:
            self._cache.store(token, now)
        logger.debug(
            "fetched a token for %s",
            credentials.describe(),
            extra={"client_id": credentials.client_id},
        )
        return token

    def close(self) -> None:
        """Close the connections to the token endpoint."""
        self._http.close()

    def __enter__(self) -> ClientCredentialsProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CognitoClientCredentialsAuthenticator(ClientCredentialsProvider):
    """The Cognito preset: tokens from ``https://{cognito_domain}/oauth2/token``.

    ``cognito_domain`` is the user pool's domain (``x.auth.eu-west-1.amazoncognito.com`` or a custom
    one); a full URL is accepted too, e.g. a local server in tests.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        cognito_domain: str,
        *,
        scope: str | Iterable[str] | None = None,
        refresh_leeway: float | None = None,
        timeout: TimeoutInput = 10.0,
        retry: RetryPolicy | None = TOKEN_RETRY_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            cognito_token_url(cognito_domain),
            client_id,
            client_secret,
            scope=scope,
            auth_method="client_secret_basic",
            refresh_leeway=refresh_leeway,
            timeout=timeout,
            retry=retry,
            clock=clock,
        )

    @classmethod
    def from_settings(
        cls, settings: MidilSettings | None = None
    ) -> CognitoClientCredentialsAuthenticator:
        """The preset configured by ``MIDIL_SERVICE_AUTH__COGNITO_DOMAIN``, ``__CLIENT_ID``, ...,
        its token requests tuned by ``MIDIL_HTTP__...`` as :meth:`ClientCredentialsProvider.from_settings`."""
        return cls(**cognito_client_kwargs(settings))


class StaticTokenProvider:
    """A fixed bearer token (from configuration or another system); ``invalidate()`` does nothing."""

    def __init__(self, token: str, *, token_type: str = "Bearer") -> None:
        check_credential(token, "token")
        check_credential(token_type, "token_type")
        self._header = f"{token_type} {token}"

    def __repr__(self) -> str:
        return "StaticTokenProvider(token='***')"

    def get_headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}``."""
        return {"Authorization": self._header}

    def invalidate(self) -> None:
        """Nothing to refresh: a static token stays what it is."""


class APIKeyProvider:
    """An API key sent in a header (``X-API-Key`` by default); ``invalidate()`` does nothing."""

    def __init__(self, key: str, header: str = "X-API-Key") -> None:
        check_credential(key, "key")
        if not header or any(c in header for c in " :\r\n"):
            raise ConfigError("header must be a valid header name")
        self._key = key
        self.header = header

    def __repr__(self) -> str:
        return f"APIKeyProvider(header={self.header!r}, key='***')"

    def get_headers(self) -> dict[str, str]:
        """``{header: key}``."""
        return {self.header: self._key}

    def invalidate(self) -> None:
        """Nothing to refresh: the key stays what it is."""

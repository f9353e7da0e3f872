# Generated from midil_async/auth/oauth_client.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""``OAuthClient``: the client side of any OAuth 2.0 / OpenID Connect issuer.

Discovery (cached), refresh, revocation (RFC 7009), introspection (RFC 7662), userinfo, client
credentials and the password grant, over the kit's own ``HttpClient``. Every request and reading is
the core's (:mod:`midil_common.auth.oauth_flows`). One source serves both shells: the sync module is
generated from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from midil_common.auth.discovery import DiscoveryDocument, discovery_url, parse_discovery
from midil_common.auth.oauth import MAX_TOKEN_RESPONSE_SIZE, TOKEN_RETRY_POLICY, AuthMethod
from midil_common.auth.oauth import parse_token_response as _parse_token
from midil_common.auth.oauth_flows import (
    Introspection,
    OAuthApp,
    endpoint,
    parse_introspection,
    parse_revocation,
    parse_userinfo,
)
from midil_common.auth.service_settings import oauth_client_kwargs
from midil_common.auth.tokens import AccessToken
from midil_common.errors import JWKSFetchError, TokenRequestError, TransportError
from midil_common.http.prepare import TimeoutInput
from midil_common.http.retry import RetryPolicy
from midil_common.http.types import Response
from midil_sync._primitives import SingleFlight, StateLock
from midil_sync.http.client import HttpClient

if TYPE_CHECKING:
    from midil_common.settings import MidilSettings

__all__ = ["OAuthClient"]


class OAuthClient:
    """A client of one OAuth 2.0 / OpenID Connect issuer.

    The endpoints come from ``{issuer}/.well-known/openid-configuration``, fetched on first use
    and cached (once for all concurrent callers). Token-endpoint errors raise ``TokenRequestError``
    with the OAuth ``error`` and ``error_description``; the secret never appears in them.

    Args:
        issuer: the issuer URL (https, or http to a loopback host).
        client_id: the client id.
        client_secret: the secret of a confidential client (None: a public client).
        auth_method: ``client_secret_basic`` (default) or ``client_secret_post``.
        timeout: the timeout of each request.
        retry: the retry policy of each request.
        clock: Unix time, for the ``expires_at`` of tokens.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        auth_method: AuthMethod = "client_secret_basic",
        timeout: TimeoutInput = 10.0,
        retry: RetryPolicy | None = TOKEN_RETRY_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = OAuthApp(issuer, client_id, client_secret, auth_method)
        self._http = HttpClient(
            timeout=timeout,
            retry=retry,
            follow_redirects=False,
            max_response_size=MAX_TOKEN_RESPONSE_SIZE,
        )
        self._clock = clock
        self._document: DiscoveryDocument | None = None
        self._flight = SingleFlight()
        self._state_lock = StateLock()

    @classmethod
    def from_settings(cls, settings: MidilSettings | None = None, **overrides: Any) -> OAuthClient:
        """A client of ``MIDIL_AUTH__ISSUER`` as ``MIDIL_SERVICE_AUTH__CLIENT_ID`` (with
        ``__CLIENT_SECRET`` when it is confidential, and ``__AUTH_METHOD``), its requests taking the
        ``MIDIL_HTTP__`` timeouts and the retry settings that are set (read from the environment
        when None). Keyword ``overrides`` (``issuer=``, ``clock=``, ...) win and stand in for
        missing settings; a required setting missing raises ``ConfigError`` naming its variable."""
        return cls(**oauth_client_kwargs(settings, overrides))

    @property
    def issuer(self) -> str:
        """The issuer URL."""
        return self._app.issuer

    @property
    def client_id(self) -> str:
        """The client id."""
        return self._app.client_id

    def __repr__(self) -> str:
        secret = ", client_secret='***'" if self._app.client_secret else ""
        return f"OAuthClient({self._app.issuer!r}, {self._app.client_id!r}{secret})"

    # ---------------------------------------------------------------------------- discovery

    def discover(self) -> DiscoveryDocument:
        """The issuer's discovery document (fetched once, then cached).

        Raises ``JWKSFetchError`` when it cannot be fetched or names another issuer.
        """
        document = self._document
        if document is not None:
            return document
        fetched = self._flight.run(self._fetch_document)
        assert fetched is not None
        return fetched

    def _fetch_document(self) -> DiscoveryDocument:
        if self._document is not None:
            return self._document
        url = discovery_url(self._app.issuer)
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except TransportError as exc:
            raise JWKSFetchError(f"cannot fetch the discovery document: {exc}") from exc
        document = parse_discovery(response, self._app.issuer)
        with self._state_lock:
            self._document = document
        return document

    # ---------------------------------------------------------------------------- grants

    def refresh(
        self, refresh_token: str, *, scope: str | Iterable[str] | None = None
    ) -> AccessToken:
        """New tokens for ``refresh_token`` (``grant_type=refresh_token``)."""
        form = self._app.refresh_form(refresh_token, self._app.scope_text(scope))
        return self._grant(form, (refresh_token,))

    def client_credentials(
        self, scope: str | Iterable[str] | None = None, *, audience: str | None = None
    ) -> AccessToken:
        """A token of the client itself (``grant_type=client_credentials``)."""
        form = self._app.client_credentials_form(self._app.scope_text(scope), audience)
        return self._grant(form, ())

    def password(
        self, username: str, password: str, *, scope: str | Iterable[str] | None = None
    ) -> AccessToken:
        """Tokens for a user's name and password (``grant_type=password``): deprecated by
        OAuth 2.0 Security BCP, for local development and tests (``LocalIssuer``) only."""
        form = self._app.password_form(username, password, self._app.scope_text(scope))
        return self._grant(form, (password,))

    def _grant(self, form: dict[str, str], secrets: tuple[str, ...]) -> AccessToken:
        url = endpoint(self.discover(), "token_endpoint")
        response = self._post(url, form, "token endpoint")
        return _parse_token(
            response, now=self._clock(), redact=(*self._app.secret_forms(), *secrets)
        )

    # ---------------------------------------------------------------------------- tokens

    def revoke(self, token: str, *, token_type_hint: str | None = None) -> None:
        """Revoke ``token`` (RFC 7009); an unknown token is not an error."""
        url = endpoint(self.discover(), "revocation_endpoint")
        response = self._post(
            url, self._app.token_form(token, token_type_hint), "revocation endpoint"
        )
        parse_revocation(response, (*self._app.secret_forms(), token))

    def introspect(self, token: str, *, token_type_hint: str | None = None) -> Introspection:
        """Ask the issuer whether ``token`` is active and what it carries (RFC 7662): the remote
        validation path for opaque tokens."""
        url = endpoint(self.discover(), "introspection_endpoint")
        response = self._post(
            url, self._app.token_form(token, token_type_hint), "introspection endpoint"
        )
        return parse_introspection(response, (*self._app.secret_forms(), token))

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """The user's claims from the userinfo endpoint; ``InvalidTokenError`` when the token is
        refused."""
        url = endpoint(self.discover(), "userinfo_endpoint")
        try:
            response = self._http.get(
                url,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except TransportError as exc:
            raise TokenRequestError(f"cannot reach the userinfo endpoint: {exc}") from exc
        return parse_userinfo(response, (access_token,))

    def _post(self, url: str, form: dict[str, str], what: str) -> Response:
        fields, headers = self._app.authenticated(form)
        try:
            return self._http.post(url, data=fields, headers=headers)
        except TransportError as exc:
            raise TokenRequestError(f"cannot reach the {what}: {exc}") from exc

    # ---------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

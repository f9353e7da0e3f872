"""An OAuth 2.0 / OpenID Connect client's requests and the reading of their answers, free of I/O:
refresh (RFC 6749 section 6), revocation (RFC 7009), introspection (RFC 7662), userinfo (OIDC Core
section 5.3), client credentials and the password grant (local development only).

The shells' ``OAuthClient`` sends what :class:`OAuthApp` builds and hands the answers to the parsers
here; token-endpoint errors become ``TokenRequestError`` with the OAuth ``error`` and
``error_description`` (the client secret and the credential of the request redacted from any
server text, in every encoding it may come back in).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from pydantic import BaseModel, ConfigDict, Field

from midil_common.auth.discovery import DiscoveryDocument, check_fetch_url, check_issuer_url
from midil_common.auth.oauth import (
    CLIENT_AUTH_METHODS,
    AuthMethod,
    ClientCredentials,
    redaction_forms,
    server_text,
)
from midil_common.errors import ConfigError, InvalidTokenError, TokenRequestError
from midil_common.http.types import Response
from midil_common.http.urls import safe_url

__all__ = [
    "Introspection",
    "OAuthApp",
    "endpoint",
    "oauth_error",
    "parse_introspection",
    "parse_revocation",
    "parse_userinfo",
]


class Introspection(BaseModel):
    """An introspection answer (RFC 7662): ``active`` and, for an active token, its claims."""

    model_config = ConfigDict(frozen=True)

    active: bool
    claims: dict[str, Any] = Field(default_factory=dict)

    @property
    def sub(self) -> str | None:
        """The subject, when the server said."""
        value = self.claims.get("sub")
        return value if isinstance(value, str) else None

    @property
    def client_id(self) -> str | None:
        """The client the token was issued to."""
        value = self.claims.get("client_id")
        return value if isinstance(value, str) else None

    @property
    def username(self) -> str | None:
        """The resource owner's user name."""
        value = self.claims.get("username")
        return value if isinstance(value, str) else None

    @property
    def exp(self) -> int | None:
        """The expiry (Unix time)."""
        value = self.claims.get("exp")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes."""
        value = self.claims.get("scope")
        return frozenset(value.split()) if isinstance(value, str) else frozenset()


@dataclass(frozen=True)
class OAuthApp:
    """An OAuth client of one issuer: how it authenticates and what each request carries.

    With a secret the client authenticates with ``auth_method`` (``client_secret_basic`` by
    default); without one it is a public client that sends its ``client_id`` in the form.
    """

    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    auth_method: AuthMethod = "client_secret_basic"

    def __post_init__(self) -> None:
        check_issuer_url(self.issuer)
        if not isinstance(self.client_id, str) or not self.client_id:
            raise ConfigError("client_id must be a non-empty string", variable="client_id")
        if self.client_secret is not None and not self.client_secret:
            raise ConfigError("client_secret must not be empty (or None)", variable="client_secret")
        if self.auth_method not in CLIENT_AUTH_METHODS:
            raise ConfigError(f"auth_method must be one of {', '.join(CLIENT_AUTH_METHODS)}")

    def authenticated(self, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """``form`` and the headers of a request to the token, revocation or introspection
        endpoint, with the client's authentication."""
        fields = {k: v for k, v in form.items() if v is not None}
        headers = {"Accept": "application/json"}
        if self.client_secret is None:
            fields["client_id"] = self.client_id
        elif self.auth_method == "client_secret_post":
            fields["client_id"] = self.client_id
            fields["client_secret"] = self.client_secret
        else:
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return fields, headers

    def secret_forms(self) -> tuple[str, ...]:
        """The forms in which the secret leaves this process (redacted from server text)."""
        if self.client_secret is None:
            return ()
        return ClientCredentials(
            token_url=self.issuer, client_id=self.client_id, client_secret=self.client_secret
        ).secret_forms()

    @staticmethod
    def scope_text(scope: str | Iterable[str] | None) -> str | None:
        """``scope`` as the space-separated string of a form (None when empty)."""
        return ClientCredentials.join_scope(scope)

    def refresh_form(self, refresh_token: str, scope: str | None) -> dict[str, str]:
        """``grant_type=refresh_token``."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            form["scope"] = scope
        return form

    def client_credentials_form(self, scope: str | None, audience: str | None) -> dict[str, str]:
        """``grant_type=client_credentials`` (needs a client secret)."""
        if self.client_secret is None:
            raise ConfigError("client_credentials needs a client_secret", variable="client_secret")
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        if audience:
            form["audience"] = audience
        return form

    def password_form(self, username: str, password: str, scope: str | None) -> dict[str, str]:
        """``grant_type=password`` (RFC 6749 section 4.3; deprecated, for local development)."""
        form = {"grant_type": "password", "username": username, "password": password}
        if scope:
            form["scope"] = scope
        return form

    def token_form(self, token: str, token_type_hint: str | None) -> dict[str, str]:
        """The form of a revocation or introspection request."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        return form


def endpoint(document: DiscoveryDocument, name: str) -> str:
    """The URL of ``name`` (``token_endpoint``, ``revocation_endpoint``, ...) in the discovery
    document; ``TokenRequestError`` when the issuer advertises none, or one that is neither https
    nor http to a loopback host.

    Every endpoint read here receives a credential (the client secret, a grant, a token), so it
    is held to the rule the document's ``jwks_uri`` already meets: the document itself came over
    https, but nothing else makes its endpoints do so.
    """
    url = getattr(document, name, None)
    if not isinstance(url, str) or not url:
        raise TokenRequestError(f"the issuer {document.issuer!r} advertises no {name}")
    try:
        check_fetch_url(url, name)
    except ConfigError:
        # from None, and the URL not shown: the issuer's text is not ours to repeat, and the
        # caller only needs to know which field to fix.
        raise TokenRequestError(
            f"the issuer {document.issuer!r} advertises a {name} that is refused: credentials go "
            "only to https (http only to a loopback host such as 127.0.0.1)"
        ) from None
    return url


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content) if response.content.strip() else None
    except (ValueError, RecursionError):
        return None


def oauth_error(response: Response, what: str, redact: Iterable[str] = ()) -> TokenRequestError:
    """The ``TokenRequestError`` of a failed answer, with its OAuth ``error`` fields; the strings
    of ``redact`` are removed from them in every encoding of
    :func:`~midil_common.auth.oauth.redaction_forms`."""
    doc = _json(response)
    secrets = redaction_forms(redact)

    def text(name: str) -> str | None:
        return server_text(doc.get(name), secrets) if isinstance(doc, Mapping) else None

    error, description = text("error"), text("error_description")
    message = f"the {what} at {safe_url(response.url)} answered {response.status_code}"
    if error:
        message += f": {error}"
    if description:
        message += f" ({description})"
    return TokenRequestError(
        message, error=error, error_description=description, status_code=response.status_code
    )


def parse_revocation(response: Response, redact: Iterable[str] = ()) -> None:
    """Nothing for a successful revocation (RFC 7009 section 2.2: 200, also for an unknown
    token), else ``TokenRequestError``."""
    if response.status_code != 200:
        raise oauth_error(response, "revocation endpoint", redact)


def parse_introspection(response: Response, redact: Iterable[str] = ()) -> Introspection:
    """The :class:`Introspection` of an answer; ``TokenRequestError`` for a failed or invalid one."""
    if response.status_code != 200:
        raise oauth_error(response, "introspection endpoint", redact)
    doc = _json(response)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("active"), bool):
        raise TokenRequestError(
            f"the introspection endpoint at {safe_url(response.url)} answered without 'active'",
            status_code=response.status_code,
        )
    active = doc["active"]
    claims = {k: v for k, v in doc.items() if k != "active"} if active else {}
    return Introspection(active=active, claims=claims)


def parse_userinfo(response: Response, redact: Iterable[str] = ()) -> dict[str, Any]:
    """The claims of a userinfo answer; ``InvalidTokenError`` when the access token is refused
    (401/403), ``TokenRequestError`` for another failure (``redact``, the access token, removed
    from its server text)."""
    if response.status_code in (401, 403):
        raise InvalidTokenError("the userinfo endpoint refused the access token")
    if response.status_code != 200:
        raise oauth_error(response, "userinfo endpoint", redact)
    doc = _json(response)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("sub"), str):
        raise TokenRequestError(
            f"the userinfo endpoint at {safe_url(response.url)} answered without a 'sub'",
            status_code=response.status_code,
        )
    return dict(doc)

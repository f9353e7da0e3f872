"""OIDC discovery and JWKS fetching rules: which requests to send and how to read the answers.

Limits: HTTPS is required except for loopback hosts, redirects are not followed, bodies are capped,
timeouts are short (connect 1.5 s, read 3 s) and a connection error gets one quick retry.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from midil_common import __version__
from midil_common.auth.keys import KeySet
from midil_common.errors import ConfigError, JWKSFetchError, TransportError
from midil_common.http.types import Headers, Request, Response, Timeout
from midil_common.http.urls import check_url, safe_url, url_host

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_JWKS_SIZE",
    "DiscoveryDocument",
    "check_fetch_url",
    "check_issuer_url",
    "discovery_url",
    "fetch_request",
    "is_loopback_url",
    "parse_discovery",
    "parse_jwks_response",
    "response_max_age",
    "retry_delay",
]

DEFAULT_FETCH_TIMEOUT = Timeout(connect=1.5, read=3.0, write=3.0, pool=1.5)
DEFAULT_MAX_JWKS_SIZE = 512 * 1024
QUICK_RETRY_DELAY = 0.05
_MAX_AGE = re.compile(r"(?:^|[,\s])(no-store|no-cache|max-age\s*=\s*\"?(\d{1,10})\"?)", re.I)
_USER_AGENT = f"midil-kit/{__version__}"


class DiscoveryDocument(BaseModel):
    """The members of an OpenID Provider's discovery document that the kit reads."""

    model_config = ConfigDict(extra="allow", frozen=True)

    issuer: str
    jwks_uri: str | None = None
    token_endpoint: str | None = None
    authorization_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    end_session_endpoint: str | None = None
    scopes_supported: list[str] | None = None
    grant_types_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] | None = None
    id_token_signing_alg_values_supported: list[str] | None = None


def discovery_url(issuer: str) -> str:
    """``{issuer}/.well-known/openid-configuration`` (OIDC Discovery 1.0, section 4)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is ``localhost`` or a loopback address."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_fetch_url(url: str, what: str = "JWKS URL") -> str:
    """``url`` if it may be fetched: ``https``, or ``http`` to a loopback host; else ``ConfigError``.

    The URL first passes :func:`~midil_common.http.urls.check_url`, so the host this rule reads
    is the host every HTTP library connects to.
    """
    check_url(url, what=what)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and is_loopback_url(url)):
        return url
    raise ConfigError(
        f"the {what} must use https (http only for loopback hosts such as 127.0.0.1)",
        variable=what,
    )


def check_issuer_url(issuer: str) -> str:
    """``issuer`` if its discovery document can be fetched, else a ``ConfigError`` naming the
    ``issuer`` argument, its scheme and host (never its user info, path or query) and the fix
    (without ``jwks_url``, keys are found through ``{issuer}/.well-known/openid-configuration``,
    so the issuer must be an https URL)."""
    try:
        check_fetch_url(discovery_url(issuer), "issuer")
    except ConfigError as exc:
        problem = str(exc)
    else:
        return issuer
    # The URL is shown as its scheme and host alone, and the example is built from the host: the
    # user info, path or query may hold a password. Raised outside the except block, so no chain
    # keeps the URL either.
    if "://" in issuer:
        host = url_host(issuer)
        host = host if _PLAIN_HOST.fullmatch(host) else ""
        scheme = issuer.partition("://")[0]
        scheme = scheme if _SCHEME.fullmatch(scheme) else "..."
        shown = f"{scheme}://{host or '...'}"
    else:
        # No scheme: a bare host or path (a typo) is shown as it is, as it can hold neither user
        # info nor a query; anything else is not.
        host = issuer.strip("/").partition("/")[0]
        host = host if _PLAIN_HOST.fullmatch(host) else ""
        shown = issuer if _PLAIN_TEXT.fullmatch(issuer) else "(not shown)"
    raise ConfigError(
        f"issuer {shown!r} cannot be used to find the keys ({problem}); give the issuer exactly "
        f"as its tokens' iss claim has it, an https URL such as "
        f"'https://{host or 'issuer.example'}', or pass jwks_url=",
        variable="issuer",
    )


# What the message may show and the example may be built from: a host name or IP literal with an
# optional port, a scheme-less value without ':', '@', '?', '#', '%' or '=', and a URL scheme.
_PLAIN_HOST = re.compile(
    r"[A-Za-z0-9.\-]{1,80}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?"
)
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9._~/\-]{1,80}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,15}")


def fetch_request(
    url: str,
    *,
    timeout: Timeout = DEFAULT_FETCH_TIMEOUT,
    max_size: int = DEFAULT_MAX_JWKS_SIZE,
) -> Request:
    """The GET request for a discovery document or key set (transports never follow redirects,
    so neither is taken from anywhere but ``url``)."""
    return Request(
        method="GET",
        url=url,
        headers=Headers({"Accept": "application/json", "User-Agent": _USER_AGENT}),
        timeout=timeout,
        max_body_size=max_size,
    )


def retry_delay(error: TransportError, attempt: int) -> float | None:
    """Delay before retrying a failed fetch, or None: one quick retry when nothing was sent."""
    if attempt == 1 and not error.request_sent:
        return QUICK_RETRY_DELAY
    return None


def _json_body(response: Response, what: str) -> Any:
    where = url_host(response.url)
    if response.status_code != 200:
        raise JWKSFetchError(f"the {what} at {where} answered {response.status_code}")
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        raise JWKSFetchError(f"the {what} at {where} is not JSON") from None


def parse_discovery(response: Response, expected_issuer: str) -> DiscoveryDocument:
    """Read a discovery response; its ``issuer`` must equal ``expected_issuer`` exactly."""
    body = _json_body(response, "discovery document")
    try:
        doc = DiscoveryDocument.model_validate(body)
    except ValidationError:
        raise JWKSFetchError(
            f"the discovery document at {url_host(response.url)} is not valid"
        ) from None
    if doc.issuer != expected_issuer:
        hint = (
            " (they differ only by a trailing '/': tokens carry the document's value, so use it)"
            if doc.issuer.rstrip("/") == expected_issuer.rstrip("/")
            else ""
        )
        raise JWKSFetchError(
            f"the discovery document names another issuer: expected {expected_issuer[:200]!r} "
            f"(the issuer argument), the document says {doc.issuer[:200]!r}{hint}"
        )
    if not doc.jwks_uri:
        raise JWKSFetchError("the discovery document has no jwks_uri")
    try:
        check_fetch_url(doc.jwks_uri, "jwks_uri")
    except ConfigError:
        raise JWKSFetchError("the discovery document's jwks_uri is not https") from None
    return doc


def response_max_age(headers: Headers) -> float | None:
    """``max-age`` of ``Cache-Control`` in seconds; 0 for ``no-store``/``no-cache``; else None."""
    value = headers.get("cache-control")
    if not value:
        return None
    for match in _MAX_AGE.finditer(value):
        if match.group(2) is not None:
            return float(match.group(2))
        return 0.0
    return None


def parse_jwks_response(response: Response) -> tuple[KeySet, float | None]:
    """The key set of a JWKS response and its ``max-age``; ``JWKSFetchError`` when unusable."""
    body = _json_body(response, "key set")
    try:
        keys = KeySet.from_jwks(body)
    except ValueError as exc:
        raise JWKSFetchError(
            f"the key set at {safe_url(response.url)} is unusable: {exc}"
        ) from None
    return keys, response_max_age(response.headers)

"""Where an inbound request carries its access token, and how to read it without guessing.

RFC 6750 section 2.1 with RFC 9110's credential grammar: the scheme is compared case-insensitively,
the header holds exactly one token68 after it, and a bare token without a scheme is not a bearer
credential. A header for another scheme (``Basic ...``) means "no bearer token", so the answer is the
plain challenge, while a ``Bearer`` header that is not exactly one well-formed token is a refused token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from midil_common.errors import MalformedTokenError

__all__ = ["TokenSource", "environ_key", "parse_authorization", "parse_raw_token"]

# RFC 9110 section 11.2: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
# DOTALL: servers pass a folded header's line break through, and a ``.*`` that stopped at it made
# ``fullmatch`` retry every split of a run of spaces (quadratic). The credentials are checked next.
_CREDENTIALS = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?: +(.*))?", re.DOTALL)
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TOKEN68_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"

# Beyond this an Authorization value cannot be a token any verifier accepts; refuse before any work.
MAX_TOKEN_LENGTH = 16 * 1024


def parse_raw_token(value: str) -> str:
    """Return ``value`` when it is exactly one token68, else raise ``MalformedTokenError``."""
    if len(value) > MAX_TOKEN_LENGTH:
        raise MalformedTokenError("the access token is too long")
    if _TOKEN68.fullmatch(value) is None:
        raise MalformedTokenError("the access token is not a single well-formed token")
    return value


def parse_authorization(value: str | None, scheme: str = "Bearer") -> str | None:
    """The token of an ``Authorization`` value for ``scheme``; None when the value holds no such token.

    Raises ``MalformedTokenError`` when the value names the scheme but does not carry exactly one
    well-formed token (``Bearer``, ``Bearer a b``, ``Bearer a"b``). The message never echoes the value.
    """
    if value is None:
        return None
    value = value.strip(" \t")
    if not value:
        return None
    # The common case, "<scheme> <token68>", checked in C without the general grammar below.
    n = len(scheme)
    if (
        len(value) > n + 1
        and value[n] == " "
        and value[:n].lower() == scheme.lower()
        and len(value) - n - 1 <= MAX_TOKEN_LENGTH
        and value.isascii()
    ):
        raw = value[n + 1 :].encode("ascii")
        body = raw.rstrip(b"=")
        if body and not body.translate(None, _TOKEN68_BYTES):
            return value[n + 1 :]
    match = _CREDENTIALS.fullmatch(value)
    if match is None:
        head = value.split(None, 1)[0] if value.split() else ""
        if head.lower() != scheme.lower():
            return None
        raise MalformedTokenError(f"malformed Authorization header for the {scheme} scheme")
    name_end = match.start(1) if match.group(1) is not None else len(value)
    if value[:name_end].rstrip(" ").lower() != scheme.lower():
        return None
    credentials = (match.group(1) or "").rstrip(" ")
    if not credentials:
        raise MalformedTokenError(f"the Authorization header names {scheme} but carries no token")
    return parse_raw_token(credentials)


def environ_key(header: str) -> str:
    """The WSGI/CGI environ key of a request header (``X-Access-Token`` -> ``HTTP_X_ACCESS_TOKEN``).

    Django's ``request.META`` and a WSGI ``environ`` hold headers under this key; reading it there
    skips the case-insensitive header views both frameworks build per request.
    """
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


@dataclass(frozen=True)
class TokenSource:
    """Where to look for the token, in order: a header, then (optionally) a cookie.

    ``header`` is the field name (``Authorization`` by default). With ``scheme`` set the field holds
    ``<scheme> <token>``; with ``scheme=None`` it holds the bare token (a custom header such as
    ``X-Access-Token``). ``cookie`` names a cookie holding the bare token, read only when the header
    is absent.
    """

    header: str = "Authorization"
    scheme: str | None = "Bearer"
    cookie: str | None = None
    environ_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "environ_key", environ_key(self.header))

    def extract(
        self,
        get_header: Callable[[str], str | None],
        get_cookie: Callable[[str], str | None] | None = None,
    ) -> str | None:
        """The token, None when the request carries none, or ``MalformedTokenError``."""
        return self.from_value(get_header(self.header), get_cookie)

    def from_value(
        self, value: str | None, get_cookie: Callable[[str], str | None] | None = None
    ) -> str | None:
        """Like :meth:`extract`, given the header's value (None when absent)."""
        if value is not None and value.strip(" \t"):
            if self.scheme is None:
                return parse_raw_token(value.strip(" \t"))
            token = parse_authorization(value, self.scheme)
            if token is not None:
                return token
        if self.cookie is not None and get_cookie is not None:
            raw = get_cookie(self.cookie)
            if raw:
                return parse_raw_token(raw)
        return None

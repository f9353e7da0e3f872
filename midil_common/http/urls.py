"""URL helpers: the one check every URL passes before the kit connects to it, and helpers that keep
secrets out of messages and logs.

Why :func:`check_url` is strict: ``urllib.parse`` follows RFC 3986, urllib3 and browsers follow the
WHATWG URL standard, and httpx has a parser of its own. On ``http://a\\@b/`` the first reads host
``b`` and the second host ``a``; a check done with one parser and a connection made with another
sends credentials to the wrong host. So the kit accepts only URLs whose host part all of them read
alike: an ASCII host name or IP literal and an optional port, nothing else (no user info, no ``\\``,
no ``%``, no control character or whitespace anywhere). A property test holds the three parsers to
agreement on every URL this function accepts.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from midil_common.errors import ConfigError, InvalidURLError

__all__ = [
    "MAX_URL_LENGTH",
    "ParamsInput",
    "check_url",
    "join_url",
    "origin",
    "safe_url",
    "url_host",
    "with_params",
]

MAX_URL_LENGTH = 65536
"""Longer URLs are refused before any parsing (servers commonly stop at 8 KiB anyway)."""

# scheme "://" authority, the authority ending at the first "/", "?" or "#" (RFC 3986 section 3.2).
_HEAD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_AUTHORITY = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]{2,45}\]|[^\[\]:]+)(?::(?P<port>[0-9]{1,5}))?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
# C0 controls, space, DEL; C1 controls; and Unicode whitespace/format characters outside ASCII.
_UNSAFE_CHAR = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)

ParamsInput = Mapping[str, object] | Iterable[tuple[str, object]] | None
"""Query parameters: a mapping (values may be lists) or a sequence of pairs."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_host(url: str) -> str:
    """``host[:port]`` of ``url`` without user info, for error messages."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2] or "<no host>"
    except ValueError:
        return "<invalid url>"


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment, which may carry secrets."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def masked_url(url: str, mask: str = "***") -> str:
    """``url`` with its user info, each query value and its fragment replaced by ``mask``: a URL
    may carry a password in any of them (``https://user:pw@host``, ``?client_secret=...``). The
    rest (scheme, host, path and the query's names) stays, as it says which endpoint is meant."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask
    netloc = parts.netloc
    if "@" in netloc:
        netloc = mask + "@" + netloc.rpartition("@")[2]
    # A component without "=" (``?s3cret``) is all value.
    query = "&".join(
        (f"{pair.partition('=')[0]}={mask}" if "=" in pair else mask) if pair else pair
        for pair in parts.query.split("&")
    )
    fragment = mask if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def join_url(base_url: str | None, url: str) -> str:
    """``url`` resolved against ``base_url`` without dropping the base's path segments.

    Unlike :func:`urllib.parse.urljoin`, ``join_url("https://h/api/v1", "/users")`` and
    ``join_url("https://h/api/v1/", "users")`` both give ``https://h/api/v1/users``: a client's base URL
    is a prefix, not a document to resolve against. An absolute ``url`` (with a scheme) is kept as is.
    """
    if not base_url or _is_absolute(url):
        if not _is_absolute(url):
            raise ConfigError(
                "a relative URL needs a base_url: give HttpClient(base_url=...) or pass an "
                "absolute URL",
                variable="url",
            )
        return url
    base = urlsplit(base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ConfigError("base_url must be an absolute http(s) URL")
    rel = urlsplit(url)
    path = base.path.rstrip("/") + "/" + rel.path.lstrip("/") if rel.path else base.path
    query = "&".join(q for q in (base.query, rel.query) if q)
    return urlunsplit((base.scheme, base.netloc, path or "/", query, rel.fragment))


def with_params(url: str, params: ParamsInput) -> str:
    """``url`` with ``params`` appended to its query (values may be lists; None values are left out)."""
    if not params:
        return url
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((str(key), _param_text(v)) for v in value if v is not None)
        else:
            pairs.append((str(key), _param_text(value)))
    if not pairs:
        return url
    head, sep, fragment = url.partition("#")
    joiner = "&" if "?" in head and not head.endswith(("?", "&")) else ("" if "?" in head else "?")
    return head + joiner + urlencode(pairs) + (sep + fragment)


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url`` with the default port filled in, to compare origins."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _is_absolute(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return bool(scheme) and "://" in url


def _param_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def check_url(url: object, *, what: str = "URL") -> str:
    """``url`` if the kit may connect to it, else :class:`~midil_common.errors.InvalidURLError`.

    Accepted: ``http``/``https``, an ASCII host name (``xn--`` for international names), an IPv4
    address or a bracketed IPv6 address, an optional port from 1 to 65535, and any path, query and
    fragment free of control characters and whitespace. Refused, because HTTP libraries disagree on
    them: user info (``user:pass@``), ``\\``, ``%`` or any other character in the host part, an
    empty port. ``what`` names the argument or setting in the message; the URL itself is never
    echoed, as it may carry a secret.
    """
    if not isinstance(url, str):
        raise InvalidURLError(
            f"the {what} must be a string, not {type(url).__name__}", variable=what
        )
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(
            f"the {what} is longer than {MAX_URL_LENGTH} characters", variable=what
        )
    bad = _UNSAFE_CHAR.search(url)
    if bad is not None:
        raise InvalidURLError(
            f"the {what} holds a control character ({bad.group()!r} at "
            f"position {bad.start()}); percent-encode it",
            variable=what,
        )
    head = _HEAD.match(url)
    if head is None:
        raise InvalidURLError(
            f"the {what} must be an absolute http(s) URL such as https://host/path", variable=what
        )
    scheme = head.group("scheme").lower()
    if scheme not in ("http", "https"):
        raise InvalidURLError(f"the {what} must use http or https, not {scheme!r}", variable=what)
    authority = head.group("authority")
    problem = _authority_problem(authority)
    if problem is not None:
        raise InvalidURLError(f"the {what} is refused: {problem}", variable=what)
    return url


@functools.lru_cache(maxsize=512)
def _authority_problem(authority: str) -> str | None:
    """Why ``authority`` is refused, or None when every parser reads it alike.

    Cached: a client talks to a handful of hosts, and this runs for every request."""
    if not authority:
        return "it has no host"
    if "\\" in authority:
        return "its host part holds a backslash"
    if "@" in authority:
        return "it holds user info (user:password@); pass credentials with auth= instead"
    if " " in authority:
        return "its host part holds a space"
    if not authority.isascii():
        return "its host is not ASCII; write an international name in its xn-- form"
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        return "its host part is not a host name or IP address with an optional port"
    host, port = match.group("host"), match.group("port")
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "its bracketed host is not an IPv6 address"
    elif _HOST.fullmatch(host) is None:
        return "its host holds a character other than letters, digits, '-', '_' and '.'"
    elif _NUMERIC_LABEL.fullmatch(host.rstrip(".").rpartition(".")[2]) and not _is_dotted_quad(
        host
    ):
        # WHATWG parsers read "0x7f.1" or "2130706433" as IPv4 addresses, RFC 3986 ones as names.
        return "its host looks like an IPv4 address but is not in dotted-decimal form (a.b.c.d)"
    if port is not None and not 0 < int(port) <= 65535:
        return "its port is not between 1 and 65535"
    if authority.endswith(":"):
        return "its port is empty"
    return None


def _is_dotted_quad(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False

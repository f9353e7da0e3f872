"""URL helpers that keep secrets out of messages and logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from midil_common.errors import ConfigError

__all__ = ["ParamsInput", "join_url", "origin", "safe_url", "url_host", "with_params"]

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


def join_url(base_url: str | None, url: str) -> str:
    """``url`` resolved against ``base_url`` without dropping the base's path segments.

    Unlike :func:`urllib.parse.urljoin`, ``join_url("https://h/api/v1", "/users")`` and
    ``join_url("https://h/api/v1/", "users")`` both give ``https://h/api/v1/users``: a client's base URL
    is a prefix, not a document to resolve against. An absolute ``url`` (with a scheme) is kept as is.
    """
    if not base_url or _is_absolute(url):
        if not _is_absolute(url):
            raise ConfigError(f"relative URL {url!r} needs a base_url")
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

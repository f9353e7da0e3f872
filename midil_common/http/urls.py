"""URL helpers that keep secrets out of messages and logs."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["safe_url", "url_host"]


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

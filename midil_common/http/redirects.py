"""Which redirects a client follows and what it sends to the next hop, decided once for both shells.

Rules (the same as browsers and httpx for the safe subset): only ``GET`` and ``HEAD`` follow a redirect,
only to ``http``/``https``, at most ``max_redirects`` hops; a hop to another origin (scheme, host or
port) drops ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and every header an auth provider
added, so credentials never reach a host they were not meant for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from urllib.parse import quote, urljoin, urlsplit

from midil_common.errors import InvalidResponseError, InvalidURLError, TooManyRedirectsError
from midil_common.http.types import Request, Response
from midil_common.http.urls import check_url, origin, safe_url, url_host

__all__ = [
    "CREDENTIAL_HEADERS",
    "FOLLOWED_METHODS",
    "TooManyRedirectsError",
    "next_hop",
    "redirect_target",
]

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

FOLLOWED_METHODS = frozenset({"GET", "HEAD"})
"""Methods whose redirects are followed; any other method gets the 3xx response back."""

CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
"""Headers removed on a cross-origin hop (plus the auth provider's own)."""


def next_hop(
    request: Request,
    response: Response,
    *,
    hops: int,
    max_redirects: int,
    sensitive_headers: Collection[str] = (),
) -> Request | None:
    """The request to send after ``response``, or None when the redirect is not followed.

    ``hops`` counts the redirects already followed for this request. Raises
    :class:`TooManyRedirectsError` when one more would exceed ``max_redirects``.
    """
    if not response.is_redirect or request.method not in FOLLOWED_METHODS:
        return None
    target = redirect_target(request, response)
    if target is None:
        return None
    if hops >= max_redirects:
        raise TooManyRedirectsError(
            f"more than {max_redirects} redirects from {safe_url(request.url)}", response=response
        )
    headers = request.headers
    if origin(target) != origin(request.url):
        headers = headers.without(*CREDENTIAL_HEADERS, *sensitive_headers)
    return dataclasses.replace(request, url=target.partition("#")[0], headers=headers, content=None)


def redirect_target(request: Request, response: Response) -> str | None:
    """The absolute URL a redirect points to; None for a scheme other than http(s), which is not
    followed (the 3xx is returned as is).

    A ``Location`` that cannot be resolved, is not UTF-8, or resolves to a URL that
    :func:`~midil_common.http.urls.check_url` refuses raises :class:`InvalidResponseError`: parsers
    disagree on such URLs, and following one could carry the request somewhere unintended.
    """
    where = url_host(request.url)
    location = response.headers["location"].strip()
    try:
        # Header values arrive as latin-1; servers that send a raw UTF-8 Location mean UTF-8.
        location = location.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise InvalidResponseError(
            f"the redirect from {where} has a Location that is not UTF-8"
        ) from None
    if not location.isascii():
        location = _NON_ASCII.sub(lambda m: quote(m.group(), safe=""), location)
    try:
        target = urljoin(response.url or request.url, location)
        scheme = urlsplit(target).scheme.lower()
    except ValueError:
        raise InvalidResponseError(
            f"the redirect from {where} has an unparseable Location"
        ) from None
    if scheme not in ("http", "https"):
        return None
    try:
        return check_url(target, what="redirect Location")
    except InvalidURLError as exc:
        raise InvalidResponseError(f"the redirect from {where} is not followed: {exc}") from None

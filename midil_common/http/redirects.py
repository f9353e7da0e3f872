"""Which redirects a client follows and what it sends to the next hop, decided once for both shells.

Rules (the same as browsers and httpx for the safe subset): only ``GET`` and ``HEAD`` follow a redirect,
only to ``http``/``https``, at most ``max_redirects`` hops; a hop to another origin (scheme, host or
port) drops ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and every header an auth provider
added, so credentials never reach a host they were not meant for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from urllib.parse import urljoin, urlsplit

from midil_common.errors import TooManyRedirectsError
from midil_common.http.types import Request, Response
from midil_common.http.urls import origin, safe_url

__all__ = ["CREDENTIAL_HEADERS", "FOLLOWED_METHODS", "TooManyRedirectsError", "next_hop"]

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
    target = urljoin(response.url or request.url, response.headers["location"].strip())
    if urlsplit(target).scheme not in ("http", "https"):
        return None
    if hops >= max_redirects:
        raise TooManyRedirectsError(
            f"more than {max_redirects} redirects from {safe_url(request.url)}", response=response
        )
    headers = request.headers
    if origin(target) != origin(request.url):
        headers = headers.without(*CREDENTIAL_HEADERS, *sensitive_headers)
    return dataclasses.replace(request, url=target.partition("#")[0], headers=headers, content=None)

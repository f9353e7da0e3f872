"""What both transports decide the same way: the CA bundle from the environment, the timeout of
each phase, the response-size cap, and which failure becomes which exception.

A transport (``midil_sync._transport`` over requests, ``midil_async._transport`` over httpx) only
translates: it asks this module, hands the answer to its library, and names the kind of failure
its library reported; the exception, its message and ``request_sent`` are built here once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from midil_common.errors import (
    ConnectError,
    InvalidResponseError,
    ResponseTooLargeError,
    TimeoutError,
    TransportError,
)
from midil_common.http.body import declared_length
from midil_common.http.types import Request, Timeout
from midil_common.http.urls import url_host

__all__ = [
    "CA_BUNDLE_VARIABLES",
    "DEFAULT_TIMEOUT",
    "BodyLimit",
    "Failure",
    "ca_bundle",
    "failure",
    "resolved_timeout",
]

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
"""The environment variables naming a CA bundle (a file) or directory, in order of precedence.

Both shells honour all four when ``verify=True``: requests' own two and OpenSSL's two, so a
deployment that sets any of them gets the same trust in both shells."""

DEFAULT_TIMEOUT = Timeout()
"""The timeout of each phase when a ``Timeout`` field is None: never infinite."""


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle the environment names (the first of :data:`CA_BUNDLE_VARIABLES` that is
    set and not empty), or None for the system's default trust store."""
    env = os.environ if environ is None else environ
    for name in CA_BUNDLE_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def resolved_timeout(timeout: Timeout) -> Timeout:
    """``timeout`` with every None replaced by the default of its phase."""
    return Timeout(
        connect=DEFAULT_TIMEOUT.connect if timeout.connect is None else timeout.connect,
        read=DEFAULT_TIMEOUT.read if timeout.read is None else timeout.read,
        write=DEFAULT_TIMEOUT.write if timeout.write is None else timeout.write,
        pool=DEFAULT_TIMEOUT.pool if timeout.pool is None else timeout.pool,
    )


Failure = Literal[
    "connect_timeout",
    "pool_timeout",
    "write_timeout",
    "read_timeout",
    "deadline",
    "deadline_before_sending",
    "connect",
    "connection",
    "body",
    "malformed_request",
    "malformed_body",
]
"""The kinds of failure a transport reports."""


def failure(kind: Failure, request: Request, detail: str = "") -> TransportError:
    """The exception for a failure of ``kind`` while exchanging ``request``.

    ``request_sent`` is False only for the kinds where no byte can have reached the server.
    ``detail`` (a library's exception class name) never carries a header value or a URL.
    """
    host = url_host(request.url)
    suffix = f": {detail}" if detail else ""
    if kind == "connect_timeout":
        return TimeoutError(f"connect timeout to {host}", phase="connect", request_sent=False)
    if kind == "pool_timeout":
        return TimeoutError(f"no free connection to {host}", phase="pool", request_sent=False)
    if kind == "write_timeout":
        return TimeoutError(f"write timeout to {host}", phase="write")
    if kind == "read_timeout":
        return TimeoutError(f"read timeout from {host}", phase="read")
    if kind == "deadline":
        return TimeoutError(f"deadline reached waiting for {host}", phase="deadline")
    if kind == "deadline_before_sending":
        return TimeoutError(
            f"deadline reached before sending to {host}", phase="deadline", request_sent=False
        )
    if kind == "connect":
        return ConnectError(f"cannot connect to {host}")
    if kind == "body":
        return TransportError(f"connection to {host} broke while reading{suffix}")
    if kind == "malformed_request":
        return TransportError(f"request to {host} failed: a header or the URL is malformed")
    if kind == "malformed_body":
        return TransportError(f"the response body from {host} is malformed")
    return TransportError(f"connection to {host} failed{suffix}")


@dataclass
class BodyLimit:
    """Enforces ``request.max_body_size`` on a response body as it is read."""

    request: Request
    size: int = 0

    def check_head(self, content_length: str | None) -> None:
        """Refuse a malformed ``Content-Length``, or one that declares more than the cap."""
        host = url_host(self.request.url)
        try:
            declared = declared_length(content_length)
        except ValueError as exc:
            raise InvalidResponseError(f"response from {host}: {exc}") from None
        limit = self.request.max_body_size
        if limit is not None and declared is not None and declared > limit:
            raise ResponseTooLargeError(
                f"response from {host} declares {declared} bytes, above the {limit} cap"
            )

    def add(self, chunk: bytes) -> bytes:
        """Count ``chunk``; raise once the body exceeds the cap."""
        self.size += len(chunk)
        limit = self.request.max_body_size
        if limit is not None and self.size > limit:
            raise ResponseTooLargeError(
                f"response from {url_host(self.request.url)} exceeds the {limit}-byte cap"
            )
        return chunk

"""The one place where ``midil_sync`` turns a core :class:`Request` into bytes on the wire (requests).

It sends exactly what it is given: no retries (urllib3's are off), no redirects unless the request asks,
a body read no further than ``max_body_size``, and every library exception mapped to the kit's
``TransportError`` family.
"""

from __future__ import annotations

import os
import time
import urllib.request
from typing import Any

import requests
import requests.adapters
import requests.auth
import urllib3.exceptions

from midil_common.errors import ConnectError, ResponseTooLargeError, TimeoutError, TransportError
from midil_common.http.types import Headers, Request, Response
from midil_common.http.urls import url_host

__all__ = ["Transport"]

_CHUNK = 64 * 1024


class _NoNetrc(requests.auth.AuthBase):
    """Leaves requests unchanged; as the session's auth it stops requests reading ~/.netrc."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class Transport:
    """Sends core requests over one pooled ``requests.Session``."""

    def __init__(
        self,
        *,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        pool_maxsize: int = 32,
    ) -> None:
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=0
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # Environment proxies only when no explicit proxy was given, as httpx does, and read once
        # here as httpx does: with trust_env, requests scans every environment variable twice and
        # looks for ~/.netrc on each request. It keeps trust_env only when the environment names
        # proxies, for its per-request NO_PROXY handling.
        env_proxies = urllib.request.getproxies() if proxy is None else {}
        self._session.trust_env = bool(env_proxies)
        if self._session.trust_env:
            # httpx never applies ~/.netrc credentials on its own; neither does this shell.
            self._session.auth = _NoNetrc()
        elif proxy is None and verify is True:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
        # Passed on every request too: with trust_env, requests lets REQUESTS_CA_BUNDLE override a
        # session-level CA bundle (psf/requests#3829), and a pinned CA must win over the environment.
        self._verify = verify
        self._cert = cert
        self._session.verify = verify
        if cert is not None:
            self._session.cert = cert
        if proxy is not None:
            self._session.proxies = {"http": proxy, "https": proxy}
        # The core decides every header; requests' own defaults would make the shells differ.
        self._session.headers.clear()

    def send(self, request: Request, *, body: Any = None) -> Response:
        """Send ``request`` and read its whole response (up to ``max_body_size``).

        ``body`` replaces ``request.content`` for bodies that are not bytes (a file, a generator).
        """
        started = time.monotonic()
        raw = self.open(request, body=body)
        try:
            content = _read_capped(raw, request)
        finally:
            raw.close()
        return Response(
            status_code=raw.status_code,
            headers=Headers(_header_items(raw)),
            content=content,
            url=raw.url,
            method=request.method,
            elapsed=time.monotonic() - started,
        )

    def open(self, request: Request, *, body: Any = None) -> requests.Response:
        """Send ``request`` and return the library response with its body unread (for streaming)."""
        timeout = request.timeout
        host = url_host(request.url)
        try:
            return self._session.request(
                request.method,
                request.url,
                headers=dict(request.headers.items_raw()),
                data=body if body is not None else request.content,
                timeout=(timeout.connect, timeout.read),
                allow_redirects=request.follow_redirects,
                stream=True,
                verify=self._verify,
                cert=self._cert,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise TimeoutError(
                f"connect timeout to {host}", phase="connect", request_sent=False
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise TimeoutError(f"read timeout from {host}", phase="read") from exc
        except requests.exceptions.ConnectionError as exc:
            raise _connection_error(host, exc) from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"request to {host} failed: {type(exc).__name__}") from exc

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


def iter_capped(raw: requests.Response, request: Request, chunk_size: int = _CHUNK) -> Any:
    """Yield the body of ``raw`` in chunks, mapping errors and enforcing ``max_body_size``."""
    limit = request.max_body_size
    host = url_host(request.url)
    declared = raw.headers.get("content-length")
    if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(
            f"response from {host} declares {declared} bytes, above the {limit} cap"
        )
    size = 0
    try:
        for chunk in raw.iter_content(chunk_size):
            size += len(chunk)
            if limit is not None and size > limit:
                raise ResponseTooLargeError(f"response from {host} exceeds the {limit}-byte cap")
            yield chunk
    except requests.exceptions.RequestException as exc:
        if _is_timeout(exc):
            raise TimeoutError(f"read timeout from {host}", phase="read") from exc
        raise TransportError(f"connection to {host} broke while reading") from exc


def _read_capped(raw: requests.Response, request: Request) -> bytes:
    return b"".join(iter_capped(raw, request))


def _header_items(raw: requests.Response) -> list[tuple[str, str]]:
    original = getattr(raw.raw, "headers", None)
    if isinstance(original, urllib3.HTTPHeaderDict):
        return list(original.iteritems())
    return list(raw.headers.items())


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (urllib3.exceptions.TimeoutError, requests.exceptions.Timeout)):
            return True
        if seen.args and isinstance(seen.args[0], BaseException):
            seen = seen.args[0]
        else:
            seen = seen.__cause__ or seen.__context__
    return False


def _connection_error(host: str, exc: requests.exceptions.ConnectionError) -> TransportError:
    """Tell a refused or unresolved connection (nothing sent) from one that broke after sending."""
    reason: object = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so it is tested first.
    if isinstance(
        inner, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)
    ):
        return ConnectError(f"cannot connect to {host}")
    if isinstance(inner, urllib3.exceptions.ConnectTimeoutError):
        return TimeoutError(f"connect timeout to {host}", phase="connect", request_sent=False)
    if _is_timeout(exc):
        return TimeoutError(f"read timeout from {host}", phase="read")
    return TransportError(f"connection to {host} failed")

"""The one place where ``midil_sync`` turns a core :class:`Request` into bytes on the wire (requests).

It sends exactly what it is given: no retries (urllib3's are off), no redirects unless the request asks,
a body read no further than ``max_body_size``, and every library exception mapped to the kit's
``TransportError`` family.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import time
import urllib.request
from typing import Any

import requests
import requests.adapters
import requests.auth
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

from midil_common.errors import (
    ConnectError,
    InvalidResponseError,
    ResponseTooLargeError,
    TimeoutError,
    TransportError,
)
from midil_common.http.body import declared_length, over_limit
from midil_common.http.types import Headers, Request, Response
from midil_common.http.urls import check_url, url_host
from midil_sync import _deadline

__all__ = ["RawResponse", "Transport", "head_of", "iter_capped", "response_headers"]

_CHUNK = 64 * 1024

RawResponse = requests.Response
"""The library's response with its body unread, as :meth:`Transport.open` returns it."""


class _NoNetrc(requests.auth.AuthBase):
    """Leaves requests unchanged; as the session's auth it stops requests reading ~/.netrc."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class _Watched:
    """Connection mixin: registers the socket with the deadline guard of the request in progress."""

    sock: Any
    _midil_guard: _deadline.Guard | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._midil_watch()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._midil_watch()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _midil_watch(self) -> None:
        guard = _deadline.CURRENT.get()
        if guard is not None:
            self._midil_guard = guard
            guard.watch(self.sock)


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _Released:
    """Pool mixin: a connection going back to the pool is no longer watched, so a late deadline
    can never shut a socket that already serves another request."""

    def _put_conn(self, conn: Any) -> None:
        guard = getattr(conn, "_midil_guard", None)
        if guard is not None:
            guard.cancel()
            conn._midil_guard = None
        super()._put_conn(conn)  # type: ignore[misc]


class _HTTPPool(_Released, urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_Released, urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter with pools whose connections honour ``Request.deadline``."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


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
        adapter = _Adapter(pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=0)
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
        # No cookie jar: a client of services keeps no state between requests, and a Set-Cookie
        # of one response never becomes a Cookie header of the next.
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def send(self, request: Request, *, body: Any = None) -> Response:
        """Send ``request`` and read its whole response (up to ``max_body_size``).

        ``body`` replaces ``request.content`` for bodies that are not bytes (a file, a generator).
        """
        started = time.monotonic()
        guard = _guard(request)
        try:
            raw = self._open(request, body, guard)
            try:
                content = _read_capped(raw, request)
            finally:
                raw.close()
            if guard is not None and guard.fired:
                # http.client takes an EOF in the head for its end: a cut exchange can look whole.
                raise _deadline_error(request)
        except TransportError:
            if guard is not None and guard.fired:
                raise _deadline_error(request) from None
            raise
        finally:
            if guard is not None:
                guard.cancel()
        return Response(
            status_code=raw.status_code,
            headers=response_headers(raw),
            content=content,
            url=raw.url,
            method=request.method,
            elapsed=time.monotonic() - started,
        )

    def open(self, request: Request, *, body: Any = None) -> requests.Response:
        """Send ``request`` and return the library response with its body unread (for streaming).

        ``request.deadline`` bounds the wait for the response head; the body is the caller's.
        """
        guard = _guard(request)
        try:
            return self._open(request, body, guard)
        finally:
            if guard is not None:
                guard.cancel()

    def _open(
        self, request: Request, body: Any, guard: _deadline.Guard | None
    ) -> requests.Response:
        check_url(request.url, what="request URL")
        timeout = request.timeout
        host = url_host(request.url)
        token = _deadline.CURRENT.set(guard)
        try:
            raw = self._session.request(
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
        except requests.exceptions.RequestException as exc:
            if guard is not None and guard.fired:
                raise _deadline_error(request) from None
            raise _mapped(exc, host) from _cause(exc)
        except (ValueError, UnicodeError, http.client.HTTPException):
            # What requests, urllib3 or http.client raise on a header value or a response they
            # cannot handle; their text may quote a header (a token), so it is not chained.
            raise TransportError(
                f"request to {host} failed: a header or the response is malformed"
            ) from None
        finally:
            _deadline.CURRENT.reset(token)
        if guard is not None and guard.fired:
            raw.close()
            raise _deadline_error(request)
        _check_head(raw, request)
        return raw

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


def _guard(request: Request) -> _deadline.Guard | None:
    """A deadline guard for ``request``, or None without a deadline; raises when it has passed."""
    if request.deadline is None:
        return None
    if request.deadline <= time.monotonic():
        raise TimeoutError(
            f"deadline reached before sending to {url_host(request.url)}",
            phase="deadline",
            request_sent=False,
        )
    return _deadline.Guard(request.deadline)


def _deadline_error(request: Request) -> TimeoutError:
    return TimeoutError(f"deadline reached waiting for {url_host(request.url)}", phase="deadline")


def _cause(exc: BaseException) -> BaseException | None:
    """The exception to chain: None for errors whose text may quote a header value."""
    if isinstance(exc, (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL)):
        return None
    if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
        return exc
    return None


def _mapped(exc: requests.exceptions.RequestException, host: str) -> TransportError:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TimeoutError(f"connect timeout to {host}", phase="connect", request_sent=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TimeoutError(f"read timeout from {host}", phase="read")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _connection_error(host, exc)
    return TransportError(f"request to {host} failed: {type(exc).__name__}")


def _check_head(raw: requests.Response, request: Request) -> None:
    """Refuse a response head the kit cannot act on safely (a malformed ``Content-Length``)."""
    try:
        declared_length(raw.headers.get("content-length"))
    except ValueError as exc:
        raw.close()
        raise InvalidResponseError(f"response from {url_host(request.url)}: {exc}") from None


def iter_capped(raw: requests.Response, request: Request, chunk_size: int = _CHUNK) -> Any:
    """Yield the body of ``raw`` in chunks, mapping errors and enforcing ``max_body_size``."""
    limit = request.max_body_size
    host = url_host(request.url)
    declared = over_limit(raw.headers.get("content-length"), limit)
    if declared is not None:
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
    except (ValueError, UnicodeError, http.client.HTTPException):
        raise TransportError(f"the response body from {host} is malformed") from None


def _read_capped(raw: requests.Response, request: Request) -> bytes:
    return b"".join(iter_capped(raw, request))


def response_headers(raw: requests.Response) -> Headers:
    """The headers of ``raw`` as received (repeated fields kept apart), as core ``Headers``."""
    original = getattr(raw.raw, "headers", None)
    if isinstance(original, urllib3.HTTPHeaderDict):
        return Headers(list(original.iteritems()))
    return Headers(list(raw.headers.items()))


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


def head_of(request: Request, raw: RawResponse) -> Response:
    """The status and headers of ``raw`` (body unread) as a core ``Response`` with an empty body."""
    return Response(raw.status_code, response_headers(raw), b"", raw.url, request.method)

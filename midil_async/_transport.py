"""The one place where ``midil_async`` turns a core :class:`Request` into bytes on the wire (httpx).

The async twin of ``midil_sync._transport``: same limits, same error mapping, same response type.
"""

from __future__ import annotations

import functools
import inspect
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import httpx

from midil_async._loop import LoopBound
from midil_async._primitives import DeadlineExceeded, within
from midil_common.errors import TransportError
from midil_common.http.proxies import ProxyRules
from midil_common.http.transport_rules import (
    BodyLimit,
    Failure,
    ca_bundle,
    failure,
    resolved_timeout,
)
from midil_common.http.types import Headers, Request, Response
from midil_common.http.urls import check_url

_T = TypeVar("_T")

__all__ = ["RawResponse", "Transport", "aiter_capped", "head_of", "response_headers"]

_CHUNK = 64 * 1024

RawResponse = httpx.Response
"""The library's response with its body unread, as :meth:`Transport.open` returns it."""


class Transport:
    """Sends core requests over pooled ``httpx.AsyncHTTPTransport`` connections.

    The kit calls httpx's transport layer directly, not an ``httpx.AsyncClient``: the core already
    decides headers, redirects, authentication and retries, and keeps no cookies, so the client's
    merging, cookie extraction and redirect building would only cost time per request (and its
    redirect builder raises on a ``Location`` it cannot parse).
    """

    def __init__(
        self,
        *,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        pool_maxsize: int = 32,
    ) -> None:
        limits = httpx.Limits(max_connections=pool_maxsize, max_keepalive_connections=pool_maxsize)
        if verify is True:
            verify = ca_bundle() or True  # the CA variables both shells honour
        context = _ssl_context(verify, cert)
        # trust_env=False: httpx would read proxy variables per client and SSL_CERT_FILE/DIR only;
        # the kit reads proxies once (ProxyRules) and every CA variable the sync shell honours.
        self._proxies = ProxyRules.explicit(proxy) if proxy else ProxyRules.from_environ()

        def new_pool(route: str | None) -> httpx.AsyncHTTPTransport:
            return httpx.AsyncHTTPTransport(
                verify=context, proxy=route, trust_env=False, limits=limits
            )

        self._new_pool = new_pool
        # Connections belong to one event loop: per loop, one pool per route (direct or a
        # proxy), all closed as that loop ends.
        self._pools: LoopBound[dict[str | None, httpx.AsyncHTTPTransport]] = LoopBound(
            dict, _close_pools
        )
        self._timeouts: dict[tuple[float | None, ...], dict[str, float | None]] = {}

    def _pool_for(self, url: str) -> httpx.AsyncHTTPTransport:
        route = self._proxies.proxy_for(url)
        pools = self._pools.get()
        pool = pools.get(route)
        if pool is None:
            pool = pools[route] = self._new_pool(route)
        return pool

    def _timeout(self, request: Request) -> dict[str, float | None]:
        timeout = resolved_timeout(request.timeout)
        key = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        found = self._timeouts.get(key)
        if found is None:
            if len(self._timeouts) > 64:  # per-request timeouts of every shape: stay bounded
                self._timeouts.clear()
            found = self._timeouts[key] = dict(
                zip(("connect", "read", "write", "pool"), key, strict=True)
            )
        return found

    async def send(self, request: Request, *, body: Any = None) -> Response:
        """Send ``request`` and read its whole response (up to ``max_body_size``).

        ``body`` replaces ``request.content`` for bodies that are not bytes (an async iterator).
        """
        started = time.monotonic()
        raw, chunks = await _within(request, self._exchange(request, body))
        return Response(
            status_code=raw.status_code,
            headers=response_headers(raw),
            content=b"".join(chunks),
            url=str(raw.url),
            method=request.method,
            elapsed=time.monotonic() - started,
        )

    async def _exchange(self, request: Request, body: Any) -> tuple[httpx.Response, list[bytes]]:
        raw = await self._open(request, body)
        try:
            chunks = [chunk async for chunk in aiter_capped(raw, request)]
        finally:
            await raw.aclose()
        return raw, chunks

    async def open(self, request: Request, *, body: Any = None) -> httpx.Response:
        """Send ``request`` and return the library response with its body unread (for streaming).

        ``request.deadline`` bounds the wait for the response head; the body is the caller's.
        """
        return await _within(request, self._open(request, body))

    async def _open(self, request: Request, body: Any) -> httpx.Response:
        check_url(request.url, what="request URL")
        try:
            pool = self._pool_for(request.url)
            built = httpx.Request(
                request.method,
                request.url,
                headers=list(request.headers.items_raw()),
                content=body if body is not None else request.content,
                extensions={"timeout": self._timeout(request)},
            )
        except (httpx.HTTPError, ValueError, UnicodeError):
            raise failure("malformed_request", request) from None
        try:
            raw = await pool.handle_async_request(built)
        except (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol):
            # h11 quotes the offending header (a token) in its message: not chained.
            raise failure("malformed_request", request) from None
        except httpx.HTTPError as exc:
            kind = _kind(exc)
            raise failure(kind, request, type(exc).__name__) from (
                exc if kind != "connection" else None
            )
        except OSError as exc:
            # httpcore's anyio backend lets some TLS alerts (a refused client certificate) escape
            # as a bare ssl.SSLError.
            raise failure("connection", request, type(exc).__name__) from exc
        except (ValueError, UnicodeError):
            raise failure("malformed_request", request) from None
        raw.request = built
        try:
            BodyLimit(request).check_head(raw.headers.get("content-length"))
        except TransportError:
            await raw.aclose()
            raise
        return raw

    async def aclose(self) -> None:
        """Close the pooled connections of the running loop."""
        await self._pools.aclose()


async def _close_pools(pools: dict[str | None, httpx.AsyncHTTPTransport]) -> None:
    for pool in list(pools.values()):
        await pool.aclose()


def response_headers(raw: httpx.Response) -> Headers:
    """The headers of ``raw`` as received (``Location`` included), as core ``Headers``."""
    return Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers.raw)


def _ssl_context(verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext | bool:
    """httpx 0.28 wants an ``SSLContext`` for a CA bundle or a client certificate.

    Contexts are shared by every client with the same settings (an ``SSLContext`` is meant to be
    shared): loading a CA bundle costs tens of milliseconds, which each new client paid. A file
    changed on disk (a rotated bundle or certificate) makes a new one.
    """
    files = [verify] if isinstance(verify, str) else []
    files += [cert] if isinstance(cert, str) else list(cert or ())
    return _shared_ssl_context(verify, cert, tuple(_signature(f) for f in files))


def _signature(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None  # loading it reports the error
    return (status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=16)
def _shared_ssl_context(
    verify: bool | str,
    cert: str | tuple[str, str] | None,
    signatures: tuple[tuple[int, int] | None, ...],
) -> ssl.SSLContext | bool:
    if verify is False:
        if cert is None:
            return False
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        context = ssl.create_default_context(
            cafile=verify if not os.path.isdir(verify) else None,
            capath=verify if os.path.isdir(verify) else None,
        )
    else:
        context = httpx.create_ssl_context()  # certifi's bundle, as httpx would load per pool
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        context.load_cert_chain(certfile, keyfile)
    return context


def _kind(exc: httpx.HTTPError) -> Failure:
    """The kind of failure httpx reported."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool_timeout"
    if isinstance(exc, httpx.WriteTimeout):
        return "write_timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "read_timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "connection"


async def aiter_capped(
    raw: httpx.Response, request: Request, chunk_size: int = _CHUNK
) -> AsyncIterator[bytes]:
    """Yield the body of ``raw`` in chunks, mapping errors and enforcing ``max_body_size``."""
    limit = BodyLimit(request)
    try:
        async for chunk in raw.aiter_bytes(chunk_size):
            yield limit.add(chunk)
    except httpx.TimeoutException as exc:
        raise failure("read_timeout", request) from exc
    except (httpx.HTTPError, OSError) as exc:
        raise failure("body", request) from exc
    except (ValueError, UnicodeError):
        raise failure("malformed_body", request) from None


async def _within(request: Request, work: Awaitable[_T]) -> _T:
    """Await ``work``, cancelled at ``request.deadline`` (a ``time.monotonic()`` instant)."""
    if request.deadline is not None and request.deadline <= time.monotonic():
        if inspect.iscoroutine(work):
            work.close()
        raise failure("deadline_before_sending", request)
    try:
        return await within(work, request.deadline)
    except DeadlineExceeded:
        raise failure("deadline", request) from None


def head_of(request: Request, raw: RawResponse) -> Response:
    """The status and headers of ``raw`` (body unread) as a core ``Response`` with an empty body."""
    return Response(raw.status_code, response_headers(raw), b"", str(raw.url), request.method)

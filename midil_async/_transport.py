"""The one place where ``midil_async`` turns a core :class:`Request` into bytes on the wire (httpx).

The async twin of ``midil_sync._transport``: same limits, same error mapping, same response type.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

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

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

_T = TypeVar("_T")

__all__ = ["RawResponse", "Transport", "aiter_capped", "head_of", "response_headers"]

_CHUNK = 64 * 1024

RawResponse = httpx.Response
"""The library's response with its body unread, as :meth:`Transport.open` returns it."""


class Transport:
    """Sends core requests over one pooled ``httpx.AsyncClient``."""

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
        # httpx reads nothing from the environment (trust_env=False): the core decides the proxy
        # of each request from the environment read once, here, as the sync shell does.
        self._proxies = ProxyRules.explicit(proxy) if proxy else ProxyRules.from_environ()

        def new_client(route: str | None) -> httpx.AsyncClient:
            client = httpx.AsyncClient(
                verify=context,
                proxy=route,
                trust_env=False,
                limits=limits,
                follow_redirects=False,
                event_hooks={"response": [_hold_location]},
                # No cookie jar: a client of services keeps no state between requests, and a
                # Set-Cookie of one response never becomes a Cookie header of the next.
                cookies=_no_cookies(),
            )
            # The core decides every header; httpx's own defaults would make the shells differ.
            client.headers.clear()
            return client

        self._new_client = new_client
        # Connections belong to one event loop: per loop, one client per route (direct or a
        # proxy), all closed as that loop ends.
        self._clients: LoopBound[dict[str | None, httpx.AsyncClient]] = LoopBound(
            dict, _close_clients
        )

    def _client_for(self, url: str) -> httpx.AsyncClient:
        route = self._proxies.proxy_for(url)
        clients = self._clients.get()
        client = clients.get(route)
        if client is None:
            client = clients[route] = self._new_client(route)
        return client

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
        timeout = resolved_timeout(request.timeout)
        try:
            client = self._client_for(request.url)
            built = client.build_request(
                request.method,
                request.url,
                headers=list(request.headers.items_raw()),
                content=body if body is not None else request.content,
                timeout=httpx.Timeout(
                    connect=timeout.connect,
                    read=timeout.read,
                    write=timeout.write,
                    pool=timeout.pool,
                ),
            )
        except (httpx.HTTPError, ValueError, UnicodeError):
            raise failure("malformed_request", request) from None
        try:
            raw = await client.send(built, stream=True, follow_redirects=request.follow_redirects)
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
        try:
            BodyLimit(request).check_head(raw.headers.get("content-length"))
        except TransportError:
            await raw.aclose()
            raise
        return raw

    async def aclose(self) -> None:
        """Close the pooled connections of the running loop."""
        await self._clients.aclose()


def _no_cookies() -> CookieJar:
    from http.cookiejar import CookieJar, DefaultCookiePolicy  # here: only when a client is made

    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


async def _close_clients(clients: dict[str | None, httpx.AsyncClient]) -> None:
    for client in list(clients.values()):
        await client.aclose()


async def _hold_location(response: httpx.Response) -> None:
    """Move ``Location`` out of httpx's sight: httpx builds the next request of every redirect,
    even one it does not follow, and raises on a ``Location`` it cannot parse (or turns its user
    info into ``Authorization: Basic``). The kit decides redirects in its core, from the headers
    kept here."""
    if "location" in response.headers:
        response.extensions["midil_headers"] = list(response.headers.raw)
        del response.headers["location"]


def response_headers(raw: httpx.Response) -> Headers:
    """The headers of ``raw`` as received (``Location`` included), as core ``Headers``."""
    pairs = raw.extensions.get("midil_headers") or raw.headers.raw
    return Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs)


def _ssl_context(verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext | bool:
    """httpx 0.28 wants an ``SSLContext`` for a CA bundle or a client certificate."""
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
    elif cert is None:
        return True
    else:
        context = httpx.create_ssl_context()
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
        if asyncio.iscoroutine(work):
            work.close()
        raise failure("deadline_before_sending", request)
    try:
        return await within(work, request.deadline)
    except DeadlineExceeded:
        raise failure("deadline", request) from None


def head_of(request: Request, raw: RawResponse) -> Response:
    """The status and headers of ``raw`` (body unread) as a core ``Response`` with an empty body."""
    return Response(raw.status_code, response_headers(raw), b"", str(raw.url), request.method)

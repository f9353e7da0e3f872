"""The one place where ``midil_async`` turns a core :class:`Request` into bytes on the wire (httpx).

The async twin of ``midil_sync._transport``: same limits, same error mapping, same response type.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from midil_common.errors import ConnectError, ResponseTooLargeError, TimeoutError, TransportError
from midil_common.http.types import Headers, Request, Response
from midil_common.http.urls import url_host

__all__ = ["Transport"]

_CHUNK = 64 * 1024


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
        self._client = httpx.AsyncClient(
            verify=_ssl_context(verify, cert),
            proxy=proxy,
            trust_env=proxy is None,
            limits=limits,
            follow_redirects=False,
        )
        # The core decides every header; httpx's own defaults would make the shells differ.
        self._client.headers.clear()

    async def send(self, request: Request, *, body: Any = None) -> Response:
        """Send ``request`` and read its whole response (up to ``max_body_size``).

        ``body`` replaces ``request.content`` for bodies that are not bytes (an async iterator).
        """
        started = time.monotonic()
        raw = await self.open(request, body=body)
        try:
            chunks = [chunk async for chunk in aiter_capped(raw, request)]
        finally:
            await raw.aclose()
        return Response(
            status_code=raw.status_code,
            headers=Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers.raw),
            content=b"".join(chunks),
            url=str(raw.url),
            method=request.method,
            elapsed=time.monotonic() - started,
        )

    async def open(self, request: Request, *, body: Any = None) -> httpx.Response:
        """Send ``request`` and return the library response with its body unread (for streaming)."""
        timeout = request.timeout
        host = url_host(request.url)
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items_raw()),
            content=body if body is not None else request.content,
            timeout=httpx.Timeout(
                connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
            ),
        )
        try:
            return await self._client.send(
                built, stream=True, follow_redirects=request.follow_redirects
            )
        except httpx.ConnectTimeout as exc:
            raise TimeoutError(
                f"connect timeout to {host}", phase="connect", request_sent=False
            ) from exc
        except httpx.PoolTimeout as exc:
            raise TimeoutError(
                f"no free connection to {host}", phase="pool", request_sent=False
            ) from exc
        except httpx.WriteTimeout as exc:
            raise TimeoutError(f"write timeout to {host}", phase="write") from exc
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"read timeout from {host}", phase="read") from exc
        except httpx.ConnectError as exc:
            raise ConnectError(f"cannot connect to {host}") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"connection to {host} failed") from exc
        except OSError as exc:
            # httpcore's anyio backend lets some TLS alerts (a refused client certificate) escape
            # as a bare ssl.SSLError.
            raise TransportError(f"connection to {host} failed: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()


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


async def aiter_capped(
    raw: httpx.Response, request: Request, chunk_size: int = _CHUNK
) -> AsyncIterator[bytes]:
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
        async for chunk in raw.aiter_bytes(chunk_size):
            size += len(chunk)
            if limit is not None and size > limit:
                raise ResponseTooLargeError(f"response from {host} exceeds the {limit}-byte cap")
            yield chunk
    except httpx.TimeoutException as exc:
        raise TimeoutError(f"read timeout from {host}", phase="read") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise TransportError(f"connection to {host} broke while reading") from exc

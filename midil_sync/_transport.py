"""The one place where ``midil_sync`` turns a core :class:`Request` into bytes on the wire (requests).

It sends exactly what it is given: no retries (urllib3's are off), no redirects (the core follows
them), no cookie jar, a body read no further than ``max_body_size``, and every library failure
reported as a kind of :func:`midil_common.http.transport_rules.failure`.

Timeouts: ``connect``, ``read`` and ``write`` are honoured (the write timeout is set on the socket
while the request is sent), and ``Request.deadline`` bounds the whole exchange (a watchdog shuts the
socket down, see :mod:`midil_sync._deadline`). ``pool`` does not apply: this shell never waits for a
pooled connection, it opens another one when all are busy (urllib3's ``block=False``).
"""

from __future__ import annotations

import builtins
import contextvars
import http.client
import http.cookiejar
import time
from typing import Any

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

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
from midil_sync import _deadline

__all__ = ["RawResponse", "Transport", "head_of", "iter_capped", "response_headers"]

_CHUNK = 64 * 1024

RawResponse = requests.Response
"""The library's response with its body unread, as :meth:`Transport.open` returns it."""


_WRITE_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "midil_write_timeout", default=None
)
_WRITE_TIMED_OUT: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "midil_write_timed_out", default=None
)


class _Watched:
    """Connection mixin: registers the socket with the deadline guard of the request in progress,
    and sends the request under the write timeout (urllib3 would use the connect timeout)."""

    sock: Any
    _midil_guard: _deadline.Guard | None = None
    _midil_response: http.client.HTTPResponse | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._midil_watch()
        self._midil_write_timeout()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._midil_watch()
        self._midil_write_timeout()
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        except builtins.TimeoutError:
            flag = _WRITE_TIMED_OUT.get()
            if flag is not None:
                flag.append(True)
            raise

    def response_class(self, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        """http.client's response, remembered until urllib3 has wrapped it."""
        response = http.client.HTTPResponse(*args, **kwargs)
        self._midil_response = response
        return response

    def getresponse(self) -> Any:
        try:
            return super().getresponse()  # type: ignore[misc]
        except BaseException:
            # urllib3 closes a connection on the errors it expects, but not on a head it cannot
            # parse (``Content-Length: 5, 6`` raises while it wraps http.client's response, which
            # already owns the socket): both are closed here, not left to the garbage collector.
            if self._midil_response is not None:
                self._midil_response.close()
            self.close()  # type: ignore[attr-defined]
            raise
        finally:
            self._midil_response = None

    def _midil_write_timeout(self) -> None:
        write = _WRITE_TIMEOUT.get()
        if write is not None and self.sock is not None:
            self.sock.settimeout(write)

    def _midil_watch(self) -> None:
        guard = _deadline.CURRENT.get()
        if guard is not None:
            self._midil_guard = guard
            guard.watch(self.sock)


# http.client calls ``self.response_class(sock, method=...)``: a method serves as well as a class.
class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):  # type: ignore[misc]
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):  # type: ignore[misc]
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


class _Session(requests.Session):
    """requests' session without its redirect machinery: the core follows redirects."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        # With allow_redirects=False requests still builds Response.next, and reads the redirect's
        # whole body to do so, even with stream=True: a server could make us hold any amount of
        # memory, past the body cap. No target, nothing read.
        return None


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
        self._session = _Session()
        adapter = _Adapter(pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # requests reads nothing from the environment (no proxies, no ~/.netrc, no CA variables):
        # the core decides the proxy of each request from the environment read once, here, and the
        # CA bundle below, the same way as the async shell.
        self._session.trust_env = False
        self._proxies = ProxyRules.explicit(proxy) if proxy else ProxyRules.from_environ()
        if verify is True:
            verify = ca_bundle() or True  # the CA variables both shells honour
        # Passed on every request too: with trust_env, requests lets REQUESTS_CA_BUNDLE override a
        # session-level CA bundle (psf/requests#3829), and a pinned CA must win over the environment.
        self._verify = verify
        self._cert = cert
        self._session.verify = verify
        if cert is not None:
            self._session.cert = cert
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
                content = b"".join(iter_capped(raw, request))
            finally:
                raw.close()
            if guard is not None and guard.fired:
                # http.client takes an EOF in the head for its end: a cut exchange can look whole.
                raise failure("deadline", request)
        except TransportError:
            if guard is not None and guard.fired:
                raise failure("deadline", request) from None
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
        timeout = resolved_timeout(request.timeout)
        write_timed_out: list[bool] = []
        tokens = (
            _deadline.CURRENT.set(guard),
            _WRITE_TIMEOUT.set(timeout.write),
            _WRITE_TIMED_OUT.set(write_timed_out),
        )
        try:
            raw = self._session.request(
                request.method,
                request.url,
                headers=dict(request.headers.items_raw()),
                data=body if body is not None else request.content,
                timeout=(timeout.connect, timeout.read),
                allow_redirects=False,  # the core follows redirects, as in the async shell
                stream=True,
                verify=self._verify,
                cert=self._cert,
                proxies=_proxy_map(self._proxies.proxy_for(request.url)),
            )
        except requests.exceptions.RequestException as exc:
            if guard is not None and guard.fired:
                raise failure("deadline", request) from None
            kind = "write_timeout" if write_timed_out else _kind(exc)
            if kind == "malformed_request" or kind == "connection":
                # The text of these may quote a header value (a token): not chained.
                raise failure(kind, request, type(exc).__name__) from None
            # requests' and urllib3's text quotes the URL, path and query (an API key): the chain
            # holds the system's own reason alone ("[Errno 111] Connection refused").
            raise failure(kind, request) from _os_reason(exc)
        except (ValueError, UnicodeError, http.client.HTTPException):
            # What requests, urllib3 or http.client raise on a header value or a response they
            # cannot handle; their text may quote a header (a token), so it is not chained.
            raise failure("malformed_request", request) from None
        finally:
            for var, token in zip(
                (_deadline.CURRENT, _WRITE_TIMEOUT, _WRITE_TIMED_OUT), tokens, strict=True
            ):
                var.reset(token)  # type: ignore[attr-defined]
        if guard is not None and guard.fired:
            raw.close()
            raise failure("deadline", request)
        try:
            BodyLimit(request).check_head(raw.headers.get("content-length"))
        except TransportError:
            raw.close()
            raise
        return raw

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


def _proxy_map(proxy: str | None) -> dict[str, str]:
    return {"http": proxy, "https": proxy} if proxy else {}


def _guard(request: Request) -> _deadline.Guard | None:
    """A deadline guard for ``request``, or None without a deadline; raises when it has passed."""
    if request.deadline is None:
        return None
    if request.deadline <= time.monotonic():
        raise failure("deadline_before_sending", request)
    return _deadline.Guard(request.deadline)


def _kind(exc: requests.exceptions.RequestException) -> Failure:
    """The kind of failure requests reported."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read_timeout"
    if isinstance(exc, (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL)):
        return "malformed_request"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _connection_kind(exc)
    return "connection"


def _connection_kind(exc: requests.exceptions.ConnectionError) -> Failure:
    """Tell a refused or unresolved connection (nothing sent) from one that broke after sending."""
    reason: object = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so it is tested first.
    if isinstance(
        inner, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)
    ):
        return "connect"
    if isinstance(inner, urllib3.exceptions.ConnectTimeoutError):
        return "connect_timeout"
    if _is_timeout(exc):
        return "read_timeout"
    return "connection"


def _os_reason(exc: BaseException) -> OSError | None:
    """A fresh copy of the operating system's error under ``exc`` (refused, unreachable, a name
    that does not resolve), which names no URL; None when there is none."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if (
            isinstance(current, OSError)
            and current.errno is not None
            and type(current).__module__ in ("builtins", "socket")
        ):
            return type(current)(current.errno, current.strerror)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [arg for arg in current.args if isinstance(arg, BaseException)]
        todo += [item for item in linked if isinstance(item, BaseException)]
    return None


def iter_capped(raw: requests.Response, request: Request, chunk_size: int = _CHUNK) -> Any:
    """Yield the body of ``raw`` in chunks, mapping errors and enforcing ``max_body_size``."""
    limit = BodyLimit(request)
    try:
        for chunk in raw.iter_content(chunk_size):
            yield limit.add(chunk)
    except requests.exceptions.RequestException as exc:
        if _is_timeout(exc):
            raise failure("read_timeout", request) from exc
        raise failure("body", request) from exc
    except (ValueError, UnicodeError, http.client.HTTPException):
        raise failure("malformed_body", request) from None


def response_headers(raw: requests.Response) -> Headers:
    """The headers of ``raw`` as received (repeated fields kept apart), as core ``Headers``."""
    original = getattr(raw.raw, "headers", None)
    if isinstance(original, urllib3.HTTPHeaderDict):
        return Headers(list(original.iteritems()))
    return Headers(list(raw.headers.items()))


def head_of(request: Request, raw: RawResponse) -> Response:
    """The status and headers of ``raw`` (body unread) as a core ``Response`` with an empty body."""
    return Response(raw.status_code, response_headers(raw), b"", raw.url, request.method)


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

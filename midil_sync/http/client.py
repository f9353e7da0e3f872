# Generated from midil_async/http/client.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""``HttpClient``: outbound HTTP with the core's retries, redirects and auth.

Every decision comes from :mod:`midil_common.http` (``ClientPolicy`` and ``Attempts``); this module
sends, sleeps and locks. One source serves both shells: the async module is written by hand and
the sync one generated from it by ``scripts/unasync.py``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from midil_common.errors import TransportError
from midil_common.http.body import FilesInput
from midil_common.http.hooks import HeaderHook
from midil_common.http.prepare import (
    ClientPolicy,
    PreparedRequest,
    TimeoutInput,
    basic_auth_headers,
    check_auth_provider,
    client_settings,
)
from midil_common.http.retry import (
    Reauthenticate,
    Retry,
    RetryPolicy,
    Stop,
    credentials_still_current,
)
from midil_common.http.types import HeadersInput, Request, Response
from midil_common.http.urls import ParamsInput, masked_url
from midil_sync._primitives import IS_ASYNC, Lock, StateLock, sleep
from midil_sync._transport import RawResponse, Transport, head_of, iter_capped

if TYPE_CHECKING:
    from midil_common.auth.protocols import AuthProvider
    from midil_common.settings import MidilSettings

__all__ = ["DEFAULT_RETRY", "HttpClient", "StreamingResponse"]

DEFAULT_RETRY = RetryPolicy()
"""The policy a client uses unless told otherwise (``retry=None`` turns retries off)."""


class StreamingResponse:
    """A response whose body is read in chunks with :meth:`iter_bytes` (from ``HttpClient.stream``)."""

    def __init__(self, raw: RawResponse, request: Request) -> None:
        head = head_of(request, raw)
        self._raw = raw
        self._request = request
        self.status_code: int = head.status_code
        self.headers = head.headers
        self.url: str = head.url
        self.method = request.method

    def iter_bytes(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes (decoded, size-capped)."""
        yield from iter_capped(self._raw, self._request, chunk_size)

    def read(self) -> bytes:
        """The whole remaining body."""
        return b"".join([chunk for chunk in self.iter_bytes()])

    def raise_for_status(self) -> StreamingResponse:
        """Raise the ``HTTPStatusError`` family for 4xx/5xx (the body stays unread)."""
        Response(self.status_code, self.headers, b"", self.url, self.method).raise_for_status()
        return self

    def close(self) -> None:
        """Release the connection."""
        self._raw.close()


class _StaticAuth:
    """The provider of ``auth=(user, password)``: fixed HTTP Basic headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def __repr__(self) -> str:
        return "BasicAuth(***)"

    def get_headers(self) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self) -> None:
        pass


class HttpClient:
    """An HTTP client with safe retries, a per-client retry budget and pluggable auth.

    Args:
        base_url: prefix for relative URLs (its path is kept: ``/v1`` + ``users`` is ``/v1/users``).
        auth: an ``AuthProvider`` (``get_headers()``, ``invalidate()``), or a
            ``(user, password)`` tuple for HTTP Basic; a 401 answer makes the client invalidate it
            and repeat the request once. Its headers go only to the origin of ``base_url`` and of
            ``auth_origins``: an absolute URL on another host gets none.
        auth_origins: more origins (``https://host[:port]``) that receive ``auth``'s headers; with
            ``auth`` and no ``base_url`` it is required.
        headers: headers for every request.
        timeout: a :class:`Timeout`, seconds for every phase, or ``(connect, read)``.
        retry: the :class:`RetryPolicy`; None means a single attempt.
        auto_idempotency_key: add an ``Idempotency-Key`` to every POST and PATCH, making them
            retryable.
        verify: True, False or the path of a CA bundle.
        cert: a client certificate for mTLS (a path, or ``(cert, key)`` paths).
        proxy: a proxy URL (when None, the environment's proxy variables apply).
        follow_redirects: follow redirects of GET and HEAD (at most ``max_redirects``).
        max_response_size: refuse bodies larger than this many bytes.
        header_hooks: callables returning headers for each request (see
            :mod:`midil_common.http.hooks`).
        pool_maxsize: connections kept per host.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        auth: AuthProvider | tuple[str, str] | None = None,
        auth_origins: Sequence[str] = (),
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        auto_idempotency_key: bool = False,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 5,
        max_response_size: int | None = None,
        header_hooks: Sequence[HeaderHook] = (),
        pool_maxsize: int = 32,
    ) -> None:
        basic = basic_auth_headers(auth)
        provider: AuthProvider | None
        if basic is not None:
            provider = _StaticAuth(basic)
        elif auth is not None:
            provider = cast("AuthProvider", auth)
            check_auth_provider(provider, coroutines=IS_ASYNC)
        else:
            provider = None
        self._config = ClientPolicy(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            retry=retry,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            auto_idempotency_key=auto_idempotency_key,
            max_response_size=max_response_size,
            header_hooks=header_hooks,
            has_auth=provider is not None,
            auth_origins=auth_origins,
        )
        self._auth = provider
        self._auth_lock = Lock()
        self._budget = self._config.retry.new_budget()
        # Around the retry budget, shared by every request of the client.
        self._state_lock = StateLock()
        self._rng = random.Random()
        self._transport = Transport(
            verify=verify, cert=cert, proxy=proxy, pool_maxsize=pool_maxsize
        )

    @classmethod
    def from_settings(
        cls,
        settings: MidilSettings | None = None,
        *,
        base_url: str | None = None,
        auth: AuthProvider | None = None,
    ) -> HttpClient:
        """A client with the timeouts and retry policy of the ``http`` settings section (read
        from the environment when None)."""
        return cls(base_url, auth=auth, **client_settings(settings))

    @property
    def base_url(self) -> str | None:
        """The prefix of relative URLs."""
        return self._config.base_url

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in use."""
        return self._config.retry

    def __repr__(self) -> str:
        base_url = self._config.base_url
        shown = None if base_url is None else masked_url(base_url)  # a query may hold a secret
        return f"HttpClient(base_url={shown!r}, auth={self._auth!r})"

    # ----------------------------------------------------------------------------- requests

    def request(
        self,
        method: str,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        files: FilesInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
        deadline: float | None = None,
    ) -> Response:
        """Send a request with retries and return the final :class:`Response`.

        A 4xx/5xx answer is returned unless ``raise_for_status`` is True; transport failures raise
        ``TimeoutError``/``ConnectError``/``TransportError``. ``deadline`` (seconds) bounds the
        whole call, attempts and sleeps, however slowly the server trickles bytes, when it is
        shorter than the retry policy's own.
        """
        prepared = self._config.prepare(
            method,
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
        )
        attempts = self._config.attempts(
            prepared,
            self._budget,
            started=time.monotonic(),
            can_reauthenticate=self._auth_for(prepared.request.url) is not None,
            deadline=deadline,
        )
        while True:
            outcome, used = self._attempt(
                prepared, attempts.remaining(time.monotonic()), attempts.deadline
            )
            with self._state_lock:
                step = attempts.step(outcome, now=time.monotonic(), rng=self._rng, wall=time.time())
            if isinstance(step, Retry):
                sleep(step.sleep)
            elif isinstance(step, Reauthenticate):
                self._invalidate(used)
            else:
                return attempts.finish(outcome, raise_for_status=raise_for_status)

    def get(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``GET url``."""
        return self.request(
            "GET",
            url,
            params=params,
            headers=headers,
            timeout=timeout,
            raise_for_status=raise_for_status,
        )

    def head(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``HEAD url``."""
        return self.request(
            "HEAD",
            url,
            params=params,
            headers=headers,
            timeout=timeout,
            raise_for_status=raise_for_status,
        )

    def post(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        files: FilesInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``POST url`` (retried only with an idempotency key or when nothing was sent)."""
        return self.request(
            "POST",
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
            raise_for_status=raise_for_status,
        )

    def put(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        files: FilesInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``PUT url``."""
        return self.request(
            "PUT",
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
            raise_for_status=raise_for_status,
        )

    def patch(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        files: FilesInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``PATCH url`` (retried only with an idempotency key or when nothing was sent)."""
        return self.request(
            "PATCH",
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
            raise_for_status=raise_for_status,
        )

    def delete(
        self,
        url: str,
        *,
        params: ParamsInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
    ) -> Response:
        """``DELETE url``."""
        return self.request(
            "DELETE",
            url,
            params=params,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
            raise_for_status=raise_for_status,
        )

    def send_request(
        self,
        method: str,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        files: FilesInput = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send a request and return its decoded JSON body (None when empty); 4xx/5xx always raise."""
        response = self.request(
            method,
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
            raise_for_status=True,
        )
        return response.json() if response.content.strip() else None

    @contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        params: ParamsInput = None,
        json: Any = None,
        data: Any = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = False,
    ) -> Iterator[StreamingResponse]:
        """Send a request and yield a :class:`StreamingResponse` whose body is read in chunks.

        Retries and redirects apply until the response head arrives; the body is then the caller's.
        """
        prepared = self._config.prepare(
            method,
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=timeout,
            idempotency_key=idempotency_key,
        )
        attempts = self._config.attempts(
            prepared,
            self._budget,
            started=time.monotonic(),
            can_reauthenticate=self._auth_for(prepared.request.url) is not None,
        )
        while True:
            opened, used = self._open(
                prepared, attempts.remaining(time.monotonic()), attempts.deadline
            )
            outcome = (
                opened if isinstance(opened, TransportError) else head_of(opened[0], opened[1])
            )
            with self._state_lock:
                step = attempts.step(outcome, now=time.monotonic(), rng=self._rng, wall=time.time())
            if isinstance(step, Stop):
                break
            if not isinstance(opened, TransportError):
                opened[1].close()
            if isinstance(step, Retry):
                sleep(step.sleep)
            else:
                self._invalidate(used)
        if isinstance(opened, TransportError):
            raise opened
        streaming = StreamingResponse(opened[1], opened[0])
        try:
            if raise_for_status:
                streaming.raise_for_status()
            yield streaming
        finally:
            streaming.close()

    # ------------------------------------------------------------------------------ internals

    def _auth_for(self, url: str) -> AuthProvider | None:
        """The auth provider when its credentials go to ``url`` (its origin is allowed)."""
        if self._auth is None or not self._config.sends_credentials_to(url):
            return None
        return self._auth

    def _auth_headers(self, url: str) -> dict[str, str] | None:
        auth = self._auth_for(url)
        return auth.get_headers() if auth is not None else None

    def _invalidate(self, used: dict[str, str] | None) -> None:
        if self._auth is None:
            return
        # Serialised so that requests refused together invalidate once (see the core function).
        with self._auth_lock:
            if credentials_still_current(used, self._auth.get_headers()):
                self._auth.invalidate()

    def _attempt(
        self, prepared: PreparedRequest, remaining: float | None, deadline: float | None
    ) -> tuple[Response | TransportError, dict[str, str] | None]:
        """One attempt: send, follow the redirects the core allows; the outcome and the auth
        headers it was sent with."""
        auth_headers = self._auth_headers(prepared.request.url)
        request = self._config.authorize(
            prepared, auth_headers, remaining=remaining, deadline=deadline
        )
        try:
            response = self._transport.send(request, body=prepared.stream)
            hops = 0
            while (
                nxt := self._config.next_hop(
                    request, response, hops=hops, auth_headers=auth_headers
                )
            ) is not None:
                hops += 1
                request = nxt
                response = self._transport.send(request)
        except TransportError as exc:
            return exc, auth_headers
        return response, auth_headers

    def _open(
        self, prepared: PreparedRequest, remaining: float | None, deadline: float | None
    ) -> tuple[tuple[Request, RawResponse] | TransportError, dict[str, str] | None]:
        """Like :meth:`_attempt`, but the final body is left unread for streaming."""
        auth_headers = self._auth_headers(prepared.request.url)
        request = self._config.authorize(
            prepared, auth_headers, remaining=remaining, deadline=deadline
        )
        try:
            raw = self._transport.open(request, body=prepared.stream)
            hops = 0
            while True:
                try:
                    nxt = self._config.next_hop(
                        request, head_of(request, raw), hops=hops, auth_headers=auth_headers
                    )
                except BaseException:
                    raw.close()  # too many redirects: the connection goes back to the pool
                    raise
                if nxt is None:
                    break
                raw.close()
                hops += 1
                request = nxt
                raw = self._transport.open(request)
        except TransportError as exc:
            return exc, auth_headers
        return (request, raw), auth_headers

    # ------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

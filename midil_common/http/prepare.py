"""Everything an ``HttpClient`` decides before and between sends, shared by both shells.

:class:`ClientPolicy` holds a client's options and turns a call such as ``client.post(url, json=...)``
into a :class:`PreparedRequest`; it adds the credentials and context headers for each attempt, starts
the per-request :class:`~midil_common.http.retry.Attempts` and chooses the next redirect hop. A shell
only sends, sleeps and locks.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from midil_common import __version__
from midil_common.errors import ConfigError
from midil_common.http.body import FilesInput, encode_body
from midil_common.http.headers import check_header_values
from midil_common.http.hooks import HeaderHook, header_hooks
from midil_common.http.redirects import next_hop
from midil_common.http.retry import Attempts, RetryBudget, RetryPolicy
from midil_common.http.types import Headers, HeadersInput, Request, Response, Timeout
from midil_common.http.urls import (
    ParamsInput,
    check_url,
    join_url,
    origin,
    url_host,
    with_params,
)

if TYPE_CHECKING:
    from midil_common.settings import MidilSettings

__all__ = [
    "DEFAULT_HEADERS",
    "ClientPolicy",
    "PreparedRequest",
    "TimeoutInput",
    "basic_auth_headers",
    "check_auth_provider",
    "client_settings",
]

TimeoutInput = Timeout | float | tuple[float, float] | None

DEFAULT_HEADERS = Headers(
    [
        ("User-Agent", f"midil-kit/{__version__}"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
    ]
)
"""Headers every request carries unless the client or the call overrides them."""

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready for its attempts: the core request, plus a body stream that is not bytes."""

    request: Request
    stream: Any = None
    idempotency_key: bool = False

    @property
    def replayable(self) -> bool:
        """True when the body can be sent again (it is bytes or absent)."""
        return self.stream is None


class ClientPolicy:
    """What one client decides from its options alone: the request of each call, its attempts,
    the credentials and timeouts of each attempt, the next redirect hop."""

    __slots__ = (
        "auth_origins",
        "auto_idempotency_key",
        "base_url",
        "follow_redirects",
        "header_hooks",
        "headers",
        "key_factory",
        "max_redirects",
        "max_response_size",
        "retry",
        "timeout",
    )

    def __init__(
        self,
        *,
        base_url: str | None = None,
        headers: HeadersInput = None,
        timeout: TimeoutInput = None,
        retry: RetryPolicy | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 5,
        auto_idempotency_key: bool = False,
        max_response_size: int | None = None,
        header_hooks: Sequence[HeaderHook] = (),
        key_factory: Callable[[], str] | None = None,
        has_auth: bool = False,
        auth_origins: Collection[str] = (),
    ) -> None:
        if base_url is not None:
            check_url(base_url, what="base_url")  # a bad base URL fails at construction
            join_url(base_url, "")
        if isinstance(auth_origins, str):
            auth_origins = (auth_origins,)
        origins = {origin(check_url(u, what="auth_origins")) for u in auth_origins}
        if base_url is not None:
            origins.add(origin(base_url))
        if has_auth and not origins:
            raise ConfigError(
                "auth= sends credentials only to the base_url's origin and to auth_origins: give "
                "HttpClient a base_url, or auth_origins=['https://api.example.com']",
                variable="auth_origins",
            )
        self.auth_origins = frozenset(origins)
        if max_redirects < 0:
            raise ConfigError("max_redirects must be >= 0")
        self.base_url = base_url
        self.headers = DEFAULT_HEADERS.merged(headers)
        check_header_values(self.headers.items_raw(), what="header")
        self.timeout = Timeout.of(timeout)
        self.retry = retry if retry is not None else RetryPolicy.no_retries()
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.auto_idempotency_key = auto_idempotency_key
        self.max_response_size = max_response_size
        self.header_hooks = tuple(header_hooks)
        self.key_factory = key_factory or _new_key

    def prepare(
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
    ) -> PreparedRequest:
        """Build the request for one call; raises ``ConfigError`` for arguments that cannot work."""
        method = method.upper()
        full_url = check_url(with_params(join_url(self.base_url, url), params), what="url")
        body = encode_body(json=json, data=data, files=files)
        merged = self.headers
        extra: list[tuple[str, str]] = []
        for hook in (*header_hooks(), *self.header_hooks):
            produced = hook()
            if produced:
                # The client's own headers were set on purpose; a hook only fills the gaps.
                extra.extend((k, v) for k, v in produced.items() if k not in merged)
        if body.content_type is not None:
            extra.append(("Content-Type", body.content_type))
        if idempotency_key is None and self.auto_idempotency_key and method in ("POST", "PATCH"):
            idempotency_key = self.key_factory()
        if idempotency_key is not None:
            extra.append((IDEMPOTENCY_HEADER, idempotency_key))
        if extra:
            check_header_values(extra, what="header")
            merged = merged.merged(extra)
        if headers:
            call_headers = Headers(headers)
            check_header_values(call_headers.items_raw(), what="header")
            merged = merged.merged(call_headers)
        request = Request(
            method=method,
            url=full_url,
            headers=merged,
            content=body.content,
            timeout=self.timeout if timeout is None else Timeout.of(timeout),
            max_body_size=self.max_response_size,
        )
        return PreparedRequest(request, body.stream, idempotency_key=IDEMPOTENCY_HEADER in merged)

    def sends_credentials_to(self, url: str) -> bool:
        """Whether the auth provider's headers go to ``url``: only to the base URL's origin and
        the ``auth_origins``, so a service token never reaches another host."""
        return origin(url) in self.auth_origins

    def attempts(
        self,
        prepared: PreparedRequest,
        budget: RetryBudget | None,
        *,
        started: float,
        can_reauthenticate: bool,
        deadline: float | None = None,
    ) -> Attempts:
        """The retry state for one request; ``deadline`` (seconds) shortens the policy's own for
        this request alone, attempts and sleeps together."""
        policy = self.retry
        if deadline is not None:
            if not deadline > 0:
                raise ConfigError("deadline must be > 0 seconds")
            if policy.deadline is None or deadline < policy.deadline:
                policy = dataclasses.replace(policy, deadline=deadline)
        return Attempts(
            policy,
            budget,
            method=prepared.request.method,
            started=started,
            idempotency_key=prepared.idempotency_key,
            replayable=prepared.replayable,
            can_reauthenticate=can_reauthenticate,
            host=url_host(prepared.request.url),
        )

    @staticmethod
    def authorize(
        prepared: PreparedRequest,
        auth_headers: Mapping[str, str] | None,
        *,
        remaining: float | None = None,
        deadline: float | None = None,
    ) -> Request:
        """The request of this attempt: the auth provider's current headers, timeouts cut to the
        ``remaining`` seconds of the deadline, and the deadline itself (a ``time.monotonic()``
        instant) which the transport enforces however slowly the server trickles bytes."""
        request = prepared.request
        if deadline is not None:
            request = dataclasses.replace(request, deadline=deadline)
        timeout = request.timeout
        if remaining is not None and not all(
            t is not None and t <= remaining
            for t in (timeout.connect, timeout.read, timeout.write, timeout.pool)
        ):
            request = dataclasses.replace(request, timeout=_capped(timeout, remaining))
        if auth_headers:
            check_header_values(auth_headers, what="auth provider header", ascii_only=True)
            request = dataclasses.replace(request, headers=request.headers.merged(auth_headers))
        return request

    def next_hop(
        self,
        request: Request,
        response: Response,
        *,
        hops: int,
        auth_headers: Collection[str] | None = None,
    ) -> Request | None:
        """The redirect to follow after ``response``, or None to return it as is."""
        if not self.follow_redirects or not response.is_redirect:
            return None
        return next_hop(
            request,
            response,
            hops=hops,
            max_redirects=self.max_redirects,
            sensitive_headers=tuple(auth_headers or ()),
        )


def _capped(timeout: Timeout, limit: float) -> Timeout:
    def cap(value: float | None) -> float:
        return limit if value is None else min(value, limit)

    return Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _new_key() -> str:
    import uuid  # here: uuid loads platform, a cost every plain import would pay

    return str(uuid.uuid4())


def basic_auth_headers(auth: object) -> dict[str, str] | None:
    """``{"Authorization": "Basic ..."}`` for a ``(user, password)`` tuple (RFC 7617), or None when
    ``auth`` is not a tuple; a tuple of another shape is a ``ConfigError``."""
    if not isinstance(auth, tuple):
        return None
    if len(auth) != 2 or not all(isinstance(part, str) for part in auth):
        raise ConfigError(
            "auth as a tuple must be (username, password), two strings", variable="auth"
        )
    user, password = auth
    if ":" in user:
        raise ConfigError("auth: an HTTP Basic username cannot contain ':'", variable="auth")
    credential = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {credential}"}


def check_auth_provider(auth: object, *, coroutines: bool) -> None:
    """``ConfigError`` unless ``auth`` has ``get_headers()`` and ``invalidate()``, coroutine
    functions for the async shell (``coroutines=True``) and plain ones for the sync shell."""
    get_headers = getattr(auth, "get_headers", None)
    invalidate = getattr(auth, "invalidate", None)
    if not callable(get_headers) or not callable(invalidate):
        raise ConfigError(
            f"auth must be an auth provider (an object with get_headers() and invalidate(), such "
            f"as ClientCredentialsProvider or StaticTokenProvider) or a (username, password) "
            f"tuple, not {type(auth).__name__}",
            variable="auth",
        )
    import inspect  # here: inspect loads ast and dis, a cost every plain import would pay

    if inspect.iscoroutinefunction(get_headers) != coroutines:
        shell, other = (
            ("midil_async", "midil_sync") if coroutines else ("midil_sync", "midil_async")
        )
        raise ConfigError(
            f"auth is a provider for {other}; a {shell}.HttpClient needs the {shell} one "
            f"(get_headers() {'must' if coroutines else 'must not'} be a coroutine function)",
            variable="auth",
        )


def client_settings(settings: MidilSettings | None = None) -> dict[str, Any]:
    """``HttpClient`` keyword arguments from the ``http`` settings section (``MIDIL_HTTP__...``):
    timeouts, the retry policy, idempotency keys and redirects; read from the environment when
    None."""
    from midil_common.settings import load_settings

    if settings is None:
        settings = load_settings()
    http = settings.http
    return {
        "timeout": Timeout(connect=http.connect_timeout, read=http.read_timeout),
        "retry": RetryPolicy.from_settings(http),
        "auto_idempotency_key": http.auto_idempotency_key,
        "follow_redirects": http.follow_redirects,
        "max_redirects": http.max_redirects,
    }

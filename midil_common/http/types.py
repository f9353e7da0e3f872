"""Request and response value types shared by both shells.

Both shells build a :class:`Request`, hand it to their transport and get back a :class:`Response`, so
every caller sees the same type whether the bytes travelled through requests or httpx.
"""

from __future__ import annotations

import json as _json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from midil_common.errors import ClientError, HTTPStatusError, RateLimitError, ServerError
from midil_common.http.headers import parse_retry_after
from midil_common.http.urls import safe_url

__all__ = ["Headers", "HeadersInput", "Request", "Response", "Timeout"]

HeadersInput = Union["Headers", Mapping[str, str], Iterable[tuple[str, str]], None]


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive multi-map of HTTP headers.

    ``headers["x"]`` joins repeated fields with ``", "`` (RFC 9110 section 5.3); :meth:`get_list` keeps
    them apart.
    """

    __slots__ = ("_index", "_items")

    _items: tuple[tuple[str, str], ...]
    _index: dict[str, list[str]]

    def __init__(self, items: HeadersInput = None) -> None:
        if items is None:
            pairs: tuple[tuple[str, str], ...] = ()
        elif isinstance(items, Headers):
            pairs = items._items
        elif isinstance(items, Mapping):
            pairs = tuple((str(k), str(v)) for k, v in items.items())
        else:
            pairs = tuple((str(k), str(v)) for k, v in items)
        self._items = pairs
        index: dict[str, list[str]] = {}
        for k, v in pairs:
            index.setdefault(k.lower(), []).append(v)
        self._index = index

    def __getitem__(self, key: str) -> str:
        return ", ".join(self._index[key.lower()])

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._index == other._index
        if isinstance(other, Mapping):
            return self == Headers(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({[k for k, _ in self._items]!r})"

    def get_list(self, key: str) -> list[str]:
        """Every value of the field ``key``, in order."""
        return list(self._index.get(key.lower(), ()))

    def items_raw(self) -> tuple[tuple[str, str], ...]:
        """The fields as received, with their original case and repetitions."""
        return self._items

    def merged(self, other: HeadersInput) -> Headers:
        """A copy where the fields named in ``other`` replace this one's."""
        extra = Headers(other)
        kept = [(k, v) for k, v in self._items if k.lower() not in extra._index]
        return Headers([*kept, *extra._items])

    def without(self, *names: str) -> Headers:
        """A copy without the named fields."""
        drop = {n.lower() for n in names}
        return Headers([(k, v) for k, v in self._items if k.lower() not in drop])


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; ``None`` means the transport's default for that phase, never infinity."""

    connect: float | None = 5.0
    read: float | None = 30.0
    write: float | None = 30.0
    pool: float | None = 5.0

    @classmethod
    def of(cls, value: Timeout | float | tuple[float, float] | None) -> Timeout:
        """Normalise the forms callers use: a number for every phase, a (connect, read) pair."""
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, tuple):
            connect, read = value
            return cls(connect=connect, read=read, write=read, pool=connect)
        return cls(connect=value, read=value, write=value, pool=value)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the core built it; a shell's transport sends it unchanged."""

    method: str
    url: str
    headers: Headers = field(default_factory=Headers)
    content: bytes | None = None
    timeout: Timeout = field(default_factory=Timeout)
    max_body_size: int | None = None
    deadline: float | None = None
    """A ``time.monotonic()`` instant by which the transport must have the response head
    (``open``) or the whole response (``send``); past it the transport raises ``TimeoutError``
    with ``phase="deadline"``, however slowly the server trickles bytes."""


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response, fully read; the same type from both shells."""

    status_code: int
    headers: Headers
    content: bytes
    url: str
    method: str = "GET"
    elapsed: float = 0.0

    @property
    def text(self) -> str:
        """The body decoded with the ``charset`` of ``Content-Type`` (UTF-8 by default)."""
        charset = "utf-8"
        ctype = self.headers.get("content-type", "")
        for part in ctype.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` when it is not JSON."""
        return _json.loads(self.content)

    @property
    def is_success(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        """True for a redirect status that carries a ``Location``."""
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    def raise_for_status(self) -> Response:
        """Raise the ``HTTPStatusError`` family for 4xx and 5xx; return ``self`` otherwise."""
        error = status_error(self)
        if error is not None:
            raise error
        return self


def status_error(response: Response, now: float | None = None) -> HTTPStatusError | None:
    """The exception a failing response maps to, or None for a status below 400."""
    status = response.status_code
    if status < 400:
        return None
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    message = f"{response.method} {safe_url(response.url)} answered {status}"
    if status == 429:
        return RateLimitError(message, response=response, retry_after=retry_after)
    if status < 500:
        return ClientError(message, response=response, retry_after=retry_after)
    return ServerError(message, response=response, retry_after=retry_after)

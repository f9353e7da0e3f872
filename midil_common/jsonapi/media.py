"""The JSON:API media type and content negotiation (JSON:API 1.1, "Content Negotiation").

Rules applied by ``negotiate`` (server side):

* ``Content-Type`` (when the request has a body) must be ``application/vnd.api+json`` with no parameters
  other than ``ext`` and ``profile``, and every extension in ``ext`` must be supported; otherwise 415.
  Unknown profiles are ignored.
* In ``Accept``, instances of the JSON:API media type with a parameter other than ``ext``/``profile``
  are ignored, and so are instances whose ``ext`` names an unsupported extension. If the header names
  the JSON:API media type and no instance is left, the answer is 406. A header without the JSON:API
  media type is served if it accepts it through a wildcard (``*/*``, ``application/*``); otherwise 406.
* The response's ``Content-Type`` carries ``ext``/``profile`` parameters only for what is applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from midil_common.errors import NotAcceptableError, UnsupportedMediaTypeError
from midil_common.jsonapi.models import ErrorObject, ErrorSource

__all__ = [
    "MEDIA_TYPE",
    "MediaType",
    "Negotiation",
    "jsonapi_content_type",
    "negotiate",
    "parse_accept",
    "parse_media_type",
]

#: The JSON:API media type.
MEDIA_TYPE = "application/vnd.api+json"
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class MediaType:
    """A parsed media type or media range: lower-cased ``type``/``subtype``, ``params`` (names
    lower-cased, in order) and ``q``, the weight of an Accept entry (1.0 when absent)."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()
    q: float = 1.0

    @property
    def essence(self) -> str:
        """``type/subtype`` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def is_jsonapi(self) -> bool:
        """Whether this is the JSON:API media type (parameters aside)."""
        return self.essence == MEDIA_TYPE

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (case-insensitive), or None."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def ext(self) -> tuple[str, ...]:
        """The extension URIs of the ``ext`` parameter (space-separated)."""
        value = self.param("ext")
        return tuple(value.split()) if value else ()

    @property
    def profile(self) -> tuple[str, ...]:
        """The profile URIs of the ``profile`` parameter (space-separated)."""
        value = self.param("profile")
        return tuple(value.split()) if value else ()

    @property
    def other_params(self) -> tuple[str, ...]:
        """Names of parameters other than ``ext``, ``profile`` and ``q`` (the weight, for Accept)."""
        return tuple(k for k, _ in self.params if k not in ("ext", "profile", "q"))


@dataclass(frozen=True)
class Negotiation:
    """What to apply to the exchange.

    ``extensions`` and ``profiles`` are the URIs applied (requested and supported);
    ``content_type`` is the value for the response's ``Content-Type`` header.
    """

    extensions: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    content_type: str = field(default=MEDIA_TYPE)


def _params(text: str) -> tuple[tuple[str, str], ...] | None:
    """Parse ``; name=value`` pairs (token or quoted-string values); None when malformed."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] != ";":
            return None
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break  # a trailing ";" is tolerated
        start = i
        while i < n and text[i] in _TOKEN:
            i += 1
        name = text[start:i].lower()
        if not name or i >= n or text[i] != "=":
            return None
        i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                return None
            i += 1
            value = "".join(chars)
        else:
            start = i
            while i < n and text[i] in _TOKEN:
                i += 1
            value = text[start:i]
            if not value:
                return None
        out.append((name, value))
    return tuple(out)


def parse_media_type(value: str) -> MediaType | None:
    """Parse one media type (``type/subtype; name=value ...``); None when it is malformed."""
    head, sep, rest = value.partition(";")
    essence = head.strip().lower()
    kind, slash, sub = essence.partition("/")
    if not slash or not kind or not sub or not set(kind) <= _TOKEN or not set(sub) <= _TOKEN:
        return None
    params = _params(sep + rest) if sep else ()
    if params is None:
        return None
    q = 1.0
    for name, val in params:
        if name == "q":
            try:
                q = float(val)
            except ValueError:
                return None
            if not 0.0 <= q <= 1.0:
                return None
    return MediaType(kind, sub, params, q)


def _split_header(header: str) -> list[str]:
    """Split a comma-separated header, keeping commas inside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for ch in header:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_accept(header: str) -> list[MediaType]:
    """The media ranges of an ``Accept`` header, malformed entries skipped, in header order."""
    out = []
    for part in _split_header(header):
        media = parse_media_type(part)
        if media is not None:
            out.append(media)
    return out


def jsonapi_content_type(extensions: Iterable[str] = (), profiles: Iterable[str] = ()) -> str:
    """The JSON:API ``Content-Type`` value with ``ext``/``profile`` parameters when non-empty."""
    value = MEDIA_TYPE
    ext = " ".join(extensions)
    prof = " ".join(profiles)
    if ext:
        value += f'; ext="{ext}"'
    if prof:
        value += f'; profile="{prof}"'
    return value


def _error(
    cls: type[UnsupportedMediaTypeError | NotAcceptableError], header: str, detail: str
) -> UnsupportedMediaTypeError | NotAcceptableError:
    status = cls.default_status
    title = "Unsupported Media Type" if status == 415 else "Not Acceptable"
    err = ErrorObject(
        status=str(status),
        code="unsupported_media_type" if status == 415 else "not_acceptable",
        title=title,
        detail=detail,
        source=ErrorSource(header=header),
    )
    return cls(f"{title}: {detail}", errors=[err])


def negotiate(
    *,
    content_type: str | None,
    accept: str | None,
    supported_extensions: Iterable[str] = (),
    supported_profiles: Iterable[str] = (),
) -> Negotiation:
    """Apply JSON:API 1.1 content negotiation to a request's ``Content-Type`` and ``Accept`` headers.

    ``content_type`` is None when the request has no body (nothing to check). Returns the extensions
    and profiles to apply and the response ``Content-Type``; raises ``UnsupportedMediaTypeError``
    (415) or ``NotAcceptableError`` (406), each with one error object whose ``source.header`` names
    the header.
    """
    supported_ext = frozenset(supported_extensions)
    supported_prof = frozenset(supported_profiles)
    request_ext: tuple[str, ...] = ()
    request_prof: tuple[str, ...] = ()
    if content_type is not None:
        media = parse_media_type(content_type)
        if media is None or not media.is_jsonapi:
            raise _error(
                UnsupportedMediaTypeError,
                "Content-Type",
                f"request bodies must be sent as {MEDIA_TYPE}",
            )
        if media.other_params or media.param("q") is not None:
            raise _error(
                UnsupportedMediaTypeError,
                "Content-Type",
                f"{MEDIA_TYPE} accepts only the 'ext' and 'profile' parameters",
            )
        unsupported = [uri for uri in media.ext if uri not in supported_ext]
        if unsupported:
            raise _error(
                UnsupportedMediaTypeError,
                "Content-Type",
                "the request uses an extension this server does not support",
            )
        request_ext = media.ext
        request_prof = media.profile

    chosen: MediaType | None = None
    if accept is not None and accept.strip():
        ranges = parse_accept(accept)
        jsonapi = [m for m in ranges if m.is_jsonapi]
        if jsonapi:
            usable = [
                m
                for m in jsonapi
                if m.q > 0 and not m.other_params and all(u in supported_ext for u in m.ext)
            ]
            if not usable:
                raise _error(
                    NotAcceptableError,
                    "Accept",
                    f"every {MEDIA_TYPE} in Accept has parameters or extensions this server "
                    "does not support",
                )
            # Highest q wins; at equal q the instance asking for more extensions is the more specific.
            chosen = max(usable, key=lambda m: (m.q, len(m.ext)))
        elif not any(m.q > 0 and (m.essence in ("*/*", "application/*")) for m in ranges):
            raise _error(NotAcceptableError, "Accept", f"the response can only be {MEDIA_TYPE}")

    extensions = chosen.ext if chosen is not None else request_ext
    requested_profiles = chosen.profile if chosen is not None and chosen.profile else request_prof
    profiles = tuple(p for p in requested_profiles if p in supported_prof)
    return Negotiation(
        extensions=tuple(extensions),
        profiles=profiles,
        content_type=jsonapi_content_type(extensions, profiles),
    )

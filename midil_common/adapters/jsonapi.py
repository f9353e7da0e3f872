"""JSON:API request handling shared by the adapters: query rules and content negotiation.

Kept apart from the rest of :mod:`midil_common.adapters` so reading tokens never pulls in the JSON:API
models.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from midil_common.jsonapi import MEDIA_TYPE, QueryParams, negotiate, parse_query

if TYPE_CHECKING:
    from midil_common.settings import JSONAPISettings, MidilSettings

__all__ = [
    "BODY_METHODS",
    "MEDIA_TYPE",
    "QueryRules",
    "jsonapi_limits",
    "negotiate_request",
    "query_rules",
    "render_document",
]

# Methods whose request carries a document, so Content-Type must be JSON:API (1.1 section 5.1).
BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})


@dataclass(frozen=True)
class QueryRules:
    """The allow-lists of one endpoint, handed to :func:`midil_common.jsonapi.parse_query`.

    ``None`` means "any well-formed value"; an empty collection means "not supported" (400).
    """

    allowed_include: Collection[str] | None = None
    allowed_sort: Collection[str] | None = None
    allowed_fields: Mapping[str, Collection[str]] | None = None
    allowed_filters: Collection[str] | None = None
    max_page_size: int = 100
    default_page_size: int = 20
    max_include_depth: int = 3

    def parse(self, pairs: Iterable[tuple[str, str]]) -> QueryParams:
        """Parse the query's (key, value) pairs, repeated keys kept; raises ``InvalidQueryError``."""
        return parse_query(
            list(pairs),
            allowed_include=self.allowed_include,
            allowed_sort=self.allowed_sort,
            allowed_fields=self.allowed_fields,
            allowed_filters=self.allowed_filters,
            max_page_size=self.max_page_size,
            default_page_size=self.default_page_size,
            max_include_depth=self.max_include_depth,
        )


_cached: tuple[tuple[str | None, ...], JSONAPISettings] | None = None
# The variables whose change makes the section be read again (tests and the CLI set them at run
# time; three lookups cost far less than a scan of the whole environment on every request).
_WATCHED = (
    "MIDIL_JSONAPI__MAX_PAGE_SIZE",
    "MIDIL_JSONAPI__DEFAULT_PAGE_SIZE",
    "MIDIL_JSONAPI__MAX_INCLUDE_DEPTH",
)


def jsonapi_limits(settings: MidilSettings | JSONAPISettings | None = None) -> JSONAPISettings:
    """The ``jsonapi`` settings section (``MIDIL_JSONAPI__...``), or that of ``settings``.

    Read from the environment when None, and kept until one of its ``MIDIL_JSONAPI__...``
    variables changes: the Flask and Django helpers ask for it on every request, and reading the
    settings again each time would cost far more than parsing the query. A bad value raises
    ``ConfigError``.
    """
    from midil_common.settings import JSONAPISettings, load_settings

    if isinstance(settings, JSONAPISettings):
        return settings
    if settings is not None:
        return settings.jsonapi
    global _cached
    get = os.environ.get
    key = (get(_WATCHED[0]), get(_WATCHED[1]), get(_WATCHED[2]))
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    section = load_settings().jsonapi
    _cached = (key, section)
    return section


def query_rules(
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    max_include_depth: int | None = None,
    settings: MidilSettings | JSONAPISettings | None = None,
) -> QueryRules:
    """:class:`QueryRules` whose limits not given (None) come from the ``jsonapi`` settings.

    Explicit limits win. A ``default_page_size`` taken from the settings never exceeds an explicit
    ``max_page_size`` (it is lowered to it); the settings are read only when a limit is missing.
    """
    if max_page_size is None or default_page_size is None or max_include_depth is None:
        limits = jsonapi_limits(settings)
        if max_page_size is None:
            max_page_size = limits.max_page_size
        if default_page_size is None:
            default_page_size = min(limits.default_page_size, max_page_size)
        if max_include_depth is None:
            max_include_depth = limits.max_include_depth
    return QueryRules(
        allowed_include=allowed_include,
        allowed_sort=allowed_sort,
        allowed_fields=allowed_fields,
        allowed_filters=allowed_filters,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        max_include_depth=max_include_depth,
    )


def negotiate_request(
    method: str,
    content_type: str | None,
    accept: str | None,
    *,
    extensions: Collection[str] = (),
    profiles: Collection[str] = (),
) -> Any:
    """Negotiate a request to a JSON:API endpoint; raises ``UnsupportedMediaTypeError`` (415) or
    ``NotAcceptableError`` (406).

    ``Content-Type`` only matters when the method carries a document; a GET with a stray
    ``Content-Type`` is not refused.
    """
    return negotiate(
        content_type=content_type if method.upper() in BODY_METHODS else None,
        accept=accept,
        supported_extensions=tuple(extensions),
        supported_profiles=tuple(profiles),
    )


def render_document(document: Any) -> bytes:
    """A JSON:API document (model, mapping or JSON text) as bytes."""
    if isinstance(document, bytes):
        return document
    if isinstance(document, str):
        return document.encode()
    dump = getattr(document, "model_dump_json", None)
    if callable(dump):
        text = dump()
        return text.encode() if isinstance(text, str) else bytes(text)
    import json

    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

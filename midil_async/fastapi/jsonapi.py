"""JSON:API dependencies: the query parameters under allow-lists, and content negotiation.

The page and include limits a dependency is not given come from the ``jsonapi`` settings
(``MIDIL_JSONAPI__MAX_PAGE_SIZE``, ``MIDIL_JSONAPI__DEFAULT_PAGE_SIZE``,
``MIDIL_JSONAPI__MAX_INCLUDE_DEPTH``), read when the dependency is built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import Request

from midil_async.fastapi.exceptions import MidilHTTPException
from midil_common.adapters.jsonapi import QueryRules, negotiate_request, query_rules
from midil_common.errors import MidilError

if TYPE_CHECKING:
    from midil_common.jsonapi import QueryParams

__all__ = [
    "jsonapi_negotiation",
    "jsonapi_query",
    "parse_fields",
    "parse_filter",
    "parse_include",
    "parse_page",
    "parse_sort",
]


def _rules(**kwargs: Any) -> QueryRules:
    return query_rules(**kwargs)


def _query_dependency(
    rules: QueryRules, pick: Callable[[Any], Any]
) -> Callable[..., Awaitable[Any]]:
    async def dependency(request: Request) -> Any:
        try:
            return pick(rules.parse(request.query_params.multi_items()))
        except MidilError as exc:
            raise MidilHTTPException(exc) from None

    return dependency


def jsonapi_query(
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    max_include_depth: int | None = None,
) -> Callable[..., Awaitable[QueryParams]]:
    """A dependency returning the request's ``QueryParams`` under these allow-lists (400 otherwise).

    Limits left None come from the ``jsonapi`` settings (100, 20 and 3 by default).
    """
    rules = _rules(
        allowed_include=allowed_include,
        allowed_sort=allowed_sort,
        allowed_fields=allowed_fields,
        allowed_filters=allowed_filters,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        max_include_depth=max_include_depth,
    )
    return _query_dependency(rules, lambda q: q)


def parse_sort(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the parsed ``sort`` (only ``allowed`` fields)."""
    return _query_dependency(_rules(allowed_sort=allowed), lambda q: q.sort)


def parse_include(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the parsed ``include`` paths (only ``allowed`` ones)."""
    return _query_dependency(_rules(allowed_include=allowed), lambda q: q.include)


def parse_fields(
    allowed: Mapping[str, Collection[str]] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the sparse fieldsets (``fields[TYPE]``)."""
    return _query_dependency(_rules(allowed_fields=allowed), lambda q: q.fields)


def parse_filter(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the ``filter[...]`` parameters (only ``allowed`` ones)."""
    return _query_dependency(_rules(allowed_filters=allowed), lambda q: q.filters)


def parse_page(
    max_page_size: int | None = None, default_page_size: int | None = None
) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the pagination parameters (``page[...]``); limits left None come
    from the ``jsonapi`` settings."""
    return _query_dependency(
        _rules(max_page_size=max_page_size, default_page_size=default_page_size), lambda q: q.page
    )


def jsonapi_negotiation(
    *, extensions: Collection[str] = (), profiles: Collection[str] = ()
) -> Callable[..., Awaitable[Any]]:
    """A dependency declaring an operation JSON:API: 415 for a wrong ``Content-Type`` on a body,
    406 when ``Accept`` cannot be served; returns the negotiation result."""

    async def dependency(request: Request) -> Any:
        try:
            return negotiate_request(
                request.method,
                request.headers.get("content-type"),
                request.headers.get("accept"),
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise MidilHTTPException(exc) from None

    return dependency

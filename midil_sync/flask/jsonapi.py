"""JSON:API helpers: content negotiation on views, query parameters and document responses."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from flask import Response, request

from midil_common.adapters.jsonapi import (
    MEDIA_TYPE,
    negotiate_request,
    query_rules,
    render_document,
)
from midil_sync.flask.decorators import F, decorate

if TYPE_CHECKING:
    from midil_common.jsonapi import QueryParams

__all__ = ["jsonapi_query", "jsonapi_response", "jsonapi_view"]


def jsonapi_view(
    view: F | None = None,
    *,
    extensions: Collection[str] = (),
    profiles: Collection[str] = (),
) -> Any:
    """Declare a view JSON:API: ``Content-Type`` (on bodies) and ``Accept`` are negotiated, 415 or
    406 when they do not fit."""

    def check() -> None:
        negotiate_request(
            request.method,
            request.headers.get("Content-Type"),
            request.headers.get("Accept"),
            extensions=extensions,
            profiles=profiles,
        )

    decorator = decorate(check)
    return decorator(view) if view is not None else decorator


def jsonapi_query(
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    max_include_depth: int | None = None,
) -> QueryParams:
    """The request's JSON:API query parameters (repeated keys kept); ``InvalidQueryError`` -> 400.

    The limits not given come from the ``jsonapi`` settings (``MIDIL_JSONAPI__MAX_PAGE_SIZE``,
    ``MIDIL_JSONAPI__DEFAULT_PAGE_SIZE``, ``MIDIL_JSONAPI__MAX_INCLUDE_DEPTH``; 100, 20 and 3 by
    default).
    """
    rules = query_rules(
        allowed_include=allowed_include,
        allowed_sort=allowed_sort,
        allowed_fields=allowed_fields,
        allowed_filters=allowed_filters,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        max_include_depth=max_include_depth,
    )
    return rules.parse(request.args.items(multi=True))


def jsonapi_response(
    document: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A response carrying a JSON:API document (model, mapping or JSON text) and its media type."""
    response = Response(render_document(document), status=status, headers=dict(headers or {}))
    response.headers["Content-Type"] = MEDIA_TYPE
    return response

"""JSON:API helpers for Django views: query parameters and responses."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from midil_common.adapters.jsonapi import MEDIA_TYPE, query_rules, render_document
from midil_sync.django._http import request_limit_error

if TYPE_CHECKING:
    from midil_common.jsonapi import QueryParams

__all__ = ["jsonapi_query", "jsonapi_response"]


def jsonapi_query(
    request: HttpRequest,
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int | None = None,
    default_page_size: int | None = None,
    max_include_depth: int | None = None,
) -> QueryParams:
    """The request's JSON:API query parameters (repeated keys kept).

    Raises ``InvalidQueryError``, which the middleware, ``jsonapi_view`` and the DRF exception
    handler answer with 400 and a JSON:API error document. Accepts a DRF ``Request`` too. The
    limits not given come from the ``jsonapi`` settings (``MIDIL_JSONAPI__MAX_PAGE_SIZE``,
    ``MIDIL_JSONAPI__DEFAULT_PAGE_SIZE``, ``MIDIL_JSONAPI__MAX_INCLUDE_DEPTH``; 100, 20 and 3 by
    default).
    """
    django_request = getattr(request, "_request", request)
    rules = query_rules(
        allowed_include=allowed_include,
        allowed_sort=allowed_sort,
        allowed_fields=allowed_fields,
        allowed_filters=allowed_filters,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        max_include_depth=max_include_depth,
    )
    try:
        pairs = [(k, v) for k, values in django_request.GET.lists() for v in values]
    except SuspiciousOperation as exc:
        refusal = request_limit_error(exc)
        if refusal is None:
            raise
    else:
        return rules.parse(pairs)
    raise refusal from None


def jsonapi_response(
    document: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A response carrying a JSON:API document (model, mapping or JSON text) and its media type."""
    response = HttpResponse(render_document(document), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response

"""FastAPI adapter (being split into modules with one job each)."""

from midil_async.fastapi.dependencies import (
    AuthMiddleware,
    Authenticated,
    JSONAPIResponse,
    MidilHTTPException,
    get_claims,
    jsonapi_negotiation,
    jsonapi_query,
    parse_fields,
    parse_filter,
    parse_include,
    parse_page,
    parse_sort,
    register_exception_handlers,
    require_permission,
    require_scopes,
)

__all__ = [
    "AuthMiddleware",
    "Authenticated",
    "JSONAPIResponse",
    "MidilHTTPException",
    "get_claims",
    "jsonapi_negotiation",
    "jsonapi_query",
    "parse_fields",
    "parse_filter",
    "parse_include",
    "parse_page",
    "parse_sort",
    "register_exception_handlers",
    "require_permission",
    "require_scopes",
]

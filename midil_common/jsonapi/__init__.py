"""JSON:API 1.1: models, validation, builders, query parameters, content negotiation and errors.

Read documents with ``Document.model_validate_json(text)`` (``InvalidDocumentError`` on any broken rule,
with JSON pointers), build them with ``resource_from``/``compound_document``, parse requests with
``parse_query`` and ``negotiate``, and answer failures with ``error_document``. ``MAX_DEPTH``,
``MAX_QUERY_ITEMS`` and ``MAX_ERRORS`` are the limits put on hostile input.
"""

from __future__ import annotations

from midil_common.jsonapi.builders import (
    RelationshipInput,
    apply_sparse_fieldsets,
    compound_document,
    identifier,
    pagination_links,
    resource,
    resource_from,
    to_many,
    to_one,
)
from midil_common.jsonapi.limits import MAX_DEPTH, MAX_ERRORS, MAX_QUERY_ITEMS
from midil_common.jsonapi.media import (
    MEDIA_TYPE,
    MediaType,
    Negotiation,
    jsonapi_content_type,
    negotiate,
    parse_accept,
    parse_media_type,
)
from midil_common.jsonapi.models import (
    MISSING,
    CreateDocument,
    Document,
    ErrorObject,
    ErrorSource,
    JSONAPIObject,
    Link,
    Relationship,
    RelationshipDocument,
    ResourceIdentifier,
    ResourceObject,
    UpdateDocument,
)
from midil_common.jsonapi.names import escape_pointer_token, is_member_name, pointer
from midil_common.jsonapi.problems import (
    error_document,
    errors_from_exception,
    errors_from_validation,
)
from midil_common.jsonapi.query import (
    FilterParam,
    Page,
    QueryInput,
    QueryParams,
    SortField,
    parse_query,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_ERRORS",
    "MAX_QUERY_ITEMS",
    "MEDIA_TYPE",
    "MISSING",
    "CreateDocument",
    "Document",
    "ErrorObject",
    "ErrorSource",
    "FilterParam",
    "JSONAPIObject",
    "Link",
    "MediaType",
    "Negotiation",
    "Page",
    "QueryInput",
    "QueryParams",
    "Relationship",
    "RelationshipDocument",
    "RelationshipInput",
    "ResourceIdentifier",
    "ResourceObject",
    "SortField",
    "UpdateDocument",
    "apply_sparse_fieldsets",
    "compound_document",
    "error_document",
    "errors_from_exception",
    "errors_from_validation",
    "escape_pointer_token",
    "identifier",
    "is_member_name",
    "jsonapi_content_type",
    "negotiate",
    "pagination_links",
    "parse_accept",
    "parse_media_type",
    "parse_query",
    "pointer",
    "resource",
    "resource_from",
    "to_many",
    "to_one",
]

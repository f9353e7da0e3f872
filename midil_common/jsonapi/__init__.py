"""JSON:API 1.1: models, validation, builders, query parameters, content negotiation and errors."""

from __future__ import annotations

from midil_common.jsonapi.models import (
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
from midil_common.jsonapi.problems import (
    error_document,
    errors_from_exception,
    errors_from_validation,
)

__all__ = [
    "CreateDocument",
    "Document",
    "ErrorObject",
    "ErrorSource",
    "JSONAPIObject",
    "Link",
    "Relationship",
    "RelationshipDocument",
    "ResourceIdentifier",
    "ResourceObject",
    "UpdateDocument",
    "error_document",
    "errors_from_exception",
    "errors_from_validation",
]

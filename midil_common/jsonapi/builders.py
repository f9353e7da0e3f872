"""Builders for the common case: resources from models or dicts, compound documents, pagination links,
sparse fieldsets. Everything they return has passed the JSON:API rules (they raise
``InvalidDocumentError`` otherwise).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import MISSING, BaseModel

from midil_common.jsonapi.models import (
    Document,
    JSONAPIObject,
    Relationship,
    ResourceIdentifier,
    ResourceObject,
)
from midil_common.jsonapi.query import Page, QueryParams

__all__ = [
    "RelationshipInput",
    "apply_sparse_fieldsets",
    "compound_document",
    "identifier",
    "pagination_links",
    "resource",
    "resource_from",
    "to_many",
    "to_one",
]

#: What a builder accepts for one relationship: a ready ``Relationship``, an identifier, a resource
#: (its identifier is used), a list of those (to-many), or None (an empty to-one).
RelationshipInput = (
    Relationship
    | ResourceIdentifier
    | ResourceObject
    | Sequence[ResourceIdentifier | ResourceObject]
    | None
)


def identifier(type_: str, id_: str | int) -> ResourceIdentifier:
    """A resource identifier object; an integer ``id_`` is written as a string, as the spec requires."""
    return ResourceIdentifier.model_validate({"type": type_, "id": str(id_)})


def to_one(
    type_: str, id_: str | int | None, *, links: Mapping[str, Any] | None = None
) -> Relationship:
    """A to-one relationship (``data`` null when ``id_`` is None)."""
    body: dict[str, Any] = {"data": None if id_ is None else {"type": type_, "id": str(id_)}}
    if links:
        body["links"] = dict(links)
    return Relationship.model_validate(body)


def to_many(
    type_: str, ids: Iterable[str | int], *, links: Mapping[str, Any] | None = None
) -> Relationship:
    """A to-many relationship (``data`` is ``[]`` when ``ids`` is empty)."""
    body: dict[str, Any] = {"data": [{"type": type_, "id": str(i)} for i in ids]}
    if links:
        body["links"] = dict(links)
    return Relationship.model_validate(body)


def _ident(value: ResourceIdentifier | ResourceObject) -> ResourceIdentifier:
    return value.identifier if isinstance(value, ResourceObject) else value


def _relationship(value: RelationshipInput) -> Relationship:
    if isinstance(value, Relationship):
        return value
    if value is None:
        return Relationship.model_construct(data=None)
    if isinstance(value, (ResourceIdentifier, ResourceObject)):
        return Relationship.model_construct(data=_ident(value))
    return Relationship.model_construct(data=[_ident(v) for v in value])


def resource(
    type_: str,
    id_: str | int | None = None,
    *,
    attributes: Mapping[str, Any] | None = None,
    relationships: Mapping[str, RelationshipInput] | None = None,
    links: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    lid: str | None = None,
) -> ResourceObject:
    """A resource object; an integer ``id_`` is written as a string. Raises ``InvalidDocumentError``."""
    body: dict[str, Any] = {"type": type_}
    if id_ is not None:
        body["id"] = str(id_)
    if lid is not None:
        body["lid"] = lid
    if attributes is not None:
        body["attributes"] = dict(attributes)
    if relationships is not None:
        body["relationships"] = {k: _relationship(v) for k, v in relationships.items()}
    if links is not None:
        body["links"] = dict(links)
    if meta is not None:
        body["meta"] = dict(meta)
    return ResourceObject.model_validate(body)


def resource_from(
    obj: BaseModel | Mapping[str, Any],
    type_: str,
    *,
    id_field: str = "id",
    relationships: Mapping[str, RelationshipInput] | None = None,
    exclude: Collection[str] = (),
    links: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> ResourceObject:
    """A resource object from a pydantic model or a dict.

    The ``id_field`` value becomes the ``id`` (as a string); every other member becomes an attribute,
    except the names in ``exclude`` and in ``relationships``. A pydantic model is dumped in JSON mode
    with its aliases, so dates, UUIDs and enums come out as JSON values.
    """
    values = obj.model_dump(mode="json", by_alias=True) if isinstance(obj, BaseModel) else dict(obj)
    raw_id = values.pop(id_field, None)
    skip = set(exclude)
    if relationships:
        skip.update(relationships)
    attributes = {k: v for k, v in values.items() if k not in skip}
    return resource(
        type_,
        raw_id,
        attributes=attributes,
        relationships=relationships,
        links=links,
        meta=meta,
    )


def apply_sparse_fieldsets(
    res: ResourceObject, fields: Mapping[str, Collection[str]]
) -> ResourceObject:
    """A copy of ``res`` holding only the attributes and relationships listed for its type.

    A type absent from ``fields`` is left whole. A document holding such resources relaxes full linkage:
    build it with ``compound_document(..., sparse=True)`` (or validate with
    ``context={"sparse_fieldsets": True}``).
    """
    wanted = fields.get(res.type)
    if wanted is None:
        return res
    keep = set(wanted)
    update: dict[str, Any] = {}
    if res.attributes is not MISSING:
        update["attributes"] = {k: v for k, v in res.attributes.items() if k in keep}
    if res.relationships is not MISSING:
        rels = {k: v for k, v in res.relationships.items() if k in keep}
        update["relationships"] = rels if rels else MISSING
    return res.model_copy(update=update)


def compound_document(
    data: ResourceObject | Sequence[ResourceObject] | None,
    included: Iterable[ResourceObject] = (),
    *,
    query: QueryParams | None = None,
    include_requested: bool = False,
    sparse: bool = False,
    links: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    jsonapi: JSONAPIObject | None = None,
) -> Document:
    """A response document with primary ``data`` and ``included`` resources, checked against the rules.

    ``included`` is de-duplicated by ``type``+``id`` and resources already in ``data`` are dropped from
    it. With ``query``, its sparse fieldsets are applied to every resource and its ``include`` decides
    whether ``included`` is written; ``include_requested`` forces the member (``"included": []`` when
    nothing matched), ``sparse`` relaxes full linkage for resources trimmed elsewhere. A list ``data``
    (even empty) is a collection, ``None`` is an empty to-one. Raises ``InvalidDocumentError``.
    """
    fields: Mapping[str, Collection[str]] = query.fields if query is not None else {}
    if query is not None:
        include_requested = include_requested or query.include_requested
        sparse = sparse or query.sparse

    def trim(res: ResourceObject) -> ResourceObject:
        return apply_sparse_fieldsets(res, fields) if fields else res

    body: dict[str, Any] = {}
    primary_keys: set[tuple[str, Any]] = set()
    if data is None:
        body["data"] = None
    elif isinstance(data, ResourceObject):
        body["data"] = trim(data)
        primary_keys.add((data.type, data.id))
    else:
        body["data"] = [trim(r) for r in data]
        primary_keys.update((r.type, r.id) for r in data)
    extra: list[ResourceObject] = []
    for res in included:
        key = (res.type, res.id)
        if key in primary_keys:
            continue
        primary_keys.add(key)
        extra.append(trim(res))
    if extra or include_requested:
        body["included"] = extra
    if links is not None:
        body["links"] = dict(links)
    if meta is not None:
        body["meta"] = dict(meta)
    if jsonapi is not None:
        body["jsonapi"] = jsonapi
    context = {"sparse_fieldsets": True} if sparse else None
    return Document.model_validate(body, context=context)


def pagination_links(
    url: str, page: Page, *, total: int | None = None, has_next: bool | None = None
) -> dict[str, str | None]:
    """``self``/``first``/``prev``/``next``/``last`` links for ``page`` of a collection at ``url``.

    The style follows the request: ``page[offset]``/``page[limit]`` when it used offsets, otherwise
    ``page[number]``/``page[size]``. ``total`` (the number of items) gives ``last`` and decides
    ``next``; without it ``has_next`` decides ``next`` and ``last`` is null. Other query parameters of
    ``url`` are kept. A link that does not exist is ``None`` (written as ``null``).
    """
    parts = urlsplit(url)
    base_pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("page[")
    ]

    def at(start: int) -> str:
        if page.offset is not None:
            pairs = [("page[offset]", str(start)), ("page[limit]", str(page.size))]
        else:
            pairs = [("page[number]", str(start // page.size + 1)), ("page[size]", str(page.size))]
        query = urlencode(base_pairs + pairs, safe="[]")
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    start = page.start
    size = page.size
    if total is not None:
        more = start + size < total
        last_start = (
            max(0, (total - 1) // size * size) if page.offset is None else max(0, total - size)
        )
    else:
        more = bool(has_next)
        last_start = -1
    return {
        "self": at(start),
        "first": at(0),
        "prev": at(max(0, start - size)) if start > 0 else None,
        "next": at(start + size) if more else None,
        "last": at(last_start) if last_start >= 0 else None,
    }

"""Writing documents: round trips, no forbidden nulls, empty collections, included, builders."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from midil_common.errors import InvalidDocumentError, InvalidQueryError
from midil_common.jsonapi import (
    MISSING,
    CreateDocument,
    Document,
    ErrorObject,
    ErrorSource,
    JSONAPIObject,
    Page,
    Relationship,
    RelationshipDocument,
    ResourceObject,
    UpdateDocument,
    apply_sparse_fieldsets,
    compound_document,
    error_document,
    errors_from_exception,
    identifier,
    pagination_links,
    parse_query,
    resource,
    resource_from,
    to_many,
    to_one,
)

SUITE = Path(__file__).resolve().parent / "conformance"  # vendored: see PROVENANCE.md there
MODELS: dict[str, type[Any]] = {
    "request/resource/create": CreateDocument,
    "request/resource/update": UpdateDocument,
    "request/relationship/update": RelationshipDocument,
    "response": Document,
}
VALID = sorted(p for p in SUITE.rglob("*.json") if "/valid/" in p.as_posix())


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(SUITE)))
def test_round_trip_gives_the_same_json(path: Path) -> None:
    text = path.read_text()
    posix = path.as_posix()
    (model,) = [m for prefix, m in MODELS.items() if f"/{prefix}/" in posix]
    context = {"jsonapi_version": "1.0"} if "/tests-1.0/" in posix else None
    doc = model.model_validate_json(text, context=context)
    written = doc.model_dump_json()
    assert json.loads(written) == json.loads(text)
    again = model.model_validate_json(written, context=context)
    assert again.model_dump_json() == written


def test_no_null_members_the_spec_forbids() -> None:
    res = ResourceObject(type="articles", id="1")
    assert json.loads(res.model_dump_json()) == {"type": "articles", "id": "1"}
    err = ErrorObject(status="401", code="invalid_token", title="Unauthorized")
    assert json.loads(err.model_dump_json()) == {
        "status": "401",
        "code": "invalid_token",
        "title": "Unauthorized",
    }
    assert err.detail is MISSING
    assert "null" not in Document.model_validate({"meta": {}}).model_dump_json()


def test_null_where_the_spec_allows_it_is_kept() -> None:
    doc = Document.model_validate(
        {"data": None, "links": {"self": "/a", "next": None}, "meta": {"x": None}}
    )
    assert json.loads(doc.model_dump_json()) == {
        "data": None,
        "links": {"self": "/a", "next": None},
        "meta": {"x": None},
    }
    rel = to_one("people", None)
    assert json.loads(rel.model_dump_json()) == {"data": None}


def test_an_empty_collection_is_an_empty_array() -> None:
    doc = compound_document([])
    assert json.loads(doc.model_dump_json()) == {"data": []}
    assert json.loads(to_many("tags", []).model_dump_json()) == {"data": []}


def test_included_is_written_when_include_was_requested() -> None:
    q = parse_query({"include": "author"})
    doc = compound_document([resource("articles", 1)], [], query=q)
    assert json.loads(doc.model_dump_json())["included"] == []
    doc = compound_document([resource("articles", 1)], [])
    assert "included" not in json.loads(doc.model_dump_json())


class Person(BaseModel):
    id: int
    name: str
    born: dt.date
    ref: uuid.UUID


def test_builders_make_a_compound_document() -> None:
    alice = Person(id=9, name="Alice", born=dt.date(1990, 1, 2), ref=uuid.UUID(int=1))
    person = resource_from(alice, "people", links={"self": "/people/9"})
    assert person.id == "9"
    assert person.attributes == {
        "name": "Alice",
        "born": "1990-01-02",
        "ref": str(uuid.UUID(int=1)),
    }
    comment = resource_from(
        {"id": "5", "body": "hi", "author": 9},
        "comments",
        exclude={"author"},
        relationships={"author": person},
    )
    articles = [
        resource(
            "articles",
            i,
            attributes={"title": f"t{i}"},
            relationships={"author": identifier("people", 9), "comments": [comment]},
        )
        for i in range(3)
    ]
    doc = compound_document(
        articles,
        [person, comment, person],
        links={"self": "/articles"},
        meta={"total": 3},
        jsonapi=JSONAPIObject(version="1.1"),
    )
    out = json.loads(doc.model_dump_json())
    assert [r["id"] for r in out["data"]] == ["0", "1", "2"]
    assert [(r["type"], r["id"]) for r in out["included"]] == [("people", "9"), ("comments", "5")]
    assert out["data"][0]["relationships"]["comments"] == {
        "data": [{"type": "comments", "id": "5"}]
    }
    assert (
        Document.model_validate_json(doc.model_dump_json()).model_dump_json()
        == doc.model_dump_json()
    )


def test_compound_document_refuses_unlinked_included() -> None:
    with pytest.raises(InvalidDocumentError) as info:
        compound_document([resource("articles", 1)], [resource("people", 2)])
    assert info.value.errors[0].source.pointer == "/included/0"  # type: ignore[union-attr]


def test_sparse_fieldsets_applied_and_linkage_relaxed() -> None:
    q = parse_query({"include": "author", "fields[articles]": "title"})
    art = resource(
        "articles",
        1,
        attributes={"title": "t", "body": "b"},
        relationships={"author": identifier("people", 2)},
    )
    doc = compound_document([art], [resource("people", 2, attributes={"name": "n"})], query=q)
    out = json.loads(doc.model_dump_json())
    assert out["data"][0] == {"type": "articles", "id": "1", "attributes": {"title": "t"}}
    assert out["included"][0]["attributes"] == {"name": "n"}
    trimmed = apply_sparse_fieldsets(art, {"articles": ("author",)})
    assert trimmed.attributes == {} and isinstance(trimmed.relationships["author"], Relationship)  # type: ignore[index]
    assert art.attributes == {"title": "t", "body": "b"}


def test_builders_refuse_what_the_spec_refuses() -> None:
    with pytest.raises(InvalidDocumentError):
        resource("bad type!", 1)
    with pytest.raises(InvalidDocumentError):
        resource("articles", 1, attributes={"id": 3})
    with pytest.raises(InvalidDocumentError):
        compound_document([resource("articles", 1), resource("articles", 1)])


def test_pagination_links_by_number_and_offset() -> None:
    q = parse_query({"page[number]": "2", "page[size]": "10", "sort": "-x"})
    links = pagination_links("https://api.test/articles?sort=-x&page[number]=2", q.page, total=35)
    assert links == {
        "self": "https://api.test/articles?sort=-x&page[number]=2&page[size]=10",
        "first": "https://api.test/articles?sort=-x&page[number]=1&page[size]=10",
        "prev": "https://api.test/articles?sort=-x&page[number]=1&page[size]=10",
        "next": "https://api.test/articles?sort=-x&page[number]=3&page[size]=10",
        "last": "https://api.test/articles?sort=-x&page[number]=4&page[size]=10",
    }
    first = pagination_links("/a", Page(size=10), has_next=False)
    assert first["prev"] is None and first["next"] is None and first["last"] is None
    off = pagination_links("/a", Page(size=10, offset=30, limit=10), total=35)
    assert off["next"] is None
    assert off["prev"] == "/a?page[offset]=20&page[limit]=10"
    assert off["last"] == "/a?page[offset]=25&page[limit]=10"
    doc = compound_document([], links=links)
    Document.model_validate_json(doc.model_dump_json(), context={"jsonapi_version": "1.0"})


def test_error_document_body() -> None:
    errs = [
        ErrorObject(
            status="401",
            code="invalid_token",
            title="Unauthorized",
            detail="expired",
            source=ErrorSource(parameter="sort"),
        )
    ]
    body = json.loads(error_document(errs).model_dump_json())
    assert body == {
        "errors": [
            {
                "status": "401",
                "code": "invalid_token",
                "title": "Unauthorized",
                "detail": "expired",
                "source": {"parameter": "sort"},
            }
        ]
    }
    Document.model_validate(body)
    with pytest.raises(ValueError):
        error_document([])
    with pytest.raises(InvalidQueryError) as info:
        parse_query({"sort": ""})
    out = json.loads(error_document(errors_from_exception(info.value)).model_dump_json())
    assert out["errors"][0]["source"] == {"parameter": "sort"}
    assert out["errors"][0]["status"] == "400"


def test_model_dump_of_models_built_in_python_validates() -> None:
    payload: dict[str, Any] = {"data": {"type": "a", "id": "1"}}
    doc = Document(**payload)
    assert isinstance(doc.data, ResourceObject)
    Document.model_validate_json(doc.model_dump_json())

"""The rules no JSON Schema expresses: full linkage, uniqueness, lid consistency, fields namespace, modes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from midil_common.errors import InvalidDocumentError, JSONAPIError
from midil_common.jsonapi import (
    CreateDocument,
    Document,
    ErrorObject,
    Link,
    RelationshipDocument,
    ResourceObject,
    UpdateDocument,
    errors_from_validation,
)

V10 = {"jsonapi_version": "1.0"}


def article(i: str = "1", **rels: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"type": "articles", "id": i, "attributes": {"title": "t"}}
    if rels:
        res["relationships"] = rels
    return res


def person(i: str) -> dict[str, Any]:
    return {"type": "people", "id": i, "attributes": {"name": f"p{i}"}}


def author(i: str) -> dict[str, Any]:
    return {"data": {"type": "people", "id": i}}


def rejected(
    doc: Any, model: type[BaseModel] = Document, context: Any = None
) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocumentError) as info:
        model.model_validate(doc, context=context)
    assert info.value.status == 400
    assert isinstance(info.value, ValueError) and isinstance(info.value, JSONAPIError)
    return [(e.source.pointer, e.detail) for e in info.value.errors]  # type: ignore[union-attr]


def pointers(doc: Any, **kw: Any) -> list[str]:
    return [p for p, _ in rejected(doc, **kw)]


# ------------------------------------------------------------------------------------ full linkage


def test_full_linkage_accepts_included_resources_reached_from_data() -> None:
    doc = {"data": [article("1", author=author("9"))], "included": [person("9")]}
    assert Document.model_validate(doc).included[0].id == "9"  # type: ignore[index]


def test_full_linkage_accepts_chains_through_included_resources() -> None:
    comment = {
        "type": "comments",
        "id": "5",
        "relationships": {"author": author("9")},
    }
    doc = {
        "data": article("1", comments={"data": [{"type": "comments", "id": "5"}]}),
        "included": [comment, person("9")],
    }
    Document.model_validate(doc)


def test_full_linkage_rejects_an_unreferenced_included_resource() -> None:
    doc = {"data": [article("1", author=author("9"))], "included": [person("9"), person("10")]}
    found = rejected(doc)
    assert found[0][0] == "/included/1"
    assert "full linkage" in found[0][1]


def test_full_linkage_is_relaxed_when_sparse_fieldsets_were_applied() -> None:
    doc = {"data": [article("1")], "included": [person("10")]}
    assert pointers(doc) == ["/included/0"]
    Document.model_validate(doc, context={"sparse_fieldsets": True})
    Document.model_validate_json(json.dumps(doc), context={"sparse_fieldsets": True})


def test_full_linkage_counts_a_relationship_document_primary_data() -> None:
    # GET /articles/1/relationships/author?include=author: data are identifiers, included hangs on them.
    doc = {"data": {"type": "people", "id": "9"}, "included": [person("9")]}
    with pytest.raises(InvalidDocumentError):
        # the same type+id twice is still a duplicate
        Document.model_validate(doc)
    doc = {"data": [{"type": "people", "id": "9"}], "included": [person("10")]}
    assert pointers(doc) == ["/included/0"]


def test_empty_included_is_fine_and_kept() -> None:
    doc = Document.model_validate({"data": [], "included": []})
    assert json.loads(doc.model_dump_json()) == {"data": [], "included": []}


# -------------------------------------------------------------------------------------- uniqueness


def test_uniqueness_across_data_and_included() -> None:
    doc = {"data": [article("1", author=author("9"))], "included": [person("9"), person("9")]}
    assert pointers(doc) == ["/included/1"]
    doc = {"data": [article("1"), article("1")]}
    assert pointers(doc) == ["/data/1"]
    doc = {
        "data": article("1", related={"data": {"type": "articles", "id": "1"}}),
        "included": [article("1")],
    }
    assert "/included/0" in pointers(doc)


def test_same_id_different_type_is_not_a_duplicate() -> None:
    doc = {"data": [article("1"), {"type": "people", "id": "1"}]}
    Document.model_validate(doc)


def test_duplicate_identifiers_inside_one_to_many_linkage_are_allowed() -> None:
    tags = {"data": [{"type": "tags", "id": "1"}, {"type": "tags", "id": "1"}]}
    Document.model_validate({"data": article("1", tags=tags)})


# ---------------------------------------------------------------------------------------------- lid


def test_lid_in_a_create_document_and_its_identifiers() -> None:
    body = {
        "data": {
            "type": "articles",
            "lid": "a1",
            "attributes": {"title": "x"},
            "relationships": {"self-ref": {"data": {"type": "articles", "lid": "a1"}}},
        }
    }
    doc = CreateDocument.model_validate(body)
    assert doc.data.lid == "a1"


def test_lid_must_name_one_resource() -> None:
    doc = {
        "data": [
            {"type": "articles", "id": "1", "lid": "x"},
            {"type": "articles", "id": "2", "lid": "x"},
        ]
    }
    found = rejected(doc)
    assert found[0][0] == "/data/1/lid"


def test_a_resource_keeps_one_lid_across_representations() -> None:
    doc = {
        "data": [
            {
                "type": "articles",
                "id": "1",
                "lid": "x",
                "relationships": {"other": {"data": {"type": "articles", "id": "1", "lid": "y"}}},
            }
        ]
    }
    assert rejected(doc)[0][0] == "/data/0/relationships/other/data/lid"


def test_lid_only_resources_in_a_response_are_identified_by_lid() -> None:
    doc = {
        "data": {
            "type": "articles",
            "id": "1",
            "relationships": {"a": {"data": {"type": "people", "lid": "p"}}},
        },
        "included": [{"type": "people", "id": "5", "lid": "p"}],
    }
    Document.model_validate(doc)


def test_lid_is_refused_in_1_0_mode() -> None:
    body = {"data": {"type": "articles", "lid": "a1"}}
    assert pointers(body, model=CreateDocument, context=V10) == ["/data/lid"]
    CreateDocument.model_validate(body)


# ---------------------------------------------------------------------------- fields namespace etc.


@pytest.mark.parametrize(
    ("resource", "pointer"),
    [
        ({"type": "a", "id": "1", "attributes": {"type": 1}}, "/data/attributes/type"),
        (
            {"type": "a", "id": "1", "relationships": {"id": {"data": None}}},
            "/data/relationships/id",
        ),
        (
            {
                "type": "a",
                "id": "1",
                "attributes": {"x": 1},
                "relationships": {"x": {"data": None}},
            },
            "/data/relationships/x",
        ),
        ({"type": "a", "id": "1", "attributes": {"bad.name": 1}}, "/data/attributes/bad.name"),
        ({"type": "a", "id": "1", "attributes": {"-lead": 1}}, "/data/attributes/-lead"),
        ({"type": "a", "id": "1", "relationships": {"r": {}}}, "/data/relationships/r"),
        (
            {"type": "a", "id": "1", "relationships": {"r": {"links": {}}}},
            "/data/relationships/r/links",
        ),
        ({"type": "a", "id": "1", "relationships": {"r": 5}}, "/data/relationships/r"),
        ({"type": "a", "id": "1", "links": {"related": "/x"}}, "/data/links/related"),
        ({"type": "a", "id": "1", "links": {"self": 5}}, "/data/links/self"),
        (
            {"type": "a", "id": "1", "links": {"self": {"title": "no href"}}},
            "/data/links/self/href",
        ),
        ({"type": "a", "id": "1", "links": {"self": "has space"}}, "/data/links/self"),
        ({"type": "a b+", "id": "1"}, "/data/type"),
        ({"type": "a", "id": "1", "x": 1}, "/data/x"),
    ],
)
def test_resource_rules_point_at_the_offending_member(
    resource: dict[str, Any], pointer: str
) -> None:
    assert pointer in pointers({"data": resource})


def test_a_member_name_with_a_slash_or_tilde_is_escaped_in_the_pointer() -> None:
    found = pointers({"data": {"type": "a", "id": "1", "attributes": {"a/b~c": 1}}})
    assert found == ["/data/attributes/a~1b~0c"]


def test_at_members_are_kept_and_ignored_in_1_1() -> None:
    doc = {
        "@context": {"anything": [1, 2]},
        "data": {
            "type": "a",
            "id": "1",
            "@x": 1,
            "attributes": {"@y": None, "v": 1},
            "relationships": {"@z": "whatever", "r": {"data": None, "@w": 1}},
            "links": {"self": "/a/1", "@l": 1},
        },
    }
    parsed = Document.model_validate(doc)
    assert json.loads(parsed.model_dump_json()) == doc
    assert rejected(doc, context=V10)


def test_extension_members_are_accepted_in_1_1_and_count_as_content() -> None:
    Document.model_validate({"version:id": "42"})
    assert pointers({"version:id": "42"}, context=V10) == ["/version:id", ""]
    assert pointers({"ver-sion:id": "42"})[0] == "/ver-sion:id"


def test_top_level_exclusivity() -> None:
    assert pointers({"data": None, "errors": [{"title": "x"}]}) == [""]
    assert pointers({"included": [], "meta": {}}) == ["/included"]
    assert pointers({"links": {"self": "/x"}}) == [""]
    assert pointers({"errors": [{"title": "x"}], "links": {"next": "/2", "about": "/x"}}) == [
        "/links/about"
    ]


def test_error_objects() -> None:
    Document.model_validate({"errors": [{"status": "422", "source": {"pointer": ""}}]})
    assert pointers({"errors": [{"status": 422}]}) == ["/errors/0/status"]
    assert pointers({"errors": [{"status": "fine"}]}) == ["/errors/0/status"]
    assert pointers({"errors": [{"@only": 1}]}) == ["/errors/0"]
    assert pointers({"errors": [{"source": {"pointer": "data"}}]}) == ["/errors/0/source/pointer"]
    assert pointers({"errors": [{"links": {"type": "/t"}}]}, context=V10) == [
        "/errors/0/links/type"
    ]
    assert pointers({"errors": [{"source": {"header": "X"}}]}, context=V10) == [
        "/errors/0/source/header"
    ]


# --------------------------------------------------------------------------------------- 1.0 mode


def test_1_0_mode_requires_absolute_links_and_refuses_1_1_members() -> None:
    rel = {"data": {"type": "a", "id": "1", "links": {"self": "/a/1"}}}
    Document.model_validate(rel)
    assert pointers(rel, context=V10) == ["/data/links/self"]
    link = {"meta": {}, "links": {"self": {"href": "http://x.test/", "title": "t"}}}
    Document.model_validate(link)
    assert pointers(link, context=V10) == ["/links/self/title"]
    described = {"meta": {}, "links": {"describedby": "http://x.test/schema"}}
    Document.model_validate(described)
    assert pointers(described, context=V10) == ["/links/describedby"]
    nulls = {"meta": {}, "links": {"self": None, "next": None}}
    Document.model_validate(nulls)
    assert pointers(nulls, context=V10) == ["/links/self"]
    ext = {"meta": {}, "jsonapi": {"ext": ["http://x.test/ext"]}}
    Document.model_validate(ext)
    assert pointers(ext, context=V10) == ["/jsonapi/ext"]


def test_1_0_mode_refuses_links_and_relationships_inside_attribute_values() -> None:
    doc = {
        "data": {
            "type": "a",
            "id": "1",
            "attributes": {
                "address": {"street": "x", "nested": [{"links": 1}]},
                "ok": {"relationships": 2},
            },
        }
    }
    Document.model_validate(doc)
    assert sorted(pointers(doc, context=V10)) == [
        "/data/attributes/address/nested/0/links",
        "/data/attributes/ok/relationships",
    ]


# ----------------------------------------------------------------------------- request documents


def test_request_documents() -> None:
    UpdateDocument.model_validate({"data": {"type": "a", "id": "1", "attributes": {"x": None}}})
    assert pointers({"data": {"type": "a"}}, model=UpdateDocument) == ["/data"]
    assert pointers({"data": [{"type": "a"}]}, model=CreateDocument) == ["/data"]
    assert pointers(
        {"data": {"type": "a", "relationships": {"r": {"meta": {}}}}}, model=CreateDocument
    ) == ["/data/relationships/r"]
    assert pointers({"data": {"type": "a", "id": "1"}, "included": []}, model=CreateDocument) == [
        "/included"
    ]
    RelationshipDocument.model_validate({"data": None})
    RelationshipDocument.model_validate({"data": []})
    assert pointers({"data": [{"type": "t"}]}, model=RelationshipDocument) == ["/data/0"]
    assert pointers({}, model=RelationshipDocument) == ["/data"]


def test_standalone_models_apply_their_own_rules() -> None:
    with pytest.raises(InvalidDocumentError) as info:
        ResourceObject.model_validate({"type": "a", "attributes": {"id": 1}})
    assert info.value.errors[0].source.pointer == "/attributes/id"  # type: ignore[union-attr]
    with pytest.raises(InvalidDocumentError):
        Link.model_validate_json('{"href": "/x", "bogus": 1}')
    with pytest.raises(InvalidDocumentError):
        ErrorObject.model_validate({})
    assert Link.model_validate({"href": "/x"}).href == "/x"


def test_json_that_is_not_an_object_or_not_json() -> None:
    for text in ["[]", "1", "null", "{", "", '"data"']:
        with pytest.raises(InvalidDocumentError) as info:
            Document.model_validate_json(text)
        assert info.value.errors[0].source.pointer == ""  # type: ignore[union-attr]


# -------------------------------------------------------------------------- errors_from_validation


class Envelope(BaseModel):
    document: Document
    note: str


class Payload(BaseModel):
    title: str
    count: int


def test_a_nested_document_raises_validation_error_which_converts_with_pointers() -> None:
    bad = {"document": {"data": [article("1"), article("1")]}, "note": 5}
    with pytest.raises(ValidationError) as info:
        Envelope.model_validate(bad)
    errors = errors_from_validation(info.value, pointer_prefix="")
    found = {e.source.pointer for e in errors}  # type: ignore[union-attr]
    assert found == {"/document/data/1", "/note"}
    assert all(e.status == "400" for e in errors)


def test_errors_from_validation_escapes_rfc6901_and_prefixes() -> None:
    adapter_model = {"a/b": 1}
    with pytest.raises(ValidationError) as info:
        Payload.model_validate({"title": 5, **adapter_model})
    errors = errors_from_validation(info.value)
    assert {e.source.pointer for e in errors} == {  # type: ignore[union-attr]
        "/data/attributes/title",
        "/data/attributes/count",
    }

    class Odd(BaseModel):
        model_config = {"extra": "forbid"}
        x: int = 0

    with pytest.raises(ValidationError) as info2:
        Odd.model_validate({"a/b~c": 1})
    (err,) = errors_from_validation(info2.value, pointer_prefix="/data/attributes")
    assert err.source.pointer == "/data/attributes/a~1b~0c"  # type: ignore[union-attr]
    assert "a/b" not in (err.detail or "")


class _FrameworkError:
    """Shaped like FastAPI's RequestValidationError: ``errors()`` with a leading "body" segment."""

    def __init__(self, exc: ValidationError) -> None:
        self._errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


def test_errors_from_validation_accepts_framework_errors() -> None:
    with pytest.raises(ValidationError) as info:
        Payload.model_validate({"title": "x", "count": "many"})
    errors = errors_from_validation(_FrameworkError(info.value), drop_loc_prefix=("body",))
    assert [e.source.pointer for e in errors] == ["/data/attributes/count"]  # type: ignore[union-attr]
    errors = errors_from_validation(_FrameworkError(info.value), pointer_prefix="")
    assert [e.source.pointer for e in errors] == ["/body/count"]  # type: ignore[union-attr]


def test_unknown_members_are_caught_in_collections_too() -> None:
    rel = {"data": {"type": "b", "id": "1", "x": 1}, "y": 2}
    doc = {"data": [article("1", r=rel), article("2")], "included": [{**person("1"), "z": 0}]}
    assert sorted(pointers(doc)) == [
        "/data/0/relationships/r/data/x",
        "/data/0/relationships/r/y",
        "/included/0",
        "/included/0/z",
    ]

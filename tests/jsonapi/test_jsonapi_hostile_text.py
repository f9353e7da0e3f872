"""Text UTF-8 cannot write (a lone surrogate) in a document given as Python objects: refused as the
JSON entry point refuses it while parsing, with a pointer the error document can carry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from midil_common.errors import InvalidDocumentError
from midil_common.jsonapi import CreateDocument, Document
from midil_common.jsonapi.limits import UNENCODABLE


def _resource(**members: Any) -> dict[str, Any]:
    return {"type": "articles", "id": "1", **members}


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"data": _resource(attributes={"title": "\ud800"})}, "/data/attributes/title"),
        ({"data": _resource(attributes={"t": {"a": ["x", "\udfff"]}})}, "/data/attributes/t/a/1"),
        (
            {"data": _resource(attributes={"t": {"a": [{"\ud800": 1}]}})},
            "/data/attributes/t/a/0/\\ud800",
        ),
        ({"data": _resource(meta={"m": "a\ud800"})}, "/data/meta/m"),
        ({"data": _resource(), "meta": {"m": ["\ud800"]}}, "/meta/m/0"),
        (
            {"data": _resource(relationships={"r": {"data": None, "meta": {"m": "\udc00"}}})},
            "/data/relationships/r/meta/m",
        ),
        (
            {
                "data": [
                    _resource(attributes={"t": "ok"}),
                    {**_resource(), "id": "2", "attributes": {"t": "\ud800"}},
                ]
            },
            "/data/1/attributes/t",
        ),
    ],
)
def test_lone_surrogates_in_free_values_are_refused(document: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidDocumentError) as info:
        Document.model_validate(document)
    error = info.value.errors[0]
    assert (error.source.pointer, error.detail) == (pointer, UNENCODABLE)
    # The errors themselves are writable, and the JSON entry point refuses the same document.
    json.dumps([e.model_dump(mode="json") for e in info.value.errors]).encode()
    with pytest.raises(InvalidDocumentError):
        Document.model_validate_json(json.dumps(document))


def test_a_create_document_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidDocumentError):
        CreateDocument.model_validate({"data": {"type": "articles", "attributes": {"t": "\ud800"}}})


def test_other_non_ascii_text_is_accepted() -> None:
    text = "é \u2028 \U0001f600"
    doc = Document.model_validate(
        {"data": _resource(attributes={"t": text, "n": {text: [text]}}), "meta": {"m": text}}
    )
    assert json.loads(doc.model_dump_json())["data"]["attributes"]["n"] == {text: [text]}

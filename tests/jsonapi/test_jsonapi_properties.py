"""Property tests: parsers only ever raise their own error; builders only ever produce valid documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from midil_common.errors import InvalidDocumentError, InvalidQueryError
from midil_common.jsonapi import (
    CreateDocument,
    Document,
    RelationshipDocument,
    UpdateDocument,
    compound_document,
    is_member_name,
    parse_query,
    resource,
    to_many,
)

POINTER = re.compile(r"(?:/(?:[^~/]|~[01])*)*")
MODELS = (Document, CreateDocument, UpdateDocument, RelationshipDocument)
CONTEXTS = (None, {"jsonapi_version": "1.0"}, {"sparse_fieldsets": True})
SUITE = Path(__file__).resolve().parent / "conformance"  # vendored: see PROVENANCE.md there
SEEDS = [
    json.loads(p.read_text()) for p in sorted(SUITE.rglob("*.json")) if "/tests-" in p.as_posix()
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
jsonapi_keys = st.sampled_from(
    [
        "data",
        "errors",
        "meta",
        "links",
        "included",
        "jsonapi",
        "type",
        "id",
        "lid",
        "attributes",
        "relationships",
        "self",
        "related",
        "href",
        "status",
        "source",
        "pointer",
        "@x",
        "ext:m",
        "next",
    ]
)
# Documents shaped like JSON:API, so the generated input reaches the deeper rules too.
shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(jsonapi_keys | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=25,
)


def _check_document_error(exc: InvalidDocumentError) -> None:
    assert exc.status == 400 and exc.errors
    for err in exc.errors:
        pointer = err.source.pointer  # type: ignore[union-attr]
        assert isinstance(pointer, str) and POINTER.fullmatch(pointer)


@given(value=json_values | shaped, model=st.sampled_from(MODELS), context=st.sampled_from(CONTEXTS))
def test_random_json_only_raises_invalid_document_error(
    value: Any, model: Any, context: Any
) -> None:
    for attempt in (
        lambda: model.model_validate_json(json.dumps(value), context=context),
        lambda: model.model_validate(value, context=context),
    ):
        try:
            attempt()
        except InvalidDocumentError as exc:
            _check_document_error(exc)


@given(text=st.text(max_size=30) | st.binary(max_size=30))
def test_random_text_only_raises_invalid_document_error(text: str | bytes) -> None:
    try:
        Document.model_validate_json(text)
    except InvalidDocumentError as exc:
        _check_document_error(exc)


def _mutate(doc: Any, path: list[int], replacement: Any) -> Any:
    """Replace one member somewhere in ``doc`` (``path`` picks it) by ``replacement``."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return replacement
    if isinstance(doc, dict):
        keys = list(doc)
        key = keys[path[0] % len(keys)]
        return {**doc, key: _mutate(doc[key], path[1:], replacement)}
    i = path[0] % len(doc)
    return [*doc[:i], _mutate(doc[i], path[1:], replacement), *doc[i + 1 :]]


@settings(max_examples=200)
@given(
    seed=st.sampled_from(SEEDS),
    path=st.lists(st.integers(min_value=0, max_value=20), max_size=6),
    replacement=shaped,
    model=st.sampled_from(MODELS),
    context=st.sampled_from(CONTEXTS),
)
def test_mutated_conformance_documents_only_raise_invalid_document_error(
    seed: Any, path: list[int], replacement: Any, model: Any, context: Any
) -> None:
    doc = _mutate(seed, path, replacement)
    try:
        parsed = model.model_validate_json(json.dumps(doc), context=context)
    except InvalidDocumentError as exc:
        _check_document_error(exc)
    else:
        # Whatever is accepted is written back as the same JSON and accepted again.
        written = parsed.model_dump_json()
        assert json.loads(written) == doc
        model.model_validate_json(written, context=context)


query_keys = st.sampled_from(
    [
        "include",
        "sort",
        "fields[a]",
        "fields",
        "filter[x]",
        "filter",
        "page[size]",
        "page[number]",
        "page[offset]",
        "page[limit]",
        "page[cursor]",
        "page[x]",
        "apiKey",
        "foo",
        "a[b",
        "x]y",
        "[",
        "",
    ]
) | st.text(max_size=10)
query_values = st.sampled_from(
    ["", "a", "a.b", "-a,b", "1", "0", "101", "a,,b", "-1", "x y"]
) | st.text(max_size=10)
allow = st.none() | st.frozensets(st.sampled_from(["a", "b", "a.b", "x", ""]), max_size=3)


@given(
    pairs=st.lists(st.tuples(query_keys, query_values), max_size=8),
    allowed_include=allow,
    allowed_sort=allow,
    allowed_filters=allow,
    allowed_fields=st.none()
    | st.dictionaries(st.sampled_from(["a", "b"]), st.frozensets(st.sampled_from(["a", "b"]))),
    max_page_size=st.integers(min_value=1, max_value=200),
    as_text=st.booleans(),
)
def test_random_queries_only_raise_invalid_query_error(
    pairs: list[tuple[str, str]],
    allowed_include: Any,
    allowed_sort: Any,
    allowed_filters: Any,
    allowed_fields: Any,
    max_page_size: int,
    as_text: bool,
) -> None:
    from urllib.parse import urlencode

    params: Any = urlencode(pairs) if as_text else pairs
    try:
        q = parse_query(
            params,
            allowed_include=allowed_include,
            allowed_sort=allowed_sort,
            allowed_filters=allowed_filters,
            allowed_fields=allowed_fields,
            max_page_size=max_page_size,
        )
    except InvalidQueryError as exc:
        assert exc.status == 400 and exc.errors
        assert all(isinstance(e.source.parameter, str) for e in exc.errors)  # type: ignore[union-attr]
    else:
        assert q.page.size <= max(max_page_size, 20)
        if allowed_include is not None and q.include:
            assert all(
                any(a == p or a.startswith(p + ".") for a in allowed_include) for p in q.include
            )


member_names = st.from_regex(
    r"[a-zA-Z0-9]([a-zA-Z0-9_\- ]{0,6}[a-zA-Z0-9])?", fullmatch=True
).filter(lambda n: n not in ("type", "id"))
attribute_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(member_names, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=100)
@given(
    types=st.lists(member_names, min_size=1, max_size=3, unique=True),
    n_primary=st.integers(min_value=0, max_value=5),
    n_related=st.integers(min_value=0, max_value=5),
    attrs=st.dictionaries(member_names, attribute_values, max_size=4),
    rel_name=member_names,
    single=st.booleans(),
    include_requested=st.booleans(),
)
def test_every_document_the_builders_produce_validates(
    types: list[str],
    n_primary: int,
    n_related: int,
    attrs: dict[str, Any],
    rel_name: str,
    single: bool,
    include_requested: bool,
) -> None:
    assert is_member_name(rel_name)
    related_type = types[-1]
    related = [resource(related_type, f"r{i}", attributes=attrs) for i in range(n_related)]
    rel_attrs = {k: v for k, v in attrs.items() if k != rel_name}
    primary = [
        resource(
            types[0],
            i,
            attributes=rel_attrs,
            relationships={rel_name: to_many(related_type, [r.id for r in related])},  # type: ignore[misc]
        )
        for i in range(n_primary)
    ]
    data: Any = (primary[0] if primary else None) if single else primary
    included = related if primary else []
    doc = compound_document(data, included, include_requested=include_requested)
    text = doc.model_dump_json()
    again = Document.model_validate_json(text)
    assert again.model_dump_json() == text
    body = json.loads(text)
    assert ("included" in body) == (bool(included) or include_requested)
    if not single:
        assert isinstance(body["data"], list)

"""Hostile input: size, nesting, cycles, non-JSON numbers and echoed values give typed errors, fast.

Time bounds are behavioural and generous (the machine is shared): each one sits far above what the
linear code takes and far below what the quadratic code it replaced took.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import InvalidDocumentError, InvalidQueryError
from midil_common.jsonapi import (
    MAX_DEPTH,
    MAX_ERRORS,
    MAX_QUERY_ITEMS,
    CreateDocument,
    Document,
    ErrorObject,
    ErrorSource,
    JSONAPIObject,
    Link,
    Relationship,
    ResourceIdentifier,
    ResourceObject,
    compound_document,
    error_document,
    parse_query,
    resource,
)

CONTEXTS = (None, {"jsonapi_version": "1.0"})
HOSTILE = "\x00\x1b[31m\r\n<script>alert(1)</script>\\\"'" + "x" * 10_000


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail when the block takes longer than ``seconds`` (wall clock)."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f}s, bound {seconds}s"


def query_error(params: Any, **kw: Any) -> InvalidQueryError:
    with pytest.raises(InvalidQueryError) as info:
        parse_query(params, **kw)
    assert info.value.status == 400 and info.value.errors
    return info.value


def details(exc: InvalidQueryError | InvalidDocumentError) -> str:
    return " | ".join(e.detail or "" for e in exc.errors)


def written(exc: InvalidQueryError | InvalidDocumentError) -> str:
    """Everything a client or a log could see: the error document and the exception text."""
    return error_document(exc.errors).model_dump_json() + "\n" + str(exc)


# ------------------------------------------------------------------------------- query: size


def test_many_include_paths_without_an_allow_list_are_linear() -> None:
    paths = ",".join(f"rel{i}" for i in range(100_000))
    with within(5.0):
        q = parse_query({"include": paths}, max_items=200_000)
    assert q.include is not None and len(q.include) == 100_000
    assert q.include[:2] == ("rel0", "rel1")
    repeated = ",".join(["a", "b"] * 50_000)
    with within(5.0):
        assert parse_query({"include": repeated}, max_items=200_000).include == ("a", "b")


@pytest.mark.parametrize(
    ("key", "item"),
    [("include", "a{}"), ("sort", "-f{}"), ("fields[articles]", "f{}")],
)
def test_list_parameters_are_capped(key: str, item: str) -> None:
    at_cap = ",".join(item.format(i) for i in range(MAX_QUERY_ITEMS))
    parse_query({key: at_cap})
    over = ",".join(item.format(i) for i in range(MAX_QUERY_ITEMS + 1))
    exc = query_error({key: over})
    assert [e.source.parameter for e in exc.errors] == [key]  # type: ignore[union-attr]
    assert str(MAX_QUERY_ITEMS) in (exc.errors[0].detail or "")
    huge = ",".join(item.format(i) for i in range(200_000))
    with within(2.0):
        exc = query_error({key: huge})
    assert [e.source.parameter for e in exc.errors] == [key]  # type: ignore[union-attr]
    assert parse_query({key: over}, max_items=MAX_QUERY_ITEMS + 1)


def test_filter_keys_are_capped() -> None:
    at_cap = [(f"filter[f{i}]", "1") for i in range(MAX_QUERY_ITEMS)]
    assert len(parse_query(at_cap).filters) == MAX_QUERY_ITEMS
    over = [*at_cap, ("filter[last]", "1")]
    exc = query_error(over)
    assert [e.source.parameter for e in exc.errors] == ["filter[last]"]  # type: ignore[union-attr]
    assert str(MAX_QUERY_ITEMS) in (exc.errors[0].detail or "")
    with within(2.0):
        exc = query_error([("filter[x]", "1")] * 200_000)
    assert len(exc.errors) == 1


@pytest.mark.parametrize(
    "key", ["include", "sort", "fields[articles]", "filter[x]", "page[cursor]"]
)
def test_huge_and_odd_values_take_bounded_time(key: str) -> None:
    for value in (
        "a" * 1_000_000 + "!",
        "a " * 500_000 + "!",
        "a." * 500_000,
        "," * 1_000_000,
        "-" * 1_000_000,
        "\\" * 1_000_000,
        "\x00" * 1_000_000,
        "9" * 5_000,
    ):
        with within(2.0):
            try:
                parse_query({key: value})
            except InvalidQueryError as exc:
                assert exc.errors and len(written(exc)) < 10_000


def test_error_objects_are_capped() -> None:
    exc = query_error([(f"bad+{i}", "1") for i in range(100_000)])
    assert len(exc.errors) == MAX_ERRORS
    assert "more problems" in (exc.errors[-1].detail or "")
    assert [e.source.parameter for e in exc.errors[:2]] == ["bad+0", "bad+1"]  # type: ignore[union-attr]
    exc = query_error([(f"bad+{i}", "1") for i in range(MAX_ERRORS)])
    assert len(exc.errors) == MAX_ERRORS and "more problems" not in (exc.errors[-1].detail or "")


def test_a_huge_query_string_takes_bounded_time() -> None:
    paths = ",".join(f"r{i}" for i in range(100_000))
    text = "&".join(f"x{i}[a][b]=1" for i in range(100_000)) + "&include=" + paths
    with within(5.0):
        exc = query_error(text)
    assert [e.source.parameter for e in exc.errors] == ["include"]  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ query: echoes


@pytest.mark.parametrize(
    ("params", "kw"),
    [
        ({"include": HOSTILE}, {}),
        ({"include": "author," + HOSTILE}, {}),
        ({"include": "a" + HOSTILE[:50]}, {"allowed_include": {"author"}}),
        ({"include": "secretpath"}, {"allowed_include": {"author"}}),
        ({"sort": HOSTILE}, {}),
        ({"sort": "-secretfield"}, {"allowed_sort": {"title"}}),
        ({"fields[articles]": HOSTILE}, {}),
        ({"fields[articles]": "secretfield"}, {"allowed_fields": {"articles": {"title"}}}),
        ({"page[number]": HOSTILE}, {}),
        ({"page[size]": "9" * 5_000}, {}),
        ({"page[cursor]": HOSTILE, "page[number]": "1"}, {}),
    ],
)
def test_values_are_never_echoed(params: dict[str, str], kw: dict[str, Any]) -> None:
    exc = query_error(params, **kw)
    out = written(exc)
    assert "<script" not in out and "secret" not in out and "xxxxxxxxxx" not in out
    assert "\x1b" not in out and "99999999" not in out


@pytest.mark.parametrize(
    "key",
    [
        "unknown" + HOSTILE,
        HOSTILE,
        "fields[" + HOSTILE + "]",
        "filter[" + HOSTILE + "]",
        "page[" + HOSTILE + "]",
        "x]<script>",
        "é" * 5_000 + "+",
    ],
)
def test_names_are_echoed_bounded_and_escaped(key: str) -> None:
    exc = query_error({key: "1"})
    out = written(exc)
    assert "<script" not in out and "\x1b" not in out and "\\u0000" not in out
    for err in exc.errors:
        parameter = err.source.parameter  # type: ignore[union-attr]
        assert isinstance(parameter, str) and 0 < len(parameter) <= 200
        assert all(0x21 <= ord(c) <= 0x7E for c in parameter), parameter
        assert not set(parameter) & set("<>&\"'\\`")


def test_plain_names_are_echoed_as_they_are() -> None:
    exc = query_error({"fields[a+]": "1", "bad+Name": "1", "x]": "1", "page[foo]": "1"})
    assert sorted(e.source.parameter for e in exc.errors) == sorted(  # type: ignore[union-attr,type-var]
        ["fields[a+]", "bad+Name", "x]", "page[foo]"]
    )


hostile_text = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["<", ">", "\\", '"', "\x00", ","]),
    max_size=40,
)


@given(value=hostile_text, key=st.sampled_from(["include", "sort", "fields[t]", "page[number]"]))
def test_property_no_value_reaches_the_error_document(value: str, key: str) -> None:
    marked = value + "<q>" + value
    kw: dict[str, Any] = {
        "allowed_include": {"a"},
        "allowed_sort": {"a"},
        "allowed_fields": {"t": {"a"}},
    }
    try:
        parse_query({key: marked}, **kw)
    except InvalidQueryError as exc:
        assert "<q>" not in written(exc)
    else:  # pragma: no cover - "<q>" is never a well-formed value
        raise AssertionError("accepted")


@given(key=hostile_text)
def test_property_parameter_names_are_printable_and_bounded(key: str) -> None:
    try:
        parse_query([(key + "<", "1")])
    except InvalidQueryError as exc:
        for err in exc.errors:
            parameter = err.source.parameter  # type: ignore[union-attr]
            assert isinstance(parameter, str) and len(parameter) <= 200
            assert all(0x21 <= ord(c) <= 0x7E for c in parameter)
            assert "<" not in parameter
    else:  # pragma: no cover - "<" is never legal in a name
        raise AssertionError("accepted")


# --------------------------------------------------------------------------- documents: depth


def nested_dicts(levels: int) -> Any:
    """``levels`` objects nested in each other (the innermost one empty)."""
    value: Any = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def nested_lists(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def with_attribute(value: Any) -> dict[str, Any]:
    """A document whose one resource sits at level 2 and its attributes object at level 3."""
    return {"data": {"type": "t", "id": "1", "attributes": {"v": value}}}


# The attribute value itself is at level 4: at most MAX_DEPTH - 3 nested levels fit.
ROOM = MAX_DEPTH - 3


def validate_both(obj: Any, context: Any, *, json_too: bool = True) -> list[Callable[[], Any]]:
    """``model_validate`` of ``obj``, and ``model_validate_json`` of its text (str and bytes)."""
    attempts: list[Callable[[], Any]] = [lambda: Document.model_validate(obj, context=context)]
    if json_too:
        text = json.dumps(obj)
        attempts.append(lambda: Document.model_validate_json(text, context=context))
        attempts.append(lambda: Document.model_validate_json(text.encode(), context=context))
    return attempts


def assert_too_deep(obj: Any, context: Any, *, json_too: bool = True) -> None:
    for attempt in validate_both(obj, context, json_too=json_too):
        with within(2.0), pytest.raises(InvalidDocumentError) as info:
            attempt()
        exc = info.value
        assert exc.status == 400 and exc.errors
        assert f"nested deeper than {MAX_DEPTH} levels" in str(exc)
        assert any(f"{MAX_DEPTH} levels" in (e.detail or "") for e in exc.errors)
        assert "not valid JSON" not in str(exc)


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("levels", [1_000, 10_000])
@pytest.mark.parametrize("make", [nested_dicts, nested_lists])
def test_deep_attributes_are_refused_with_the_limit(
    context: Any, levels: int, make: Callable[[int], Any]
) -> None:
    # json.dumps itself recurses too deep here: the JSON text is written by hand.
    assert_too_deep(with_attribute(make(levels)), context, json_too=False)
    if make is nested_dicts:
        inner = '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)
    else:
        inner = "[" * levels + "]" * levels
    text = '{"data":{"type":"t","id":"1","attributes":{"v":' + inner + "}}}"
    for source in (text, text.encode()):
        with within(2.0), pytest.raises(InvalidDocumentError) as info:
            Document.model_validate_json(source, context=context)
        assert f"nested deeper than {MAX_DEPTH} levels" in str(info.value)
        assert "not valid JSON" not in str(info.value)


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("make", [nested_dicts, nested_lists])
def test_a_document_right_at_the_limit_is_accepted(
    context: Any, make: Callable[[int], Any]
) -> None:
    obj = with_attribute(make(ROOM))
    for attempt in validate_both(obj, context):
        doc = attempt()
        assert json.loads(doc.model_dump_json()) == obj
    assert_too_deep(with_attribute(make(ROOM + 1)), context)


@pytest.mark.parametrize("context", CONTEXTS)
def test_the_limit_counts_levels_from_the_top_wherever_the_value_sits(context: Any) -> None:
    # Collection (data at level 2, resources at 3, attributes at 4): one level less of room.
    obj: dict[str, Any] = {
        "data": [{"type": "t", "id": "1", "attributes": {"v": nested_dicts(ROOM - 1)}}]
    }
    for attempt in validate_both(obj, context):
        attempt()
    obj["data"][0]["attributes"]["v"] = nested_dicts(ROOM)
    assert_too_deep(obj, context)
    # Top-level meta (level 2): its values may nest MAX_DEPTH - 2 levels.
    for attempt in validate_both({"meta": {"v": nested_lists(MAX_DEPTH - 2)}}, context):
        attempt()
    assert_too_deep({"meta": {"v": nested_lists(MAX_DEPTH - 1)}}, context)


def test_deep_values_in_every_free_form_place_are_refused() -> None:
    deep = nested_dicts(200)
    places: list[dict[str, Any]] = [
        {"meta": {"m": deep}},
        {"meta": {}, "@ext": deep},
        {"meta": {}, "ns:member": deep},
        {"meta": {}, "links": {"self": {"href": "x", "meta": {"m": deep}}}},
        {"meta": {}, "jsonapi": {"meta": {"m": deep}}},
        {"errors": [{"meta": {"m": deep}}]},
        {"errors": [{"status": "400", "source": {"@x": deep}}]},
        {"data": {"type": "t", "id": "1", "meta": {"m": deep}}},
        {"data": {"type": "t", "id": "1", "@x": deep}},
        {"data": {"type": "t", "id": "1", "relationships": {"@r": deep}}},
        {
            "data": {
                "type": "t",
                "id": "1",
                "relationships": {"r": {"data": {"type": "u", "id": "2", "meta": {"m": deep}}}},
            }
        },
        {
            "data": [
                {
                    "type": "t",
                    "id": "1",
                    "relationships": {"r": {"meta": {"m": deep}}},
                }
            ]
        },
    ]
    for obj in places:
        for attempt in validate_both(obj, None)[:1]:
            with pytest.raises(InvalidDocumentError) as info:
                attempt()
            assert f"nested deeper than {MAX_DEPTH} levels" in details(info.value), obj


def test_describedby_chains_count_as_nesting() -> None:
    def chain(levels: int) -> dict[str, Any]:
        link: dict[str, Any] = {"href": "https://x.example/d"}
        for _ in range(levels - 1):
            link = {"href": "https://x.example/d", "describedby": link}
        return link

    # Document (1), links (2), the first link object (3): MAX_DEPTH - 2 link objects fit.
    ok = {"meta": {}, "links": {"self": chain(MAX_DEPTH - 2)}}
    for attempt in validate_both(ok, None):
        attempt()
    assert_too_deep({"meta": {}, "links": {"self": chain(MAX_DEPTH - 1)}}, None)
    assert_too_deep({"meta": {}, "links": {"self": chain(150)}}, None)
    assert_too_deep({"meta": {}, "links": {"self": chain(5_000)}}, None, json_too=False)
    cyclic: dict[str, Any] = {"href": "x"}
    cyclic["describedby"] = cyclic
    with pytest.raises(InvalidDocumentError):
        Document.model_validate({"meta": {}, "links": {"self": cyclic}})


@pytest.mark.parametrize("context", CONTEXTS)
def test_cyclic_objects_are_invalid_documents(context: Any) -> None:
    cyclic_dict: dict[str, Any] = {"x": 1}
    cyclic_dict["self"] = cyclic_dict
    cyclic_list: list[Any] = [1]
    cyclic_list.append(cyclic_list)
    indirect: dict[str, Any] = {"l": [{"m": None}]}
    indirect["l"][0]["m"] = indirect
    for value in (cyclic_dict, cyclic_list, indirect):
        for obj in (with_attribute(value), {"meta": {"v": value}}, {"meta": value}):
            with within(2.0), pytest.raises(InvalidDocumentError) as info:
                Document.model_validate(obj, context=context)
            assert info.value.errors
    attributes: dict[str, Any] = {}
    attributes["loop"] = attributes
    with pytest.raises(InvalidDocumentError):
        resource("t", 1, attributes=attributes)


def test_standalone_objects_apply_the_same_limits() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["c"] = cyclic
    # Each object is level 1 here: its meta at 2, so meta values may nest MAX_DEPTH - 2 levels.
    for model, body in (
        (ResourceObject, {"type": "t", "id": "1", "meta": {}}),
        (ResourceIdentifier, {"type": "t", "id": "1", "meta": {}}),
        (Relationship, {"meta": {}}),
        (Link, {"href": "https://x.example", "meta": {}}),
        (ErrorObject, {"status": "400", "meta": {}}),
        (JSONAPIObject, {"version": "1.1", "meta": {}}),
    ):
        model.model_validate({**body, "meta": {"v": nested_dicts(MAX_DEPTH - 2)}})
        for bad in (nested_dicts(MAX_DEPTH - 1), cyclic, [math.nan]):
            with pytest.raises(InvalidDocumentError):
                model.model_validate({**body, "meta": {"v": bad}})
    with pytest.raises(InvalidDocumentError):
        ErrorSource.model_validate({"pointer": "/a", "@x": cyclic})


@pytest.mark.parametrize("context", CONTEXTS)
def test_shared_values_are_fine_and_checked_once(context: Any) -> None:
    # A value referenced twice is not a cycle; sharing that doubles at each level stays linear.
    shared: Any = [{"k": 1.5}]
    for _ in range(25):  # 2**25 paths, 51 containers, 52 levels
        shared = [shared, {"s": shared}]
    with within(2.0):
        doc = Document.model_validate({"meta": {"a": shared, "b": shared}}, context=context)
    assert doc.meta["a"] is doc.meta["b"]  # type: ignore[index]
    with within(2.0):
        Document.model_validate(with_attribute(shared), context=context)


@given(levels=st.integers(min_value=1, max_value=2 * MAX_DEPTH), lists=st.booleans())
def test_property_both_entry_points_agree_on_depth(levels: int, lists: bool) -> None:
    obj = with_attribute(nested_lists(levels) if lists else nested_dicts(levels))
    outcomes = []
    for attempt in validate_both(obj, None):
        try:
            attempt()
        except InvalidDocumentError as exc:
            assert f"nested deeper than {MAX_DEPTH} levels" in str(exc)
            outcomes.append(False)
        else:
            outcomes.append(True)
    assert outcomes == [levels <= ROOM] * 3


# ------------------------------------------------------------------------- documents: numbers


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999"])
@pytest.mark.parametrize(
    "template",
    [
        '{"meta":{"n":%s}}',
        '{"meta":{"n":[1,{"x":%s}]}}',
        '{"data":{"type":"t","id":"1","attributes":{"n":%s}}}',
        '{"data":[{"type":"t","id":"1","attributes":{"n":[%s]}}]}',
        '{"meta":{},"@n":%s}',
        '{"meta":{},"links":{"self":{"href":"https://x.example","meta":{"n":%s}}}}',
        '{"errors":[{"meta":{"n":%s}}]}',
    ],
)
def test_non_json_numbers_are_refused(literal: str, template: str) -> None:
    text = template % literal
    for context in CONTEXTS:
        with pytest.raises(InvalidDocumentError) as info:
            Document.model_validate_json(text, context=context)
        assert "finite" in str(info.value)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_python_floats_are_refused(number: float) -> None:
    for obj in (
        {"meta": {"n": number}},
        {"meta": {"n": [[{"x": number}]]}},
        {"meta": {"n": (number,)}},
        with_attribute(number),
        {"data": [{"type": "t", "id": "1", "attributes": {"n": number}}]},
    ):
        for context in CONTEXTS:
            with pytest.raises(InvalidDocumentError) as info:
                Document.model_validate(obj, context=context)
            assert "finite" in str(info.value)
    with pytest.raises(InvalidDocumentError):
        resource("t", 1, attributes={"n": number})
    with pytest.raises(InvalidDocumentError):
        ResourceObject.model_validate({"type": "t", "id": "1", "meta": {"n": number}})
    with pytest.raises(InvalidDocumentError):
        CreateDocument.model_validate({"data": {"type": "t", "attributes": {"n": number}}})
    with pytest.raises(InvalidDocumentError):
        Link.model_validate({"href": "x", "meta": {"n": number}})
    with pytest.raises(InvalidDocumentError):
        compound_document(ResourceObject(type="t", id="1", attributes={"n": number}))
    with pytest.raises(ValueError, match="finite"):
        error_document([ErrorObject(status="400")], meta={"n": number})


def test_serialisation_never_turns_a_number_into_null() -> None:
    doc = Document.model_validate({"meta": {"n": 1.5, "big": 10**40, "tiny": 5e-324}})
    assert json.loads(doc.model_dump_json())["meta"] == {"n": 1.5, "big": 10**40, "tiny": 5e-324}
    # A document assembled without validation (or changed after it) cannot smuggle NaN out as null.
    for number in (math.nan, math.inf, -math.inf):
        built = Document.model_construct(meta={"n": [number]})
        with pytest.raises(ValueError, match="finite"):
            built.model_dump_json()


def test_huge_numbers_in_json_take_bounded_time() -> None:
    for digits in ("9" * 5_000, "9" * 100_000, "0." + "0" * 100_000 + "1", "1e" + "9" * 5_000):
        text = '{"meta":{"n":' + digits + "}}"
        with within(2.0):
            try:
                doc = Document.model_validate_json(text)
            except InvalidDocumentError as exc:
                assert exc.errors and "not valid JSON" not in str(exc)
            else:
                assert "null" not in doc.model_dump_json()


# -------------------------------------------------------------------------- documents: volume


def test_many_errors_are_reported_in_linear_time_and_capped() -> None:
    text = '{"data":[' + ",".join(["1"] * 20_000) + "]}"
    with within(5.0), pytest.raises(InvalidDocumentError) as info:
        Document.model_validate_json(text)
    errors = info.value.errors
    assert len(errors) == MAX_ERRORS and "more problems" in (errors[-1].detail or "")
    assert errors[0].source.pointer == "/data/0"  # type: ignore[union-attr]
    text = '{"data":[' + ",".join(['{"type":"t","id":"1"}'] * 20_000) + "]}"
    with within(5.0), pytest.raises(InvalidDocumentError) as info:
        Document.model_validate_json(text)
    errors = info.value.errors
    assert len(errors) == MAX_ERRORS and "more problems" in (errors[-1].detail or "")
    few = '{"data":[' + ",".join(["1"] * (MAX_ERRORS - 1)) + "]}"
    with pytest.raises(InvalidDocumentError) as info:
        Document.model_validate_json(few)
    assert len(info.value.errors) == MAX_ERRORS - 1
    text = (
        '{"data":{"type":"t","id":"1","attributes":{'
        + ",".join(f'"a{i}+":1' for i in range(20_000))
        + "}}}"
    )
    with within(5.0), pytest.raises(InvalidDocumentError):
        Document.model_validate_json(text)


def test_odd_strings_are_data_not_structure() -> None:
    value = "\\" * 1_000 + "\x00\x1f" + "[{" * 1_000 + '"' + "é" * 1_000
    obj = with_attribute(value)
    for attempt in validate_both(obj, None):
        doc = attempt()
        assert json.loads(doc.model_dump_json()) == obj


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=30,
)


def _height_and_finite(value: Any) -> tuple[int, bool]:
    if isinstance(value, float):
        return 0, math.isfinite(value)
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return 0, True
    below = [_height_and_finite(v) for v in value]
    return 1 + max((h for h, _ in below), default=0), all(f for _, f in below)


@given(
    value=json_like | st.builds(nested_lists, st.integers(min_value=55, max_value=70)),
    where=st.sampled_from(["attribute", "collection", "meta", "extension"]),
)
def test_property_both_entry_points_agree_on_free_values(value: Any, where: str) -> None:
    obj: dict[str, Any]
    if where == "attribute":
        obj, room = with_attribute(value), MAX_DEPTH - 3
    elif where == "collection":
        obj = {"data": [{"type": "t", "id": "1", "attributes": {"v": value}}]}
        room = MAX_DEPTH - 4
    elif where == "meta":
        obj, room = {"meta": {"v": value}}, MAX_DEPTH - 2
    else:
        obj, room = {"meta": {}, "ns:v": value}, MAX_DEPTH - 1
    height, finite = _height_and_finite(value)
    expected = finite and height <= room
    for attempt in validate_both(obj, None):
        try:
            doc = attempt()
        except InvalidDocumentError as exc:
            assert not expected, details(exc)
            assert exc.errors and all(e.source.pointer is not None for e in exc.errors)
        else:
            assert expected
            assert json.loads(doc.model_dump_json()) == obj

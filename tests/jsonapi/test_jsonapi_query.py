"""parse_query: every family, allow-lists, limits, repeated keys, pass-through and errors."""

from __future__ import annotations

from typing import Any

import pytest

from midil_common.errors import InvalidQueryError
from midil_common.jsonapi import FilterParam, Page, SortField, parse_query


def refused(params: Any, **kw: Any) -> list[str]:
    with pytest.raises(InvalidQueryError) as info:
        parse_query(params, **kw)
    assert info.value.status == 400
    for err in info.value.errors:
        assert err.status == "400"
    return [e.source.parameter for e in info.value.errors]  # type: ignore[union-attr]


def test_a_typical_query_in_every_input_shape() -> None:
    text = (
        "include=author,comments.author&fields[articles]=title,body&fields[people]="
        "&sort=-created,title&filter[published]=true&filter[author][name]=Al&filter[x.y]=1"
        "&page[number]=3&page[size]=25&apiKey=k1&apiKey=k2"
    )
    from urllib.parse import parse_qsl

    pairs = parse_qsl(text, keep_blank_values=True)
    mapping: dict[str, Any] = {}
    for k, v in pairs:
        mapping.setdefault(k, []).append(v)
    for params in (text, "?" + text, pairs, mapping):
        q = parse_query(params)
        assert q.include == ("author", "comments.author")
        assert q.sort == (SortField("created", True), SortField("title", False))
        assert dict(q.fields) == {"articles": ("title", "body"), "people": ()}
        assert q.filters == (
            FilterParam(("published",), "true"),
            FilterParam(("author", "name"), "Al"),
            FilterParam(("x.y",), "1"),
        )
        assert [f.name for f in q.filters] == ["published", "author.name", "x.y"]
        assert q.filter_value("author.name") == "Al" and q.filter_value("nope") is None
        assert q.page == Page(size=25, number=3)
        assert q.page.start == 50
        assert dict(q.extra) == {"apiKey": ("k1", "k2")}
        assert q.include_requested and q.sparse


def test_defaults() -> None:
    q = parse_query({})
    assert q.include is None and not q.include_requested
    assert q.sort == () and dict(q.fields) == {} and q.filters == () and dict(q.extra) == {}
    assert q.page == Page(size=20) and q.page.start == 0
    assert parse_query({}, default_page_size=7).page.size == 7
    assert parse_query({"include": ""}).include == ()


def test_allow_lists() -> None:
    kw: dict[str, Any] = dict(
        allowed_include={"author", "comments.author"},
        allowed_sort={"created"},
        allowed_fields={"articles": {"title", "body"}},
        allowed_filters={"published", "author.name"},
    )
    q = parse_query(
        {
            "include": "comments,comments.author",
            "sort": "-created",
            "fields[articles]": "title",
            "filter[author][name]": "x",
            "filter[published]": "1",
        },
        **kw,
    )
    assert q.include == ("comments", "comments.author")
    assert refused({"include": "tags"}, **kw) == ["include"]
    assert refused({"sort": "title"}, **kw) == ["sort"]
    assert refused({"fields[people]": "name"}, **kw) == ["fields[people]"]
    assert refused({"fields[articles]": "secret"}, **kw) == ["fields[articles]"]
    assert refused({"filter[secret]": "1"}, **kw) == ["filter[secret]"]
    assert refused({"filter": "expr"}, **kw) == ["filter"]
    assert parse_query({"filter": "expr"}).filters == (FilterParam((), "expr"),)


def test_an_empty_allow_list_means_not_supported() -> None:
    assert refused({"include": "a"}, allowed_include=set()) == ["include"]
    assert refused({"sort": "a"}, allowed_sort=()) == ["sort"]
    assert refused({"fields[a]": "b"}, allowed_fields={}) == ["fields[a]"]
    assert refused({"filter[a]": "b"}, allowed_filters=frozenset()) == ["filter[a]"]
    parse_query({}, allowed_include=set(), allowed_sort=(), allowed_fields={}, allowed_filters=())


def test_include_depth() -> None:
    assert parse_query({"include": "a.b.c"}).include == ("a.b.c",)
    assert refused({"include": "a.b.c.d"}) == ["include"]
    assert parse_query({"include": "a.b.c.d"}, max_include_depth=4).include == ("a.b.c.d",)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"include": "a,,b"}, "include"),
        ({"include": "a..b"}, "include"),
        ({"include": "a b+"}, "include"),
        ({"sort": ""}, "sort"),
        ({"sort": "--a"}, "sort"),
        ({"sort": "a,"}, "sort"),
        ({"fields": "a"}, "fields"),
        ({"fields[a][b]": "c"}, "fields[a][b]"),
        ({"fields[a+]": "c"}, "fields[a+]"),
        ({"fields[a]": "b,c.d"}, "fields[a]"),
        ({"filter[]": "1"}, "filter[]"),
        ({"filter[a+b]": "1"}, "filter[a+b]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[limit]": "1000"}, "page[limit]"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[number]": "0"}, "page[number]"),
        ({"page[number]": "-1"}, "page[number]"),
        ({"page[number]": "1.5"}, "page[number]"),
        ({"page[offset]": "x"}, "page[offset]"),
        ({"page[cursor]": ""}, "page[cursor]"),
        ({"page[foo]": "1"}, "page[foo]"),
        ({"page": "1"}, "page"),
        ({"unknown": "1"}, "unknown"),
        ({"include[x]": "1"}, "include[x]"),
        ({"bad+Name": "1"}, "bad+Name"),
        ({"x]": "1"}, "x]"),
        ({"[a]": "1"}, "[a]"),
        ({"a[b]c": "1"}, "a[b]c"),
    ],
)
def test_malformed_parameters_are_400_with_the_parameter(
    params: dict[str, str], parameter: str
) -> None:
    assert refused(params) == [parameter]


def test_page_strategies_do_not_mix() -> None:
    assert refused({"page[number]": "1", "page[offset]": "0"}) == ["page[offset]"]
    assert refused({"page[cursor]": "abc", "page[number]": "2"}) == ["page[cursor]"]
    q = parse_query({"page[cursor]": "abc", "page[size]": "5"})
    assert q.page == Page(size=5, cursor="abc") and q.page.start == 0
    q = parse_query({"page[offset]": "40", "page[limit]": "10"})
    assert q.page.start == 40 and q.page.size == 10 and q.page.limit == 10
    assert parse_query({"page[size]": "100"}).page.size == 100
    assert parse_query({"page[size]": "150"}, max_page_size=200).page.size == 150


def test_repeated_single_valued_parameters_are_refused_and_filters_repeat() -> None:
    assert refused([("include", "a"), ("include", "b")]) == ["include"]
    assert refused([("page[size]", "1"), ("page[size]", "2")]) == ["page[size]"]
    q = parse_query([("filter[tag]", "a"), ("filter[tag]", "b")])
    assert [f.value for f in q.filters] == ["a", "b"]


def test_implementation_specific_parameters_pass_through() -> None:
    q = parse_query({"apiKey": "x", "api_key": "y", "camelCase[sub]": "z", "X-Trace": "t"})
    assert dict(q.extra) == {
        "apiKey": ("x",),
        "api_key": ("y",),
        "camelCase[sub]": ("z",),
        "X-Trace": ("t",),
    }


def test_all_errors_are_reported_at_once_and_values_are_not_echoed() -> None:
    with pytest.raises(InvalidQueryError) as info:
        parse_query({"sort": "", "page[size]": "999", "nope": "secret-token-value"})
    assert [e.source.parameter for e in info.value.errors] == ["sort", "nope", "page[size]"]  # type: ignore[union-attr]
    assert "secret-token-value" not in str(info.value)
    assert all("secret-token-value" not in (e.detail or "") for e in info.value.errors)


def test_bad_input_shapes_are_invalid_query_errors() -> None:
    refused([("a",)])  # type: ignore[list-item]
    refused([("sort", 5)])  # type: ignore[list-item]
    refused({5: "x"})
    refused([None])  # type: ignore[list-item]


class _StarletteLike:
    def multi_items(self) -> list[tuple[str, str]]:
        return [("filter[t]", "a"), ("filter[t]", "b")]


class _DjangoLike(dict[str, str]):
    def lists(self) -> list[tuple[str, list[str]]]:
        return [("filter[t]", ["a", "b"])]


def test_framework_multi_value_mappings_keep_repeats() -> None:
    for params in (_StarletteLike(), _DjangoLike({"filter[t]": "b"})):
        q = parse_query(params)  # type: ignore[arg-type]
        assert [f.value for f in q.filters] == ["a", "b"]

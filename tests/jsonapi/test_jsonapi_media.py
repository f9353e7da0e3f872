"""Content negotiation per the JSON:API 1.1 text (415 and 406 rules, ext and profile parameters)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import JSONAPIError, NotAcceptableError, UnsupportedMediaTypeError
from midil_common.jsonapi import MEDIA_TYPE, Negotiation, negotiate, parse_accept, parse_media_type

EXT = "https://jsonapi.org/ext/atomic"
EXT2 = "https://example.com/ext/version"
PROF = "https://example.com/profiles/timestamps"


def test_media_type_constant_and_parsing() -> None:
    assert MEDIA_TYPE == "application/vnd.api+json"
    m = parse_media_type(f'Application/VND.api+JSON; EXT="{EXT} {EXT2}"; profile=token-value')
    assert m is not None and m.is_jsonapi
    assert m.ext == (EXT, EXT2)
    assert m.profile == ("token-value",)
    assert parse_media_type(f"{MEDIA_TYPE}; profile={PROF}") is None  # "/" needs quoting
    assert m.other_params == ()
    assert parse_media_type("nonsense") is None
    assert parse_media_type('application/vnd.api+json; ext="unterminated') is None
    ranges = parse_accept(f'text/html;q=0.9, {MEDIA_TYPE}; ext="{EXT}, x", */*;q=0.1, garbage')
    assert [r.essence for r in ranges] == ["text/html", MEDIA_TYPE, "*/*"]
    assert ranges[1].ext == (EXT + ",", "x")


def test_plain_requests() -> None:
    n = negotiate(content_type=MEDIA_TYPE, accept=MEDIA_TYPE)
    assert n == Negotiation((), (), MEDIA_TYPE)
    assert negotiate(content_type=None, accept=None).content_type == MEDIA_TYPE
    assert negotiate(content_type=None, accept="*/*").content_type == MEDIA_TYPE
    assert negotiate(content_type=None, accept="application/*").content_type == MEDIA_TYPE
    assert negotiate(content_type=None, accept="").content_type == MEDIA_TYPE


@pytest.mark.parametrize(
    "content_type",
    [
        f"{MEDIA_TYPE}; charset=utf-8",
        f"{MEDIA_TYPE}; version=1.1",
        f"{MEDIA_TYPE}; q=1",
        f'{MEDIA_TYPE}; ext="{EXT}"',  # not supported by this server
        "application/json",
        "text/plain",
        "",
        "nonsense",
    ],
)
def test_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as info:
        negotiate(content_type=content_type, accept=MEDIA_TYPE)
    exc = info.value
    assert isinstance(exc, JSONAPIError) and exc.status == 415
    (err,) = exc.errors
    assert err.status == "415" and err.source.header == "Content-Type"  # type: ignore[union-attr]


def test_content_type_with_supported_extension_and_unknown_profile() -> None:
    n = negotiate(
        content_type=f'{MEDIA_TYPE}; ext="{EXT}"; profile="{PROF}"',
        accept=None,
        supported_extensions=[EXT],
    )
    assert n.extensions == (EXT,)
    assert n.profiles == ()  # unknown profiles are ignored, never a 415
    assert n.content_type == f'{MEDIA_TYPE}; ext="{EXT}"'


@pytest.mark.parametrize(
    "accept",
    [
        f"{MEDIA_TYPE}; charset=utf-8",
        f"{MEDIA_TYPE}; charset=utf-8, {MEDIA_TYPE}; foo=bar",
        f'{MEDIA_TYPE}; ext="{EXT}"',  # every instance asks for an unsupported extension
        f"{MEDIA_TYPE};q=0",
        "text/html",
        "application/json",
    ],
)
def test_406(accept: str) -> None:
    with pytest.raises(NotAcceptableError) as info:
        negotiate(content_type=None, accept=accept)
    assert info.value.status == 406
    (err,) = info.value.errors
    assert err.status == "406" and err.source.header == "Accept"  # type: ignore[union-attr]


def test_instances_with_other_parameters_are_ignored_when_a_plain_one_exists() -> None:
    n = negotiate(content_type=None, accept=f"{MEDIA_TYPE}; charset=utf-8, {MEDIA_TYPE}")
    assert n.content_type == MEDIA_TYPE
    # Once the JSON:API media type is named, only its instances count: a wildcard does not rescue it.
    with pytest.raises(NotAcceptableError):
        negotiate(content_type=None, accept=f"{MEDIA_TYPE}; charset=utf-8, text/html, */*")


def test_accept_with_supported_extensions_and_profiles() -> None:
    n = negotiate(
        content_type=None,
        accept=f'{MEDIA_TYPE}; ext="{EXT} {EXT2}"; profile="{PROF}", {MEDIA_TYPE};q=0.5',
        supported_extensions=[EXT, EXT2],
        supported_profiles=[PROF],
    )
    assert n.extensions == (EXT, EXT2)
    assert n.profiles == (PROF,)
    assert n.content_type == f'{MEDIA_TYPE}; ext="{EXT} {EXT2}"; profile="{PROF}"'
    n = negotiate(
        content_type=None,
        accept=f'{MEDIA_TYPE}; ext="{EXT2}", {MEDIA_TYPE}',
        supported_extensions=[EXT],
    )
    assert n.extensions == () and n.content_type == MEDIA_TYPE


header_text = st.text(
    alphabet=st.sampled_from(list('abcdefghijklmnopqrstuvwxyz/+*;=", .q0123456789-:')), max_size=40
)
header_parts = st.sampled_from(
    [
        MEDIA_TYPE,
        f'{MEDIA_TYPE}; ext="{EXT}"',
        f"{MEDIA_TYPE}; profile={EXT}",
        "*/*",
        "text/html;q=0.5",
        f"{MEDIA_TYPE};q=0",
        "application/json",
        ";;",
        '"',
        ",",
    ]
)


@given(
    content_type=st.none() | header_text | header_parts,
    accept=st.none() | header_text | st.lists(header_parts, max_size=4).map(", ".join),
    supported=st.lists(st.sampled_from([EXT, EXT2]), max_size=2),
)
def test_negotiation_only_raises_jsonapi_errors(
    content_type: str | None, accept: str | None, supported: list[str]
) -> None:
    try:
        n = negotiate(content_type=content_type, accept=accept, supported_extensions=supported)
    except (UnsupportedMediaTypeError, NotAcceptableError) as exc:
        assert exc.status in (406, 415) and len(exc.errors) == 1
    else:
        assert n.content_type.startswith(MEDIA_TYPE)
        assert set(n.extensions) <= set(supported)
        parsed = parse_media_type(n.content_type)
        assert parsed is not None and parsed.ext == n.extensions

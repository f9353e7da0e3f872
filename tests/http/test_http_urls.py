"""The one URL check: every URL it accepts is read alike by urllib.parse, urllib3, requests and httpx."""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.parse

import httpx
import pytest
import requests
import urllib3.util
from hypothesis import example, given
from hypothesis import strategies as st

from midil_common.errors import ConfigError, InvalidURLError
from midil_common.http.urls import check_url

_DEFAULT = {"http": 80, "https": 443}


def _norm(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int | None]:
    scheme = scheme.lower()
    host = (host or "").strip("[]").lower()
    with contextlib.suppress(ValueError):
        host = str(ipaddress.ip_address(host))
    return scheme, host, port if port is not None else _DEFAULT.get(scheme)


def _views(url: str) -> dict[str, tuple[str, str, int | None]]:
    """(scheme, host, port) of ``url`` as each library reads it; fails on user info."""
    split = urllib.parse.urlsplit(url)
    assert split.username is None and split.password is None
    parsed = urllib3.util.parse_url(url)
    assert parsed.auth is None
    prepared = requests.Request("GET", url).prepare()
    assert prepared.url is not None
    sent = urllib3.util.parse_url(prepared.url)
    assert sent.auth is None
    hx = httpx.URL(url)
    assert hx.userinfo == b""
    return {
        "urllib.parse": _norm(split.scheme, split.hostname, split.port),
        "urllib3": _norm(parsed.scheme or "", parsed.host, parsed.port),
        "requests": _norm(sent.scheme or "", sent.host, sent.port),
        "httpx": _norm(hx.scheme, hx.raw_host.decode("ascii"), hx.port),
    }


ATTACKS = [
    "http://127.0.0.1:1\\@127.0.0.1:2/x",
    "http://keys.attacker.example\\@127.0.0.1/jwks",
    "http://user:s3cr3t@127.0.0.1/",
    "http://127.0.0.1@evil.example/",
    "http://127.0.0.1\t.evil.example/",
    "http://127.0.0.1\n/",
    "http://127.0.0.1%2f@evil/",
    "http://[::1/",
    "http://[",
    "http://h:99999/",
    "http://h:0/",
    "http://h:/",
    "https:///evil.example/",
    "http:\\\\evil.example/",
    "http:/evil.example/",
    "javascript:alert(1)",
    "//evil.example/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://évil.example/",
    "http://evil.example\u3002com/",
    " http://h/",
    "http://h/\x00",
    "http://h/\u2028",
]


@pytest.mark.parametrize("url", ATTACKS)
def test_urls_that_parsers_could_read_differently_are_refused(url: str) -> None:
    with pytest.raises(InvalidURLError) as info:
        check_url(url, what="base_url")
    assert isinstance(info.value, ConfigError)
    assert info.value.variable == "base_url"
    # The URL itself may carry a secret: never echoed.
    assert "s3cr3t" not in str(info.value) and "attacker" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com",
        "https://api.example.com:8443/v1/users?q=a%20b#frag",
        "http://127.0.0.1:8080/x",
        "http://[::1]:8080/x",
        "HTTPS://API.Example.COM/",
        "https://xn--nxasmq6b.example/",
        "http://localhost/a b",
        "https://h/caf\u00e9",
    ],
)
def test_ordinary_urls_are_accepted_and_read_alike(url: str) -> None:
    assert check_url(url) == url
    assert len(set(_views(url).values())) == 1


_AUTHORITY_CHARS = st.sampled_from(
    [*"aZ09.-_:@[]\\/%#?! \t\r\n\x00\x7f\u00e9\u3002\uff0e\u2028", "::1", "127.0.0.1", "0x"]
)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "http:", ""]),
    authority=st.lists(_AUTHORITY_CHARS, max_size=14).map("".join),
    rest=st.text(alphabet="/?#a\\@:% \t\u00e9", max_size=8),
)
@example(scheme="http", authority="127.0.0.1:1\\@127.0.0.1:2", rest="/x")
@example(scheme="http", authority="a", rest="\\@b/")
def test_every_accepted_url_is_read_alike_by_every_parser(
    scheme: str, authority: str, rest: str
) -> None:
    url = f"{scheme}://{authority}{rest}"
    try:
        check_url(url)
    except InvalidURLError:
        return
    views = _views(url)
    assert len(set(views.values())) == 1, views

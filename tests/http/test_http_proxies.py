"""The core's proxy decision: one reading of HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY."""

from __future__ import annotations

import pytest

from midil_common.http.proxies import ProxyRules

ENV = {"HTTP_PROXY": "proxy:3128", "https_proxy": "http://sp:8080", "NO_PROXY": ""}


@pytest.mark.parametrize(
    ("no_proxy", "url", "expected"),
    [
        ("", "http://api.example.com/x", "http://proxy:3128"),
        ("", "https://api.example.com/x", "http://sp:8080"),
        ("*", "http://api.example.com/x", None),
        ("example.com", "http://api.example.com/x", None),
        ("example.com", "http://example.com/x", None),
        (".example.com", "http://example.com/x", None),
        ("example.com", "http://badexample.com/x", "http://proxy:3128"),
        ("EXAMPLE.com", "http://Api.Example.COM/x", None),
        ("10.0.0.0/8", "http://10.1.2.3/x", None),
        ("10.0.0.0/8", "http://11.1.2.3/x", "http://proxy:3128"),
        ("10.1.2.3:8080", "http://10.1.2.3:8080/x", None),
        ("10.1.2.3:8080", "http://10.1.2.3/x", "http://proxy:3128"),
        ("api.example.com:443", "https://api.example.com/x", None),
        ("::1", "http://[::1]:8000/x", None),
        ("[::1]:8000", "http://[::1]:8000/x", None),
        ("a.com, b.com ,,", "http://b.com/x", None),
    ],
)
def test_no_proxy_forms(no_proxy: str, url: str, expected: str | None) -> None:
    rules = ProxyRules.from_environ({**ENV, "NO_PROXY": no_proxy})
    assert rules.proxy_for(url) == expected


def test_lower_case_wins_and_all_proxy_is_the_fallback() -> None:
    rules = ProxyRules.from_environ(
        {"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1", "ALL_PROXY": "all:2"}
    )
    assert rules.proxy_for("http://h/") == "http://lower:1"
    assert rules.proxy_for("https://h/") == "http://all:2"
    assert ProxyRules.from_environ({}).proxy_for("http://h/") is None


def test_an_explicit_proxy_takes_every_request() -> None:
    rules = ProxyRules.explicit("http://user:pw@proxy:3128")
    assert rules.proxy_for("https://any.example/") == "http://user:pw@proxy:3128"

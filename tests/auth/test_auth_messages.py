"""Misconfiguration and common mistakes say what is wrong and how to fix it, in both shells."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import midil_async
import midil_sync
from midil_common.errors import ConfigError, JWKSFetchError, MalformedTokenError
from midil_common.testing import LocalIssuer

SHELLS = [midil_sync, midil_async]


@pytest.mark.parametrize("shell", SHELLS, ids=["sync", "async"])
@pytest.mark.parametrize("issuer", ["issuer.example", "ftp://issuer.example", "/issuer"])
def test_an_issuer_that_is_no_url_names_the_argument_and_the_fix(shell: Any, issuer: str) -> None:
    with pytest.raises(ConfigError) as info:
        shell.JWTAuthorizer(issuer)
    message = str(info.value)
    assert info.value.variable == "issuer"
    assert f"issuer {issuer!r}" in message and "https://" in message and "jwks_url" in message


async def test_an_issuer_with_a_trailing_slash_shows_both_values(
    local_issuer: LocalIssuer,
) -> None:
    for shell in SHELLS:
        authorizer = shell.JWTAuthorizer(local_issuer.url + "/", accept_any_audience=True)
        with pytest.raises(JWKSFetchError) as info:
            result = authorizer.verify(local_issuer.mint())
            if shell is midil_async:
                await result
        message = str(info.value)
        assert repr(local_issuer.url + "/") in message and repr(local_issuer.url) in message
        assert "trailing '/'" in message


@pytest.mark.parametrize(
    ("shape", "hint"),
    [
        ("Bearer {t}", "without the 'Bearer '"),
        ("bearer {t}", "without the 'Bearer '"),
        ("{t}\n", "whitespace"),
        (" {t}", "whitespace"),
        ("a.b.c.d.e", "JWE"),
    ],
)
async def test_a_common_token_mistake_is_named(
    local_issuer: LocalIssuer, shape: str, hint: str
) -> None:
    token = local_issuer.mint()
    for shell in SHELLS:
        authorizer = shell.JWTAuthorizer(local_issuer.url, accept_any_audience=True)
        with pytest.raises(MalformedTokenError, match=hint) as info:
            result = authorizer.verify(shape.format(t=token))
            if shell is midil_async:
                await result
        assert token not in str(info.value)


def test_a_failed_key_fetch_logs_its_facts_in_the_text(
    local_issuer: LocalIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="midil")
    local_issuer.fail("jwks", 503)
    authorizer = midil_sync.JWTAuthorizer(local_issuer.url, accept_any_audience=True)
    with pytest.raises(JWKSFetchError):
        authorizer.verify(local_issuer.mint())
    text = " ".join(r.getMessage() for r in caplog.records)
    assert local_issuer.url in text and "503" in text

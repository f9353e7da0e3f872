"""The ``MIDIL_HTTP__...`` timeouts and retry tuning reach the token requests of
``ClientCredentialsProvider.from_settings`` (and its Cognito preset), against the LocalIssuer;
what makes a token request a token request (POST and 500 retried, no redirects) stays."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from midil_common.auth.oauth import TOKEN_RETRY_POLICY
from midil_common.errors import TokenRequestError
from midil_common.http.types import Timeout
from midil_common.settings import HttpSettings, MidilSettings
from midil_common.testing import LocalIssuer


@pytest.fixture(autouse=True)
def service_environment(monkeypatch: pytest.MonkeyPatch, local_issuer: LocalIssuer) -> None:
    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)
    local_issuer.register_client("svc", "s3cret-value", scopes=["orders:read"])
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__TOKEN_URL", local_issuer.token_url)
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_ID", "svc")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET", "s3cret-value")


def _provider(shell: str, name: str = "ClientCredentialsProvider") -> Any:
    import midil_async
    import midil_sync

    module = midil_sync if shell == "sync" else midil_async
    return getattr(module, name).from_settings()


async def _token(provider: Any) -> Any:
    result = provider.get_token()
    return await result if hasattr(result, "__await__") else result


async def _close(provider: Any) -> None:
    closer = getattr(provider, "aclose", None)
    if closer is not None:
        await closer()
    else:
        provider.close()


async def test_the_read_timeout_and_attempts_bound_a_hanging_token_endpoint(
    shell: str, local_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_HTTP__READ_TIMEOUT", "0.3")
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATTEMPTS", "1")
    provider = _provider(shell)
    local_issuer.hang("token", 5.0)
    started = time.monotonic()
    try:
        with pytest.raises(TokenRequestError, match="cannot reach"):
            await _token(provider)
    finally:
        await _close(provider)
    assert time.monotonic() - started < 2.0  # not the 10 s of the constructor's default
    assert local_issuer.request_count("token") == 1


async def test_max_attempts_one_turns_the_token_retries_off(
    shell: str, local_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATTEMPTS", "1")
    provider = _provider(shell)
    local_issuer.fail("token", 503, times=1)
    try:
        with pytest.raises(TokenRequestError):
            await _token(provider)
    finally:
        await _close(provider)
    assert local_issuer.request_count("token") == 1


async def test_unset_retry_tuning_keeps_the_token_defaults(
    shell: str, local_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 of the token endpoint is retried (token requests are safe to repeat), though the
    http section's own statuses leave 500 out."""
    monkeypatch.setenv("MIDIL_HTTP__BACKOFF_INITIAL", "0")
    provider = _provider(shell)
    local_issuer.fail("token", 500, times=1)
    try:
        assert (await _token(provider)).access_token
    finally:
        await _close(provider)
    assert local_issuer.request_count("token") == 2


async def test_the_cognito_preset_takes_them_too(
    shell: str, local_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full URL with a path is kept as the token URL (a local server stands in for Cognito).
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__COGNITO_DOMAIN", local_issuer.token_url)
    monkeypatch.setenv("MIDIL_HTTP__READ_TIMEOUT", "0.3")
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATTEMPTS", "1")
    provider = _provider(shell, "CognitoClientCredentialsAuthenticator")
    local_issuer.hang("token", 5.0)
    started = time.monotonic()
    try:
        with pytest.raises(TokenRequestError):
            await _token(provider)
    finally:
        await _close(provider)
    assert time.monotonic() - started < 2.0
    assert local_issuer.request_count("token") == 1


def test_the_rule_in_the_core() -> None:
    from midil_common.auth.service_settings import token_request_kwargs

    nothing = token_request_kwargs(MidilSettings())
    assert nothing["retry"] == TOKEN_RETRY_POLICY
    assert nothing["timeout"] == Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
    tuned = token_request_kwargs(
        MidilSettings(http=HttpSettings(connect_timeout=1, read_timeout=2, max_attempts=5))
    )
    assert tuned["timeout"] == Timeout(connect=1.0, read=2.0, write=2.0, pool=1.0)
    retry = tuned["retry"]
    assert retry.max_attempts == 5
    assert "POST" in retry.idempotent_methods and 500 in retry.retry_statuses
    assert retry.deadline == TOKEN_RETRY_POLICY.deadline
    assert retry.budget_capacity is None

"""Hostile ``MIDIL_...`` values: ``load_settings`` raises ``ConfigError`` naming the variable, with
no secret in its message and no exception chain (a chained pydantic or JSON error keeps the raw
value); URL settings refuse user info; issuer checks never echo a URL's user info or query."""

from __future__ import annotations

import asyncio
import warnings

import pytest

import midil_async
import midil_sync
from midil_common.auth.discovery import check_issuer_url
from midil_common.errors import ConfigError
from midil_common.settings import load_settings

PW = "S3cretPw"
DEEP = "[" * 30000 + "]" * 30000


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)


def _refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> ConfigError:
    """The ``ConfigError`` of loading the settings with ``variable=value``, checked for leaks."""
    monkeypatch.setenv(variable, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a section variable (MIDIL_AUTH) also warns, once
        with pytest.raises(ConfigError) as info:
            load_settings()
    error = info.value
    assert error.variable == variable, str(error)
    assert variable in str(error)
    assert PW not in str(error) and PW not in repr(error.args)
    assert error.__cause__ is None and error.__context__ is None
    return error


@pytest.mark.parametrize(
    "variable", ["MIDIL_AUTH__CLIENT_IDS", "MIDIL_AUTH__AUDIENCE", "MIDIL_SERVICE_AUTH__SCOPE"]
)
def test_deeply_nested_json_in_a_list_setting_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    _refused(monkeypatch, variable, DEEP)


def test_deeply_nested_json_in_a_section_variable_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refused(monkeypatch, "MIDIL_AUTH", DEEP)


def test_invalid_json_in_a_section_variable_keeps_its_secret_out_of_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refused(monkeypatch, "MIDIL_SERVICE_AUTH", '{"client_secret": "' + PW + '", bad')


def test_a_refused_value_leaves_no_chain_holding_the_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pydantic's ValidationError keeps every input value, the client secret here included.
    monkeypatch.setenv(
        "MIDIL_SERVICE_AUTH", '{"client_secret": "' + PW + '", "auth_method": "' + PW + '"}'
    )
    with warnings.catch_warnings(), pytest.raises(ConfigError) as info:
        warnings.simplefilter("ignore")
        load_settings()
    assert info.value.variable == "MIDIL_SERVICE_AUTH__AUTH_METHOD"
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIDIL_AUTH__ISSUER", f"https://user:{PW}@idp.example"),
        ("MIDIL_AUTH__ISSUER", f"https://idp.example/?key={PW}"),
        ("MIDIL_AUTH__JWKS_URL", f"https://user:{PW}@idp.example/jwks"),
        ("MIDIL_SERVICE_AUTH__TOKEN_URL", f"https://svc:{PW}@idp.example/oauth2/token"),
        ("MIDIL_SERVICE_AUTH__COGNITO_DOMAIN", f"https://svc:{PW}@auth.example"),
        ("MIDIL_SERVICE_AUTH__COGNITO_DOMAIN", f"svc:{PW}@auth.example"),
    ],
)
def test_url_settings_refuse_user_info_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    _refused(monkeypatch, variable, value)


def test_url_settings_keep_what_a_valid_configuration_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # RFC 6749 section 3.2 allows a query in the token endpoint's URL.
    monkeypatch.setenv("MIDIL_AUTH__ISSUER", "https://idp.example/realms/main")
    monkeypatch.setenv("MIDIL_AUTH__JWKS_URL", "https://idp.example/jwks?tenant=a")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__TOKEN_URL", "https://idp.example/token?tenant=a")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__COGNITO_DOMAIN", "my.auth.eu-west-1.amazoncognito.com")
    settings = load_settings()
    assert settings.auth.issuer == "https://idp.example/realms/main"
    assert settings.service_auth.token_url == "https://idp.example/token?tenant=a"
    assert settings.service_auth.cognito_domain == "my.auth.eu-west-1.amazoncognito.com"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIDIL_HTTP__READ_TIMEOUT", "inf"),
        ("MIDIL_HTTP__CONNECT_TIMEOUT", "Infinity"),
        ("MIDIL_HTTP__DEADLINE", "inf"),
        ("MIDIL_HTTP__BACKOFF_MAX", "inf"),
        ("MIDIL_HTTP__RETRY_AFTER_MAX", "inf"),
        ("MIDIL_HTTP__BACKOFF_INITIAL", "nan"),
        ("MIDIL_SERVICE_AUTH__REFRESH_LEEWAY", "inf"),
    ],
)
def test_infinite_and_nan_numbers_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    _refused(monkeypatch, variable, value)


@pytest.mark.parametrize(
    "issuer",
    [
        f"https://user:{PW}@idp.example",
        f"http://user:{PW}@idp.example",
        f"http://idp.example/?key={PW}",
        f"ftp://idp.example/x?key={PW}",
    ],
)
def test_a_refused_issuer_is_not_echoed(issuer: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_issuer_url(issuer)
    assert PW not in str(info.value) and "@idp" not in str(info.value)
    assert "idp.example" in str(info.value)  # the host alone says which issuer
    assert info.value.variable == "issuer"
    for build in (
        lambda: midil_sync.OAuthClient(issuer, "cid"),
        lambda: midil_async.OAuthClient(issuer, "cid"),
        lambda: midil_sync.JWTAuthorizer(issuer, accept_any_audience=True),
    ):
        with pytest.raises(ConfigError) as built:
            made = build()
            if asyncio.iscoroutine(made):  # pragma: no cover - constructors are not coroutines
                asyncio.run(made)
        assert PW not in str(built.value)


@pytest.mark.parametrize("shell", [midil_sync, midil_async])
def test_reprs_mask_the_query_values_of_urls(
    monkeypatch: pytest.MonkeyPatch, shell: object
) -> None:
    # A token endpoint may take a query (RFC 6749 section 3.2), and a query may hold a secret;
    # a repr lands in logs and tracebacks.
    monkeypatch.setenv("MIDIL_AUTH__JWKS_URL", "https://idp.example/jwks?sig=SEKRET-1")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__TOKEN_URL", "https://idp.example/token?k=SEKRET-2")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_ID", "svc")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET", "SEKRET-3")
    settings = load_settings()
    provider = shell.ClientCredentialsProvider.from_settings(settings)  # type: ignore[attr-defined]
    client = shell.HttpClient(  # type: ignore[attr-defined]
        "https://api.example/v1?sig=SEKRET-4", auth=provider
    )
    shown = repr(settings) + repr(settings.auth) + repr(provider) + repr(client)
    assert "SEKRET" not in shown
    assert "https://idp.example/jwks?sig=" in shown and "https://api.example/v1?sig=" in shown

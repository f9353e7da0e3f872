"""Which ``MIDIL_SERVICE_AUTH__...`` settings build a token provider, decided once in the core."""

from __future__ import annotations

import pytest

import midil_async
import midil_sync
from midil_common.auth.service_settings import client_credentials_kwargs, cognito_client_kwargs
from midil_common.errors import ConfigError
from midil_common.settings import load_settings


def _settings(**section: object) -> object:
    return load_settings(service_auth=section)


def test_token_url_wins_over_the_cognito_domain() -> None:
    kwargs = client_credentials_kwargs(
        _settings(  # type: ignore[arg-type]
            token_url="http://127.0.0.1:9/token",
            cognito_domain="x.auth.eu-west-1.amazoncognito.com",
            client_id="svc",
            client_secret="s3cret",
            scope="a,b",
        )
    )
    assert kwargs["token_url"] == "http://127.0.0.1:9/token"
    assert kwargs["scope"] == ("a", "b")
    assert kwargs["client_secret"] == "s3cret"


def test_a_cognito_domain_alone_gives_its_token_url() -> None:
    kwargs = client_credentials_kwargs(
        _settings(  # type: ignore[arg-type]
            cognito_domain="x.auth.eu-west-1.amazoncognito.com", client_id="svc", client_secret="s"
        )
    )
    assert kwargs["token_url"] == "https://x.auth.eu-west-1.amazoncognito.com/oauth2/token"


@pytest.mark.parametrize(
    ("section", "variable"),
    [
        ({"token_url": "http://127.0.0.1:9/t", "client_secret": "s"}, "CLIENT_ID"),
        ({"token_url": "http://127.0.0.1:9/t", "client_id": "svc"}, "CLIENT_SECRET"),
        ({"client_id": "svc", "client_secret": "s"}, "TOKEN_URL"),
    ],
)
def test_missing_settings_name_their_variable(section: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        client_credentials_kwargs(_settings(**section))  # type: ignore[arg-type]
    assert info.value.variable == f"MIDIL_SERVICE_AUTH__{variable}"
    assert "s3cret" not in str(info.value)


def test_the_cognito_preset_needs_its_domain() -> None:
    with pytest.raises(ConfigError) as info:
        cognito_client_kwargs(_settings(client_id="svc", client_secret="s"))  # type: ignore[arg-type]
    assert info.value.variable == "MIDIL_SERVICE_AUTH__COGNITO_DOMAIN"


@pytest.mark.parametrize("shell", [midil_sync, midil_async], ids=["sync", "async"])
def test_both_shells_build_the_cognito_preset_from_settings(shell: object) -> None:
    settings = _settings(
        cognito_domain="http://127.0.0.1:9", client_id="svc", client_secret="s3cret", scope="a"
    )
    provider = shell.CognitoClientCredentialsAuthenticator.from_settings(settings)  # type: ignore[attr-defined]
    assert provider.token_url == "http://127.0.0.1:9/oauth2/token"
    assert provider.client_id == "svc"
    assert "s3cret" not in repr(provider)

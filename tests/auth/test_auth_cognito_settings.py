"""``MIDIL_AUTH__ALGORITHMS`` reaches ``CognitoJWTAuthorizer.from_settings``, safely: Cognito signs
with RS256, so RS256 alone stays the default and a list without it is a ``ConfigError``."""

from __future__ import annotations

import os
from typing import Any

import pytest

from midil_common.auth.cognito import cognito_issuer
from midil_common.auth.settings import cognito_kwargs
from midil_common.errors import ConfigError, UnsupportedAlgorithmError
from midil_common.settings import AuthSettings
from midil_common.testing import LocalIssuer

POOL = "us-east-1_Pool1"
APP = "app-client"


@pytest.fixture(autouse=True)
def cognito_environment(monkeypatch: pytest.MonkeyPatch, local_issuer: LocalIssuer) -> None:
    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_USER_POOL_ID", POOL)
    monkeypatch.setenv("MIDIL_AUTH__CLIENT_IDS", APP)
    monkeypatch.setenv("MIDIL_AUTH__JWKS_URL", local_issuer.jwks_url)


def _token(issuer: LocalIssuer, alg: str) -> str:
    claims = {"token_use": "access", "client_id": APP, "username": "ada"}
    return issuer.mint(iss=cognito_issuer(POOL), aud=None, alg=alg, claims=claims)


def _authorizer(shell: Any) -> Any:
    authorizer = shell.mod.CognitoJWTAuthorizer.from_settings()
    shell._made.append(authorizer)
    return authorizer


def test_by_default_cognito_accepts_rs256_only(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = _authorizer(shell)
    assert shell.verify(authorizer, _token(local_issuer, "RS256")).username == "ada"
    for alg in ("ES256", "PS256"):
        with pytest.raises(UnsupportedAlgorithmError):
            shell.verify(authorizer, _token(local_issuer, alg))


def test_the_algorithms_setting_reaches_the_cognito_authorizer(
    shell: Any, local_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__ALGORITHMS", "RS256,PS256")
    authorizer = _authorizer(shell)
    assert authorizer.verifier.policy.algorithms == {"RS256", "PS256"}
    assert shell.verify(authorizer, _token(local_issuer, "PS256")).username == "ada"
    assert shell.verify(authorizer, _token(local_issuer, "RS256")).username == "ada"
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, _token(local_issuer, "ES256"))


@pytest.mark.parametrize("value", ["ES256", "PS256,ES256"])
def test_a_list_without_rs256_is_refused_for_cognito(
    shell: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__ALGORITHMS", value)
    with pytest.raises(ConfigError) as info:
        shell.mod.CognitoJWTAuthorizer.from_settings()
    assert info.value.variable == "MIDIL_AUTH__ALGORITHMS"
    assert "RS256" in str(info.value)


@pytest.mark.parametrize("value", ["RS256,HS256", "RS256,none"])
def test_symmetric_or_none_cannot_be_allowed_for_cognito_either(
    shell: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__ALGORITHMS", value)
    with pytest.raises(ConfigError):
        shell.mod.CognitoJWTAuthorizer.from_settings()


def test_the_generic_default_is_not_widened_to_cognito() -> None:
    """The section's default (RS256, ES256) is `JWTAuthorizer`'s; Cognito keeps RS256."""
    kwargs = cognito_kwargs(AuthSettings(cognito_user_pool_id=POOL))
    assert kwargs.get("algorithms", ("RS256",)) == ("RS256",)

"""RFC 7519 section 4.1.3: a token naming audiences is refused unless one of them is checked.

An authorizer without ``audience`` refuses every token that carries ``aud``, as PyJWT does;
``accept_any_audience=True`` is the one explicit opt-out. A Cognito id token always names its app
client in ``aud``, so ``token_use="id"`` needs ``client_ids``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from midil_common.adapters.options import authorizer_spec
from midil_common.auth import TokenVerifier, VerificationPolicy, validate_claims
from midil_common.auth.settings import cognito_kwargs, jwt_kwargs
from midil_common.errors import ConfigError, InvalidAudienceError
from midil_common.settings import AuthSettings, load_settings
from midil_common.testing import LocalIssuer

AUD = "midil-test"
POOL = "eu-west-1_Pool1"


# ------------------------------------------------------------------------------------ the rule


@pytest.mark.parametrize("aud", [AUD, "anything", ["a", "b"], [AUD], [], None, 7])
def test_no_audience_configured_refuses_any_aud_claim(
    shell: Any, local_issuer: LocalIssuer, aud: Any
) -> None:
    authorizer = shell.jwt(local_issuer.url)
    token = local_issuer.mint(claims={"aud": aud})
    with pytest.raises(InvalidAudienceError):
        shell.verify(authorizer, token)
    # The refusal is the same on the second try (and on the verified-token cache's path).
    cached = shell.jwt(local_issuer.url, token_cache_size=8)
    for _ in range(2):
        with pytest.raises(InvalidAudienceError):
            shell.verify(cached, token)


def test_no_audience_configured_accepts_a_token_without_aud(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url)
    claims = shell.verify(authorizer, local_issuer.mint(sub="n", aud=None))
    assert claims.sub == "n" and claims.aud == ()


@pytest.mark.parametrize("aud", [AUD, "anything", ["a", "b"], None])
def test_accept_any_audience_is_the_explicit_opt_out(
    shell: Any, local_issuer: LocalIssuer, aud: Any
) -> None:
    authorizer = shell.jwt(local_issuer.url, accept_any_audience=True, token_cache_size=4)
    token = local_issuer.mint(sub="any", aud=aud)
    assert shell.verify(authorizer, token).sub == "any"
    assert shell.verify(authorizer, token).sub == "any"


def test_accept_any_audience_with_an_audience_is_a_config_error(shell: Any) -> None:
    with pytest.raises(ConfigError) as info:
        shell.jwt("https://issuer.example", audience=AUD, accept_any_audience=True)
    assert info.value.variable == "accept_any_audience"


def test_an_audience_still_checks_when_configured(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    assert shell.verify(authorizer, local_issuer.mint(aud=["x", AUD])).aud == ("x", AUD)
    for aud in (None, "other", []):
        with pytest.raises(InvalidAudienceError):
            shell.verify(authorizer, local_issuer.mint(aud=aud))


def test_multi_issuer_applies_each_authorizers_rule(shell: Any, local_issuer_factory: Any) -> None:
    first = local_issuer_factory(audience=AUD)
    second = local_issuer_factory(audience=AUD)
    multi = shell.multi([shell.jwt(first.url), shell.jwt(second.url, accept_any_audience=True)])
    with pytest.raises(InvalidAudienceError):
        shell.verify(multi, first.mint())
    assert shell.verify(multi, second.mint(sub="two")).sub == "two"


# ------------------------------------------------------------------------------------ the core


def _payload(issuer: LocalIssuer, **claims: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"iss": issuer.url, "sub": "s", "exp": 2_000_000_000}
    base.update(claims)
    return base


def test_core_policy_rule(local_issuer: LocalIssuer) -> None:
    issuer = local_issuer
    plain = VerificationPolicy.build(issuer.url)
    with pytest.raises(InvalidAudienceError):
        validate_claims(_payload(issuer, aud=AUD), plain, 0.0)
    with pytest.raises(InvalidAudienceError):
        validate_claims(_payload(issuer, aud=None), plain, 0.0)
    assert validate_claims(_payload(issuer), plain, 0.0).aud == ()
    lax = VerificationPolicy.build(issuer.url, accept_any_audience=True)
    assert validate_claims(_payload(issuer, aud=["p", "q"]), lax, 0.0).aud == ("p", "q")
    with pytest.raises(ConfigError):
        VerificationPolicy.build(issuer.url, audience="x", accept_any_audience=True)


def test_token_cache_entries_belong_to_the_policy_that_verified_them(
    local_issuer: LocalIssuer,
) -> None:
    issuer = local_issuer
    lax = VerificationPolicy.build(issuer.url, accept_any_audience=True)
    verifier = TokenVerifier(lax, jwks=issuer.jwks(), token_cache_size=8)
    token = issuer.mint()
    now = time.time()
    claims = verifier.check(token, now)
    assert verifier.check(token, now) is claims
    # The same verifier under the strict rule: the cached verification no longer counts.
    verifier.policy = dataclasses.replace(lax, accept_any_audience=False)
    with pytest.raises(InvalidAudienceError):
        verifier.check(token, now)


# ------------------------------------------------------------------------------------ Cognito


def test_cognito_id_tokens_need_client_ids(shell: Any) -> None:
    for client_ids in (None, [], ()):
        with pytest.raises(ConfigError) as info:
            shell.cognito(POOL, token_use="id", client_ids=client_ids)
        assert info.value.variable == "client_ids"
        assert "client_ids" in str(info.value)
    shell.cognito(POOL, token_use="id", client_ids=["app"])
    shell.cognito(POOL)  # access tokens carry no aud: client_ids stay optional
    with pytest.raises(ConfigError):
        cognito_kwargs(AuthSettings(cognito_user_pool_id=POOL, token_use="id"))


# ------------------------------------------------------------------------------------ settings


def test_settings_field_and_mapping(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert AuthSettings().accept_any_audience is False
    monkeypatch.setenv("MIDIL_AUTH__ISSUER", "https://issuer.example")
    monkeypatch.setenv("MIDIL_AUTH__ACCEPT_ANY_AUDIENCE", "true")
    settings = load_settings().auth
    assert settings.accept_any_audience is True
    assert jwt_kwargs(settings)["accept_any_audience"] is True
    authorizer = shell.mod.JWTAuthorizer.from_settings()
    assert authorizer.verifier.policy.accept_any_audience is True
    monkeypatch.setenv("MIDIL_AUTH__ACCEPT_ANY_AUDIENCE", "maybe")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.variable == "MIDIL_AUTH__ACCEPT_ANY_AUDIENCE"


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("1", True)])
def test_adapter_config_mapping(value: Any, expected: bool) -> None:
    kind, kwargs = authorizer_spec({"ISSUER": "https://i.example", "ACCEPT_ANY_AUDIENCE": value})
    assert kind == "jwt" and kwargs["accept_any_audience"] is expected
    _, kwargs = authorizer_spec({"ISSUER": "https://i.example", "ACCEPT_ANY_AUDIENCE": "false"})
    assert "accept_any_audience" not in kwargs
    _, kwargs = authorizer_spec(
        {"ISSUER": "https://i.example"}, AuthSettings(accept_any_audience=True)
    )
    assert kwargs["accept_any_audience"] is True

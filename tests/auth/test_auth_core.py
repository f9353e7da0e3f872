"""Pure core: JWKS cache decisions with an explicit clock, permissions, claims, settings."""

from __future__ import annotations

from typing import Any

import pytest

from midil_common.auth import (
    CognitoRules,
    Fetch,
    JWKSCache,
    KeySet,
    PermissionPolicy,
    Refuse,
    TokenClaims,
    Use,
    VerificationPolicy,
    VerifiedTokenCache,
    check_cognito_claims,
    check_fetch_url,
    cognito_jwks_url,
    discovery_url,
    response_max_age,
    verify_token,
)
from midil_common.errors import (
    ConfigError,
    InvalidAudienceError,
    InvalidClaimError,
    JWKSFetchError,
    KeyNotFoundError,
    PermissionDeniedError,
)
from midil_common.http.types import Headers
from midil_common.settings import AuthSettings
from midil_common.testing import LocalIssuer

_ISSUER = LocalIssuer(audience="aud")
_ISSUER._port = 1  # never started: only its keys and minting are used
KEYS = KeySet.from_jwks(_ISSUER.jwks())
KID = _ISSUER.kid("RS256")


def test_cold_cache_fetches_then_uses() -> None:
    cache = JWKSCache()
    assert cache.lookup(KID, "RS256", 0.0) == Fetch(KID, "RS256")
    cache.fetched(KEYS, 0.0)
    decision = cache.lookup(KID, "RS256", 1.0)
    assert isinstance(decision, Use) and decision.key.kid == KID
    assert cache.lookup(KID, "RS256", 599.0) is decision  # the ready-made hot path


def test_ttl_and_max_age_bounds() -> None:
    cache = JWKSCache(ttl=600, min_ttl=60, max_ttl=3600)
    cache.fetched(KEYS, 0.0)
    assert isinstance(cache.lookup(KID, "RS256", 599.9), Use)
    assert isinstance(cache.lookup(KID, "RS256", 600.0), Fetch)
    cache.fetched(KEYS, 1000.0, max_age=5)
    assert cache.fresh_until == 1060.0
    cache.fetched(KEYS, 2000.0, max_age=10**9)
    assert cache.fresh_until == 5600.0


def test_unknown_kid_one_refetch_then_cooldown_and_negative_cache() -> None:
    cache = JWKSCache(cooldown=10, negative_ttl=60)
    cache.fetched(KEYS, 0.0)
    wanted = cache.lookup("new", "RS256", 100.0)
    assert wanted == Fetch("new", "RS256")
    cache.fetched(KEYS, 100.0, wanted=wanted)  # the refetch did not bring it
    for kid in ("new", "other", "third"):
        refused = cache.lookup(kid, "RS256", 105.0)
        assert isinstance(refused, Refuse) and isinstance(refused.error, KeyNotFoundError)
    # After the cooldown, other kids may refetch; "new" stays negative-cached.
    assert isinstance(cache.lookup("other", "RS256", 111.0), Fetch)
    assert isinstance(cache.lookup("new", "RS256", 111.0), Refuse)
    assert isinstance(cache.lookup("new", "RS256", 161.0), Fetch)


def test_stale_if_error_until_max_stale() -> None:
    cache = JWKSCache(ttl=600, max_stale=3600, failure_backoff=10)
    cache.fetched(KEYS, 0.0)
    assert isinstance(cache.lookup(KID, "RS256", 700.0), Fetch)
    cache.fetch_failed("down", 700.0)
    assert isinstance(cache.lookup(KID, "RS256", 705.0), Use)  # stale, within backoff
    assert isinstance(cache.lookup(KID, "RS256", 711.0), Fetch)  # backoff over: try again
    cache.fetch_failed("down", 711.0)
    assert isinstance(cache.lookup(KID, "RS256", 712.0, allow_fetch=False), Use)
    too_old = cache.lookup(KID, "RS256", 600.0 + 3600.0 + 1, allow_fetch=False)
    assert isinstance(too_old, Refuse) and isinstance(too_old.error, JWKSFetchError)
    assert "down" in str(too_old.error)
    cache.fetched(KEYS, 5000.0)
    assert cache.failures == 0 and isinstance(cache.lookup(KID, "RS256", 5001.0), Use)


def test_failed_cold_fetch_is_rate_limited() -> None:
    cache = JWKSCache(failure_backoff=10)
    cache.fetch_failed("refused", 0.0)
    refused = cache.lookup(KID, "RS256", 5.0)
    assert isinstance(refused, Refuse) and isinstance(refused.error, JWKSFetchError)
    assert isinstance(cache.lookup(KID, "RS256", 10.0), Fetch)


def test_static_seed_never_fetches() -> None:
    cache = JWKSCache()
    cache.seed(KEYS, 0.0)
    assert isinstance(cache.lookup(KID, "RS256", 10**9), Use)
    assert isinstance(cache.lookup("x", "RS256", 0.0), Refuse)


def test_negative_config_is_refused() -> None:
    with pytest.raises(ConfigError):
        JWKSCache(cooldown=-1)


def test_keyset_rules() -> None:
    with pytest.raises(ValueError):
        KeySet.from_jwks(b"nope")
    with pytest.raises(ValueError):
        KeySet.from_jwks({"keys": [{"kty": "oct", "k": "AAAA"}]})
    single = KeySet.from_jwks(
        {"keys": [{k: v for k, v in _ISSUER.jwks()["keys"][0].items() if k != "kid"}]}
    )
    token = _ISSUER.mint(kid=None, now=1000)
    policy = VerificationPolicy.build(_ISSUER.url, audience="aud")
    assert verify_token(token, single, policy, 1001).sub == "user"
    with pytest.raises(KeyNotFoundError):
        verify_token(token, KEYS, policy, 1001)  # no kid and several keys: ambiguous


def test_pure_verification_at_any_time() -> None:
    policy = VerificationPolicy.build(_ISSUER.url, audience="aud", leeway=5)
    token = _ISSUER.mint(now=1_000_000, expires_in=60)
    assert verify_token(token, KEYS, policy, 1_000_064).exp == 1_000_060
    with pytest.raises(Exception, match="expired"):
        verify_token(token, KEYS, policy, 1_000_065)


def test_max_age_parsing() -> None:
    assert response_max_age(Headers({"Cache-Control": "public, max-age=300"})) == 300
    assert response_max_age(Headers({"Cache-Control": 'max-age="42", must-revalidate'})) == 42
    assert response_max_age(Headers({"Cache-Control": "no-store"})) == 0
    assert response_max_age(Headers({"Cache-Control": "private"})) is None
    assert response_max_age(Headers()) is None


def test_urls() -> None:
    assert (
        discovery_url("https://x.example/realm/")
        == "https://x.example/realm/.well-known/openid-configuration"
    )
    assert check_fetch_url("http://127.0.0.2:9/jwks")
    for bad in ("ftp://x.example/jwks", "http://x.example/jwks", "https:///jwks", "nonsense"):
        with pytest.raises(ConfigError):
            check_fetch_url(bad)
    assert cognito_jwks_url("us-east-1_Abc") == (
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc/.well-known/jwks.json"
    )


def _claims(**payload: Any) -> TokenClaims:
    return TokenClaims.from_payload(payload)


def test_claims_scopes_and_groups() -> None:
    claims = _claims(scope="a b  c", **{"cognito:groups": ["admins", "ops"]}, username="u")
    assert claims.scopes == {"a", "b", "c"} and claims.has_scopes("a", "c")
    assert claims.has_any_scope("z", "b") and not claims.has_any_scope("z")
    assert claims.in_group("ops") and not claims.in_group("x")
    assert claims.get("username") == "u" and claims.get("missing", 1) == 1
    assert "raw" not in repr(claims)
    assert _claims(scp=["x"]).scopes == {"x"}
    with pytest.raises(InvalidClaimError):
        _claims(scope=1)


def test_cognito_rules() -> None:
    rules = CognitoRules.build("access", client_ids="app", groups=["admins"])
    check_cognito_claims(_claims(token_use="access", client_id="app", groups=["admins"]), rules)
    with pytest.raises(InvalidClaimError):
        check_cognito_claims(_claims(token_use="id", client_id="app", groups=["admins"]), rules)
    with pytest.raises(InvalidAudienceError):
        check_cognito_claims(_claims(token_use="access", client_id="x", groups=["admins"]), rules)
    with pytest.raises(PermissionDeniedError):
        check_cognito_claims(_claims(token_use="access", client_id="app"), rules)


def test_permission_policy() -> None:
    policy = PermissionPolicy(
        scopes={"orders.rw": ["orders:*"]}, groups={"admins": ["*:*"], "auditors": ["*:read"]}
    )
    rw = _claims(scope="orders.rw")
    assert policy.check(rw, "orders", "write") and not policy.check(rw, "users", "read")
    assert policy.check(_claims(groups=["admins"]), "anything", "delete")
    assert policy.check(_claims(groups=["auditors"]), "users", "read")
    assert not policy.check(_claims(groups=["auditors"]), "users", "write")
    assert policy.check(_claims(scope="users:read"), "users", "read")
    assert not PermissionPolicy(scopes_as_permissions=False).check(
        _claims(scope="users:read"), "users", "read"
    )
    with pytest.raises(PermissionDeniedError) as info:
        policy.require(rw, "users", "read")
    assert info.value.permission == "users:read"
    with pytest.raises(ConfigError):
        PermissionPolicy(scopes={"x": ["no-colon"]})


def test_verified_token_cache_until_exp() -> None:
    cache = VerifiedTokenCache(maxsize=2)
    claims = _claims(exp=100)
    key = cache.digest("token")
    cache.put(key, claims)
    assert cache.get(key, 99.9) is claims
    assert cache.get(key, 100.0) is None and len(cache) == 0
    cache.put(cache.digest("no-exp"), _claims())
    assert len(cache) == 0
    for i in range(3):
        cache.put(cache.digest(f"t{i}"), _claims(exp=1000))
    assert len(cache) == 2 and cache.get(cache.digest("t0"), 0) is None


def test_verified_token_cache_is_lru_and_keeps_the_key() -> None:
    cache = VerifiedTokenCache(maxsize=2)
    t0, t1, t2 = (cache.digest(f"t{i}") for i in range(3))
    key = object()
    cache.put(t0, _claims(exp=1000), kid="k", alg="RS256", key=key)
    cache.put(t1, _claims(exp=1000))
    hit = cache.lookup(t0, 0)
    assert hit is not None and hit.kid == "k" and hit.alg == "RS256" and hit.key is key
    # t0 was used last, so t1 is the one evicted.
    cache.put(t2, _claims(exp=1000))
    assert cache.get(t0, 0) is not None and cache.get(t1, 0) is None and len(cache) == 2


def test_from_settings(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIL_AUTH__ISSUER", "https://issuer.example")
    monkeypatch.setenv("MIDIL_AUTH__AUDIENCE", "a,b")
    monkeypatch.setenv("MIDIL_AUTH__ALGORITHMS", '["RS256","PS256"]')
    authorizer = shell.mod.JWTAuthorizer.from_settings()
    policy = authorizer.verifier.policy
    assert policy.issuer == "https://issuer.example" and policy.audience == ("a", "b")
    assert policy.algorithms == {"RS256", "PS256"}
    cognito = shell.mod.CognitoJWTAuthorizer.from_settings(
        AuthSettings(cognito_user_pool_id="eu-west-1_Pool1", client_ids=("app",), token_use="id")
    )
    assert cognito.issuer.endswith("/eu-west-1_Pool1") and cognito.rules.token_use == "id"
    with pytest.raises(ConfigError) as info:
        shell.mod.JWTAuthorizer.from_settings(AuthSettings())
    assert info.value.variable == "MIDIL_AUTH__ISSUER"
    with pytest.raises(ConfigError):
        shell.mod.CognitoJWTAuthorizer.from_settings(AuthSettings())


def test_authorizers_satisfy_the_protocols(shell: Any) -> None:
    from midil_common.auth import AsyncAuthorizer, Authorizer

    authorizer = shell.jwt("https://issuer.example")
    protocol = Authorizer if shell.name == "sync" else AsyncAuthorizer
    assert isinstance(authorizer, protocol)

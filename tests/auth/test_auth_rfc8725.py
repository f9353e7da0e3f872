"""RFC 8725 (JWT best current practices) against both shells, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from pytest_httpserver import HTTPServer

from midil_common.errors import (
    ConfigError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    KeyNotFoundError,
    MalformedTokenError,
    TokenExpiredError,
    TokenNotYetValidError,
    UnsupportedAlgorithmError,
)
from midil_common.testing import LocalIssuer

AUD = "midil-test"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_token_verifies_with_discovery(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    token = local_issuer.mint(sub="alice", scope="orders:read orders:write")
    claims = shell.verify(authorizer, token)
    assert claims.sub == "alice" and claims.iss == local_issuer.url and claims.aud == (AUD,)
    assert claims.has_scopes("orders:read", "orders:write") and not claims.has_scopes("admin")
    assert claims.raw["jti"]
    assert local_issuer.request_count("discovery") == 1
    assert local_issuer.request_count("jwks") == 1
    shell.verify(authorizer, local_issuer.mint())
    assert local_issuer.request_count() == 2


def test_constructor_does_no_io(shell: Any, local_issuer: LocalIssuer) -> None:
    shell.jwt(local_issuer.url, audience=AUD)
    shell.cognito("eu-west-1_abc123", jwks_url=local_issuer.jwks_url)
    assert local_issuer.request_count() == 0


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "HS384", "HS512"])
def test_none_and_hmac_are_always_refused(shell: Any, local_issuer: LocalIssuer, alg: str) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.verify(authorizer, local_issuer.mint())
    if alg.lower() == "none":
        token = local_issuer.mint(alg="none", headers={"alg": alg})
    else:
        # The classic confusion: HMAC keyed with the issuer's public key material.
        token = local_issuer.mint(alg=alg)
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, token)


@pytest.mark.parametrize("algs", [["HS256"], ["none"], ["RS256", "HS256"], [], ["XX1"]])
def test_symmetric_or_unknown_algorithms_cannot_be_configured(
    shell: Any, local_issuer: LocalIssuer, algs: list[str]
) -> None:
    with pytest.raises(ConfigError):
        shell.jwt(local_issuer.url, algorithms=algs)


def test_algorithm_allow_list_and_opt_in(shell: Any, local_issuer: LocalIssuer) -> None:
    default = shell.jwt(local_issuer.url, audience=AUD)
    assert shell.verify(default, local_issuer.mint(alg="ES256")).sub == "user"
    for alg in ("PS256", "ES384", "RS384", "EdDSA"):
        with pytest.raises(UnsupportedAlgorithmError):
            shell.verify(default, local_issuer.mint(alg=alg))
    opted = shell.jwt(
        local_issuer.url, audience=AUD, algorithms=["PS256", "ES384", "RS384", "EdDSA"]
    )
    for alg in ("PS256", "ES384", "RS384", "EdDSA"):
        assert shell.verify(opted, local_issuer.mint(alg=alg, sub=alg)).sub == alg
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(opted, local_issuer.mint(alg="RS256"))


def test_key_type_must_fit_the_algorithm(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, algorithms=["RS256", "ES256"])
    # An ES256 token naming the RSA key's kid (and the other way round).
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, local_issuer.mint(alg="ES256", kid=local_issuer.kid("RS256")))
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, local_issuer.mint(alg="RS256", kid=local_issuer.kid("ES256")))
    # ES384 key (P-384) named by an ES256 token.
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, local_issuer.mint(alg="ES256", kid=local_issuer.kid("ES384")))


def _jwks_server(httpserver: HTTPServer, keys: list[dict[str, Any]]) -> str:
    httpserver.expect_request("/jwks").respond_with_json({"keys": keys})
    return httpserver.url_for("/jwks")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_jwk_alg_use_size_and_symmetric_rules(
    shell: Any,
    httpserver: HTTPServer,
    local_issuer: LocalIssuer,
    weak_rsa_key: Any,
    spare_rsa_key: Any,
    public_jwk: Callable[..., dict[str, Any]],
) -> None:
    good = local_issuer.private_key("RS256")
    keys = [
        public_jwk(good, kid="good", use="sig", alg="RS256"),
        public_jwk(spare_rsa_key, kid="rs384-only", alg="RS384"),
        public_jwk(spare_rsa_key, kid="enc", use="enc"),
        public_jwk(spare_rsa_key, kid="no-verify", key_ops=["encrypt"]),
        public_jwk(weak_rsa_key, kid="weak"),
        {"kty": "oct", "kid": "hmac", "k": _b64(b"shared-secret-shared-secret")},
        {"kty": "RSA", "kid": "broken", "n": 12, "e": "AQAB"},
    ]
    url = _jwks_server(httpserver, keys)
    authorizer = shell.jwt(local_issuer.url, audience=AUD, jwks_url=url, cooldown=0)

    def token(kid: str, key: Any = spare_rsa_key, alg: str = "RS256") -> str:
        return jwt.encode(
            {"iss": local_issuer.url, "aud": AUD, "exp": time.time() + 60},
            key,
            algorithm=alg,
            headers={"kid": kid},
        )

    assert shell.verify(authorizer, token("good", good)).iss == local_issuer.url
    # The JWK says RS384, the header RS256.
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, token("rs384-only"))
    for kid in ("enc", "no-verify", "hmac", "broken"):
        with pytest.raises(KeyNotFoundError):
            shell.verify(authorizer, token(kid))
    with pytest.raises(KeyNotFoundError):
        shell.verify(authorizer, token("weak", weak_rsa_key))
    hs = jwt.encode(
        {"iss": local_issuer.url, "aud": AUD, "exp": time.time() + 60},
        b"shared-secret-shared-secret",
        algorithm="HS256",
        headers={"kid": "hmac"},
    )
    with pytest.raises(UnsupportedAlgorithmError):
        shell.verify(authorizer, hs)


def test_private_members_of_a_jwk_are_ignored(
    shell: Any, httpserver: HTTPServer, local_issuer: LocalIssuer, spare_rsa_key: Any
) -> None:
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(spare_rsa_key))
    private["kid"] = "leaked"
    private.pop("key_ops")  # PyJWT marks it "sign", which alone would get the key refused
    url = _jwks_server(httpserver, [private])
    authorizer = shell.jwt(local_issuer.url, jwks_url=url)
    token = jwt.encode(
        {"iss": local_issuer.url, "exp": time.time() + 60},
        spare_rsa_key,
        algorithm="RS256",
        headers={"kid": "leaked"},
    )
    assert shell.verify(authorizer, token).iss == local_issuer.url


def test_exp_required_and_configurable(shell: Any, local_issuer: LocalIssuer) -> None:
    strict = shell.jwt(local_issuer.url, audience=AUD)
    with pytest.raises(InvalidClaimError) as info:
        shell.verify(strict, local_issuer.mint(expires_in=None))
    assert info.value.claim == "exp"
    lax = shell.jwt(local_issuer.url, audience=AUD, required_claims=())
    assert shell.verify(lax, local_issuer.mint(expires_in=None)).exp is None
    more = shell.jwt(local_issuer.url, audience=AUD, required_claims=("exp", "sub", "jti"))
    with pytest.raises(InvalidClaimError):
        shell.verify(more, local_issuer.mint(sub=None))


def test_time_claims_and_leeway(shell: Any, local_issuer: LocalIssuer) -> None:
    strict = shell.jwt(local_issuer.url, audience=AUD)
    with pytest.raises(TokenExpiredError):
        shell.verify(strict, local_issuer.mint(expires_in=-2))
    with pytest.raises(TokenNotYetValidError):
        shell.verify(strict, local_issuer.mint(not_before=time.time() + 30))
    with pytest.raises(TokenNotYetValidError):
        shell.verify(strict, local_issuer.mint(issued_at=time.time() + 30))
    lenient = shell.jwt(local_issuer.url, audience=AUD, leeway=60)
    shell.verify(lenient, local_issuer.mint(expires_in=-30))
    shell.verify(lenient, local_issuer.mint(not_before=time.time() + 30))
    shell.verify(lenient, local_issuer.mint(issued_at=time.time() + 30))
    with pytest.raises(TokenExpiredError):
        shell.verify(lenient, local_issuer.mint(expires_in=-90))
    for bad in (-1, 301):
        with pytest.raises(ConfigError):
            shell.jwt(local_issuer.url, leeway=bad)


def test_issuer_is_exact(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.verify(authorizer, local_issuer.mint())
    for iss in (local_issuer.url + "/", local_issuer.url.upper(), "https://evil.example", None):
        with pytest.raises(InvalidIssuerError):
            shell.verify(authorizer, local_issuer.mint(iss=iss))


def test_audience_checked_whenever_configured(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=["a", AUD])
    assert shell.verify(authorizer, local_issuer.mint(aud=["x", AUD])).aud == ("x", AUD)
    for aud in (None, "other", ["other", "x"], []):
        with pytest.raises(InvalidAudienceError):
            shell.verify(authorizer, local_issuer.mint(aud=aud))
    # Without an audience, a token naming one is refused (RFC 7519 section 4.1.3).
    no_audience = shell.jwt(local_issuer.url)
    shell.verify(no_audience, local_issuer.mint(aud=None))
    with pytest.raises(InvalidAudienceError):
        shell.verify(no_audience, local_issuer.mint(aud="anything"))
    any_audience = shell.jwt(local_issuer.url, accept_any_audience=True)
    shell.verify(any_audience, local_issuer.mint(aud="anything"))


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["x-custom"]])
def test_unknown_crit_headers_are_refused(
    shell: Any, local_issuer: LocalIssuer, crit: list[str]
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    with pytest.raises(InvalidClaimError) as info:
        shell.verify(authorizer, local_issuer.mint(headers={"crit": crit, crit[0]: False}))
    assert info.value.claim == "crit"


def test_embedded_key_headers_are_ignored(
    shell: Any, local_issuer: LocalIssuer, httpserver: HTTPServer, spare_rsa_key: Any
) -> None:
    attacker = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(spare_rsa_key.public_key()))
    httpserver.expect_request("/evil-jwks").respond_with_json({"keys": [attacker]})
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.verify(authorizer, local_issuer.mint())
    for header in (
        {"jku": httpserver.url_for("/evil-jwks")},
        {"x5u": httpserver.url_for("/evil-cert")},
        {"jwk": attacker},
        {"x5c": ["MIIB"]},
    ):
        # Signed by the attacker's key, which the header points at.
        token = local_issuer.mint(key="foreign", headers=header)
        with pytest.raises(InvalidSignatureError):
            shell.verify(authorizer, token)
        # The same header on a genuine token changes nothing.
        shell.verify(authorizer, local_issuer.mint(headers=header))
    assert len(httpserver.log) == 0


def test_signature_failures(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    for token in (
        local_issuer.mint(tamper=True),
        local_issuer.mint(key="foreign"),
        local_issuer.mint(alg="ES256", tamper=True),
        local_issuer.mint(alg="ES256", key="foreign"),
    ):
        with pytest.raises(InvalidSignatureError):
            shell.verify(authorizer, token)
    good = local_issuer.mint(sub="alice")
    head, body, sig = good.split(".")
    other = local_issuer.mint(sub="mallory").split(".")[1]
    with pytest.raises(InvalidSignatureError):
        shell.verify(authorizer, f"{head}.{other}.{sig}")
    with pytest.raises(InvalidSignatureError):
        shell.verify(authorizer, f"{head}.{body}.")


def test_size_cap_before_any_work(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    huge = local_issuer.mint(claims={"pad": "x" * (1024 * 1024)})
    assert len(huge) > 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(MalformedTokenError):
        shell.verify(authorizer, huge)
    assert time.perf_counter() - started < 0.5
    assert local_issuer.request_count() == 0
    small = shell.jwt(local_issuer.url, audience=AUD, max_token_size=1024)
    with pytest.raises(MalformedTokenError):
        shell.verify(small, local_issuer.mint(claims={"pad": "x" * 1200}))
    assert shell.verify(small, local_issuer.mint()).sub == "user"


def test_typ_check_for_rfc9068_access_tokens(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, token_type="at+jwt")
    shell.verify(authorizer, local_issuer.mint(typ="at+jwt"))
    shell.verify(authorizer, local_issuer.mint(typ="application/AT+JWT"))
    for typ in ("JWT", None, "id+jwt"):
        with pytest.raises(InvalidClaimError):
            shell.verify(authorizer, local_issuer.mint(typ=typ))


def test_messages_never_echo_the_token(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    tokens = [
        local_issuer.mint(expires_in=-5),
        local_issuer.mint(tamper=True),
        local_issuer.mint(aud="nope"),
        local_issuer.mint(kid="unknown-kid"),
        local_issuer.mint(alg="HS256"),
        local_issuer.mint()[:-3] + "***",
        local_issuer.mint(claims={"exp": "soon"}),
    ]
    for token in tokens:
        with pytest.raises(InvalidTokenError) as info:
            shell.verify(authorizer, token)
        text = str(info.value) + repr(info.value.args)
        for segment in token.split("."):
            if len(segment) > 8:
                assert segment not in text
        assert "unknown-kid" not in text

"""Header and claim type confusion, and hypothesis: bad input only raises InvalidTokenError."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from midil_common.auth import JWKSCache, KeySet, VerificationPolicy, jws, parse_token, verify_token
from midil_common.errors import (
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidTokenError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from midil_common.testing import LocalIssuer

AUD = "midil-test"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"alg": ["RS256"]}, InvalidClaimError),
        ({"alg": 256}, InvalidClaimError),
        ({"alg": None}, InvalidClaimError),
        ({"alg": "rs256"}, UnsupportedAlgorithmError),
        ({"alg": "RS256 "}, UnsupportedAlgorithmError),
        ({"kid": 7}, InvalidClaimError),
        ({"kid": ["a"]}, InvalidClaimError),
        ({"kid": {"a": 1}}, InvalidClaimError),
        ({"typ": 1}, InvalidClaimError),
        ({"crit": "exp"}, InvalidClaimError),
        ({"crit": []}, InvalidClaimError),
    ],
)
def test_header_type_confusion(
    shell: Any, local_issuer: LocalIssuer, headers: dict[str, Any], error: type[Exception]
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.verify(authorizer, local_issuer.mint())
    with pytest.raises(error):
        shell.verify(authorizer, local_issuer.mint(headers=headers))


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"exp": "9999999999"}, InvalidClaimError),
        ({"exp": True}, InvalidClaimError),
        ({"exp": None}, InvalidClaimError),
        ({"exp": [9999999999]}, InvalidClaimError),
        ({"nbf": "0"}, InvalidClaimError),
        ({"iat": {}}, InvalidClaimError),
        ({"iss": ["ISSUER"]}, InvalidIssuerError),
        ({"iss": 1}, InvalidIssuerError),
        ({"aud": 1}, InvalidAudienceError),
        ({"aud": [1, 2]}, InvalidAudienceError),
        ({"aud": {"midil-test": True}}, InvalidAudienceError),
        ({"sub": 42}, InvalidClaimError),
        ({"scope": ["a", "b"]}, InvalidClaimError),
        ({"scp": 3}, InvalidClaimError),
        ({"cognito:groups": 1}, InvalidClaimError),
        ({"groups": [1]}, InvalidClaimError),
        ({"client_id": False}, InvalidClaimError),
        ({"token_use": 0}, InvalidClaimError),
        ({"username": ["x"]}, InvalidClaimError),
    ],
)
def test_claim_type_confusion(
    shell: Any, local_issuer: LocalIssuer, claims: dict[str, Any], error: type[Exception]
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    if claims.get("iss") == ["ISSUER"]:
        claims = {"iss": [local_issuer.url]}
    with pytest.raises(error):
        shell.verify(authorizer, local_issuer.mint(claims=claims))


def test_claim_shapes_that_are_accepted(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, required_claims=())
    claims = shell.verify(
        authorizer,
        local_issuer.mint(
            claims={
                "scp": ["a", "b"],
                "groups": "admins",
                "exp": 4102444800.5,
                "cognito:username": "u",
            }
        ),
    )
    assert claims.scopes == {"a", "b"} and claims.groups == {"admins"} and claims.username == "u"
    assert shell.verify(authorizer, local_issuer.mint(claims={"scp": "x y"})).scopes == {"x", "y"}


def test_non_finite_times_are_refused(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    for raw in (b"1e400", b"-1e400", b"Infinity", b"NaN"):
        payload = (
            b'{"iss":"' + local_issuer.url.encode() + b'","aud":"midil-test","exp":' + raw + b"}"
        )
        with pytest.raises(InvalidTokenError):
            shell.verify(authorizer, local_issuer.sign(payload))


@pytest.mark.parametrize(
    "payload",
    [b"[1, 2]", b"not json", b'"string"', b"\xff\xfe", b'{"exp": NaN}', b'{"a": 1', b""],
)
def test_payloads_that_are_not_json_objects(
    shell: Any, local_issuer: LocalIssuer, payload: bytes
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    token = local_issuer.sign(payload)
    with pytest.raises(MalformedTokenError):
        shell.verify(authorizer, token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "..",
        ".b.c",
        "a..c",
        "a.b.c ",
        " a.b.c",
        "a.b.c\n",
        "a+b.c.d",
        "a/b.c.d",
        "a=.b.c",
        "é.b.c",
        "A.b.c",
        "Bearer a.b.c",
        None,
        123,
        b"\x00\x01",
        ["a", "b", "c"],
    ],
)
def test_structurally_bad_tokens(shell: Any, local_issuer: LocalIssuer, token: Any) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    with pytest.raises(MalformedTokenError):
        shell.verify(authorizer, token)
    assert local_issuer.request_count() == 0


@pytest.mark.parametrize("segment", [0, 1, 2])
@pytest.mark.parametrize("char", ["+", "/", "=", " ", "!", "\x7f", "\n"])
def test_characters_outside_base64url_in_any_segment_are_malformed(
    shell: Any, local_issuer: LocalIssuer, segment: int, char: str
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    parts = local_issuer.mint(aud=AUD).split(".")
    parts[segment] = parts[segment][:8] + char + parts[segment][9:]  # same length
    with pytest.raises(MalformedTokenError):
        shell.verify(authorizer, ".".join(parts))
    assert local_issuer.request_count() == 0  # refused before any key lookup


_BASE64URL = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_DECODERS = [jws._b64decode, jws._b64decode_portable]  # the second is the one Python 3.10 uses


@given(st.binary(max_size=300))
def test_base64url_decoders_round_trip(data: bytes) -> None:
    segment = base64.urlsafe_b64encode(data).rstrip(b"=")
    for decode in _DECODERS:
        assert decode(segment, "segment") == data


@given(st.binary(max_size=64) | st.text(alphabet="AZaz09-_+/= !.", max_size=64).map(str.encode))
def test_base64url_decoders_agree_and_refuse_foreign_bytes(data: bytes) -> None:
    outcomes = []
    for decode in _DECODERS:
        try:
            outcomes.append(decode(data, "segment"))
        except MalformedTokenError:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]
    if outcomes[0] is not None:
        assert set(data) <= _BASE64URL and len(data) % 4 != 1


def test_duplicate_header_members_are_refused(local_issuer: LocalIssuer) -> None:
    header = b'{"alg":"none","alg":"RS256","kid":"' + local_issuer.kid().encode() + b'"}'
    token = _b64(header) + "." + _b64(b'{"iss":"x"}') + "." + _b64(b"sig")
    with pytest.raises(MalformedTokenError):
        parse_token(token)


_ISSUER = LocalIssuer(audience=AUD, port=1)  # never started: only mints, with a fixed URL
_ISSUER._port = 1
_KEYS = KeySet.from_jwks(_ISSUER.jwks())
_POLICY = VerificationPolicy.build(_ISSUER.url, audience=AUD)
_VALID = _ISSUER.mint(sub="fuzz", now=2_000_000_000 - 100)


@given(st.binary(max_size=600))
def test_random_bytes_only_raise_invalid_token(data: bytes) -> None:
    for token in (data, data.decode("latin-1")):
        with pytest.raises(InvalidTokenError):
            verify_token(token, _KEYS, _POLICY, 2_000_000_000)


@given(st.text(alphabet="ABCDEFabcdef0123456789-_.=+/ ", max_size=300))
def test_random_base64ish_text_only_raises_invalid_token(text: str) -> None:
    with pytest.raises(InvalidTokenError):
        verify_token(text, _KEYS, _POLICY, 2_000_000_000)


_MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "swap-segment"]),
    st.integers(min_value=0, max_value=len(_VALID) - 1),
    st.sampled_from(list("AZaz09-_.=+/ ")),
)


@given(st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_valid_tokens_only_raise_invalid_token(
    mutations: list[tuple[str, int, str]],
) -> None:
    token = _VALID
    for kind, pos, char in mutations:
        pos = min(pos, len(token) - 1) if token else 0
        if kind == "flip":
            token = token[:pos] + char + token[pos + 1 :]
        elif kind == "insert":
            token = token[:pos] + char + token[pos:]
        elif kind == "delete":
            token = token[:pos] + token[pos + 1 :]
        else:
            parts = token.split(".")
            if len(parts) == 3:
                token = ".".join([parts[1], parts[0], parts[2]])
    if token == _VALID:
        assert verify_token(token, _KEYS, _POLICY, 2_000_000_000).sub == "fuzz"
        return
    try:
        claims = verify_token(token, _KEYS, _POLICY, 2_000_000_000)
    except InvalidTokenError:
        return
    # A mutation can only be accepted when it decodes to the very same bytes (base64 padding bits).
    assert claims.sub == "fuzz"
    assert [base64.urlsafe_b64decode(s + "==") for s in token.split(".")] == [
        base64.urlsafe_b64decode(s + "==") for s in _VALID.split(".")
    ]


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x5c", "b64", "zip"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=8),
            st.lists(st.text(max_size=3), max_size=2),
        ),
    )
)
def test_random_headers_only_raise_invalid_token(header: dict[str, Any]) -> None:
    token = _ISSUER.sign({"iss": _ISSUER.url, "aud": AUD, "exp": 2_000_000_100}, headers=header)
    try:
        verify_token(token, _KEYS, _POLICY, 2_000_000_000)
    except InvalidTokenError:
        return
    parsed = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert parsed["alg"] in ("RS256", "ES256") and "crit" not in parsed


def test_fuzz_through_both_shells(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.verify(authorizer, local_issuer.mint())
    valid = local_issuer.mint()
    for i in range(0, len(valid), 7):
        token = valid[:i] + ("A" if valid[i] != "A" else "B") + valid[i + 1 :]
        try:
            shell.verify(authorizer, token)
        except InvalidTokenError:
            continue
    assert JWKSCache().keys is None

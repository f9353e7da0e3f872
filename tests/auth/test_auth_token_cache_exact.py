"""The verified-token cache, on by default, is exact: at any instant a hit answers as a full
verification would, over every policy option (time-dependent ones included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from midil_common.auth.claims import TokenClaims
from midil_common.auth.jwks_cache import Fetch
from midil_common.auth.presets import jwt_verifier
from midil_common.auth.token_cache import VerifiedTokenCache
from midil_common.errors import InvalidTokenError
from midil_common.testing import LocalIssuer

T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience=None) as local:  # its keys sign; the verifiers never fetch
        yield local


def outcome(verifier: Any, token: str, now: float) -> Any:
    try:
        result = verifier.check(token, now)
    except InvalidTokenError as exc:
        return type(exc).__name__
    assert not isinstance(result, Fetch)
    assert isinstance(result, TokenClaims)
    return result.raw


POLICIES = st.fixed_dictionaries(
    {
        "audience": st.sampled_from([None, "api", ("api", "other")]),
        "accept_any_audience": st.booleans(),
        "leeway": st.sampled_from([0.0, 5.0, 60.0]),
        "required_claims": st.sampled_from([("exp",), ("exp", "sub"), ("exp", "nbf", "iat")]),
        "token_type": st.sampled_from([None, "at+jwt"]),
    }
).filter(lambda p: not (p["audience"] and p["accept_any_audience"]))

TOKENS = st.fixed_dictionaries(
    {
        "aud": st.sampled_from([None, "api", ["api", "x"], "other"]),
        "expires_in": st.integers(-120, 600),
        "not_before": st.one_of(st.none(), st.integers(-120, 120)),
        "issued_at": st.one_of(st.none(), st.integers(-120, 120)),
        "sub": st.sampled_from([None, "alice"]),
        "typ": st.sampled_from(["JWT", "at+jwt"]),
    }
)

# Instants relative to the token's minting: before, around and after its time claims.
INSTANTS = st.lists(st.integers(-300, 900), min_size=1, max_size=6)


@settings(max_examples=120)
@given(policy=POLICIES, claims=TOKENS, instants=INSTANTS)
def test_a_cache_hit_answers_as_a_full_verification_would(
    issuer: LocalIssuer, policy: dict[str, Any], claims: dict[str, Any], instants: list[int]
) -> None:
    token = issuer.mint(
        claims["sub"],
        aud=claims["aud"],
        expires_in=claims["expires_in"],
        not_before=None if claims["not_before"] is None else int(T0 + claims["not_before"]),
        issued_at=None if claims["issued_at"] is None else int(T0 + claims["issued_at"]),
        typ=claims["typ"],
        now=T0,
    )
    keys = issuer.jwks()
    cached = jwt_verifier(issuer.url, jwks=keys, **policy)
    full = jwt_verifier(issuer.url, jwks=keys, token_cache_size=0, **policy)
    assert cached.token_cache is not None and full.token_cache is None  # on by default
    # Every instant twice: the second may be answered from the cache the first filled.
    for offset in [0, *instants, *instants]:
        now = T0 + offset
        assert outcome(cached, token, now) == outcome(full, token, now), (offset, policy, claims)


def test_the_cache_is_bounded_in_entries_and_bytes() -> None:
    cache = VerifiedTokenCache(maxsize=3, maxbytes=100)
    claims = TokenClaims(exp=T0 + 60, raw={})
    for n in range(5):
        cache.put(bytes([n]), claims, size=10)
    assert len(cache) == 3 and cache.bytes == 30
    for n in range(5, 9):
        cache.put(bytes([n]), claims, size=40)
    assert cache.bytes <= 100 and len(cache) <= 3
    cache.put(b"huge", claims, size=101)  # larger than the whole cache: never stored
    assert cache.lookup(b"huge", T0) is None
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0

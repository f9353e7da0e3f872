"""JWKS fetching against both shells: rotation, outages, garbage, limits and single-flight."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response as WResponse

from midil_common.auth import TokenClaims
from midil_common.errors import (
    ConfigError,
    InvalidIssuerError,
    InvalidTokenError,
    JWKSFetchError,
    KeyNotFoundError,
)
from midil_common.http.types import Timeout
from midil_common.testing import LocalIssuer

AUD = "midil-test"


def test_rotation_is_picked_up_with_exactly_one_refetch(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    old = local_issuer.mint(sub="old")
    shell.verify(authorizer, old)
    assert local_issuer.request_count("jwks") == 1
    local_issuer.rotate_keys()
    for _ in range(5):
        assert shell.verify(authorizer, local_issuer.mint(sub="new")).sub == "new"
    assert local_issuer.request_count("jwks") == 2
    assert local_issuer.request_count("discovery") == 1
    # The old key is gone: one more refetch finds it missing, then the kid is negative-cached.
    with pytest.raises(KeyNotFoundError):
        shell.verify(authorizer, old)
    for _ in range(5):
        with pytest.raises(KeyNotFoundError):
            shell.verify(authorizer, old)
    assert local_issuer.request_count("jwks") == 3


def test_overlapping_rotation_keeps_old_tokens_valid(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    old = local_issuer.mint(sub="old")
    shell.verify(authorizer, old)
    local_issuer.rotate_keys(keep_old=True)
    shell.verify(authorizer, local_issuer.mint(sub="new"))
    assert shell.verify(authorizer, old).sub == "old"
    assert local_issuer.request_count("jwks") == 2


def test_issuer_down_with_keys_cached_keeps_verifying(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.hydrate(authorizer)
    local_issuer.stop()
    for _ in range(3):
        assert shell.verify(authorizer, local_issuer.mint(sub="a")).sub == "a"


def test_stale_keys_serve_while_refresh_fails_and_refresh_is_rate_limited(
    shell: Any, local_issuer_factory: Any
) -> None:
    local_issuer = local_issuer_factory(audience=AUD, jwks_max_age=None)
    # cache_ttl=0 without max-age: every key is stale at once, so each verification refreshes.
    authorizer = shell.jwt(local_issuer.url, audience=AUD, cache_ttl=0)
    shell.verify(authorizer, local_issuer.mint())
    assert local_issuer.request_count("jwks") == 1
    local_issuer.fail("jwks", 503)
    for _ in range(5):
        assert shell.verify(authorizer, local_issuer.mint(sub="s")).sub == "s"
    # One failed refresh, then the failure backoff holds further attempts.
    assert local_issuer.request_count("jwks") == 2
    assert authorizer.verifier.cache.failures == 1


def test_issuer_down_with_no_keys_is_a_clear_fetch_error(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    token = local_issuer.mint()
    local_issuer.stop()
    with pytest.raises(JWKSFetchError) as info:
        shell.verify(authorizer, token)
    assert "discovery" in str(info.value) and "127.0.0.1" in str(info.value)
    assert not isinstance(info.value, InvalidTokenError)
    with pytest.raises(JWKSFetchError):
        shell.hydrate(authorizer)


def test_fetch_failures_are_rate_limited_without_keys(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, jwks_url=local_issuer.jwks_url)
    local_issuer.fail("jwks", 500)
    for _ in range(4):
        with pytest.raises(JWKSFetchError) as info:
            shell.verify(authorizer, local_issuer.mint())
        assert "500" in str(info.value)
    assert local_issuer.request_count("jwks") == 1
    # hydrate() forces a fetch regardless of the backoff, and recovers.
    local_issuer.clear_faults()
    shell.hydrate(authorizer)
    assert shell.verify(authorizer, local_issuer.mint(sub="back")).sub == "back"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"garbage"),
        (200, b"{}"),
        (200, b'{"keys": "nope"}'),
        (200, b'{"keys": [{"kty": "RSA"}]}'),
        (200, b"[]"),
        (200, b"\xff\xfe\x00"),
        (404, b'{"keys": []}'),
        (302, b""),
    ],
)
def test_garbage_jwks_answers(
    shell: Any, local_issuer: LocalIssuer, status: int, body: bytes
) -> None:
    headers = {"Location": local_issuer.jwks_url} if status == 302 else {}
    local_issuer.fault("jwks", status=status, body=body, headers=headers)
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    with pytest.raises(JWKSFetchError):
        shell.verify(authorizer, local_issuer.mint())
    # No redirect was followed.
    assert local_issuer.request_count("jwks") == 1


def test_a_10_mb_jwks_is_refused(
    shell: Any, httpserver: HTTPServer, local_issuer: LocalIssuer
) -> None:
    keys = local_issuer.jwks()["keys"]
    body = (
        '{"keys": ' + str(keys).replace("'", '"') + ', "pad": "' + "x" * (10 * 1024 * 1024) + '"}'
    ).encode()
    httpserver.expect_request("/big").respond_with_data(body, content_type="application/json")
    authorizer = shell.jwt(local_issuer.url, audience=AUD, jwks_url=httpserver.url_for("/big"))
    started = time.perf_counter()
    with pytest.raises(JWKSFetchError) as info:
        shell.verify(authorizer, local_issuer.mint())
    assert "cap" in str(info.value)
    assert time.perf_counter() - started < 5


def test_a_chunked_oversized_jwks_is_refused(
    shell: Any, httpserver: HTTPServer, local_issuer: LocalIssuer
) -> None:
    def chunks() -> Any:
        yield b'{"keys": [], "pad": "'
        for _ in range(200):
            yield b"x" * 65536
        yield b'"}'

    httpserver.expect_request("/stream").respond_with_response(
        WResponse(chunks(), content_type="application/json")
    )
    authorizer = shell.jwt(local_issuer.url, audience=AUD, jwks_url=httpserver.url_for("/stream"))
    with pytest.raises(JWKSFetchError):
        shell.verify(authorizer, local_issuer.mint())


def test_discovery_document_rules(shell: Any, local_issuer: LocalIssuer) -> None:
    for body in (
        {"issuer": "https://other.example", "jwks_uri": local_issuer.jwks_url},
        {"issuer": local_issuer.url},
        {"issuer": local_issuer.url, "jwks_uri": "http://keys.example.com/jwks"},
        {"jwks_uri": local_issuer.jwks_url},
    ):
        local_issuer.fault("discovery", status=200, body=body)
        authorizer = shell.jwt(local_issuer.url, audience=AUD)
        with pytest.raises(JWKSFetchError):
            shell.verify(authorizer, local_issuer.mint())
    assert local_issuer.request_count("jwks") == 0


def test_https_required_except_loopback(shell: Any) -> None:
    with pytest.raises(ConfigError):
        shell.jwt("http://issuer.example.com")
    with pytest.raises(ConfigError):
        shell.jwt("https://issuer.example.com", jwks_url="http://issuer.example.com/jwks")
    shell.jwt("https://issuer.example.com")
    shell.jwt("http://localhost:8080")
    shell.jwt("https://x.example", jwks_url="http://[::1]:9/jwks")


def test_a_hanging_jwks_endpoint_times_out(shell: Any, local_issuer: LocalIssuer) -> None:
    local_issuer.hang("jwks", 30)
    authorizer = shell.jwt(
        local_issuer.url, audience=AUD, timeout=Timeout(connect=0.5, read=0.4, write=0.5, pool=0.5)
    )
    started = time.perf_counter()
    with pytest.raises(JWKSFetchError) as info:
        shell.verify(authorizer, local_issuer.mint())
    assert "timeout" in str(info.value)
    assert time.perf_counter() - started < 3
    local_issuer.clear_faults()


def test_one_quick_retry_on_connection_errors(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    port = local_issuer.port
    local_issuer.stop()
    started = time.perf_counter()
    with pytest.raises(JWKSFetchError) as info:
        shell.verify(authorizer, local_issuer.mint())
    assert "cannot connect" in str(info.value)
    assert time.perf_counter() - started < 2
    assert local_issuer.port == port


def test_cold_start_single_flight(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    count = 64 if shell.name == "sync" else 1000
    tokens = [local_issuer.mint(sub=f"u{i}") for i in range(8)]
    results = shell.verify_all(authorizer, [tokens[i % 8] for i in range(count)])
    assert all(isinstance(r, TokenClaims) for r in results), [
        r for r in results if not isinstance(r, TokenClaims)
    ][:1]
    assert local_issuer.request_count("jwks") == 1
    assert local_issuer.request_count("discovery") == 1


def test_unknown_kid_flood_causes_at_most_one_fetch(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    shell.hydrate(authorizer)
    before = local_issuer.request_count("jwks")
    tokens = [local_issuer.mint(kid=secrets.token_hex(8)) for _ in range(1000)]
    started = time.perf_counter()
    if shell.name == "sync":
        results = [_outcome(authorizer.verify, t) for t in tokens]
    else:
        results = shell.verify_all(authorizer, tokens)
    assert time.perf_counter() - started < 5
    assert all(isinstance(r, KeyNotFoundError) for r in results)
    assert local_issuer.request_count("jwks") - before <= 1


def _outcome(fn: Any, token: str) -> Any:
    try:
        return fn(token)
    except Exception as exc:
        return exc


def test_verify_cached_never_does_io(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD)
    token = local_issuer.mint(sub="c")
    assert authorizer.verify_cached(token) is None
    assert local_issuer.request_count() == 0
    shell.verify(authorizer, token)
    claims = authorizer.verify_cached(local_issuer.mint(sub="c2"))
    assert claims is not None and claims.sub == "c2"
    with pytest.raises(InvalidTokenError):
        authorizer.verify_cached(local_issuer.mint(tamper=True))
    # An unknown kid would need a fetch: None, and still no request.
    requests_before = local_issuer.request_count()
    assert authorizer.verify_cached(local_issuer.mint(kid="fresh-kid")) is None
    assert local_issuer.request_count() == requests_before


def test_offline_jwks_seed(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, jwks=local_issuer.jwks())
    assert authorizer.verify_cached(local_issuer.mint(sub="o")).sub == "o"
    assert shell.verify(authorizer, local_issuer.mint(sub="o")).sub == "o"
    with pytest.raises(KeyNotFoundError):
        shell.verify(authorizer, local_issuer.mint(kid="other"))
    shell.hydrate(authorizer)
    assert local_issuer.request_count() == 0
    with pytest.raises(ConfigError):
        shell.jwt(local_issuer.url, jwks={"keys": "x"})


def test_jwks_max_age_sets_freshness(shell: Any, local_issuer_factory: Any) -> None:
    issuer = local_issuer_factory(audience=AUD, jwks_max_age=120)
    authorizer = shell.jwt(issuer.url, audience=AUD)
    shell.verify(authorizer, issuer.mint())
    cache = authorizer.verifier.cache
    assert 119 <= cache.fresh_until - cache.fetched_at <= 121


def test_verified_token_cache(shell: Any, local_issuer: LocalIssuer) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, token_cache_size=4)
    tokens = [local_issuer.mint(sub=f"t{i}") for i in range(6)]
    for i, token in enumerate(tokens):
        assert shell.verify(authorizer, token).sub == f"t{i}"
    assert len(authorizer.verifier.token_cache) == 4
    again = shell.verify(authorizer, tokens[-1])
    assert again is shell.verify(authorizer, tokens[-1])
    with pytest.raises(InvalidTokenError):
        shell.verify(authorizer, local_issuer.mint(tamper=True))


def test_token_cache_hits_only_while_the_verifying_key_is_served(
    shell: Any, local_issuer: LocalIssuer
) -> None:
    authorizer = shell.jwt(local_issuer.url, audience=AUD, token_cache_size=8)
    old = local_issuer.mint(sub="old")
    first = shell.verify(authorizer, old)
    assert shell.verify(authorizer, old) is first
    # A forced refetch of the same keys builds new key objects: the token is verified again.
    shell.hydrate(authorizer)
    again = shell.verify(authorizer, old)
    assert again is not first and again.sub == "old"
    assert shell.verify(authorizer, old) is again
    # The key leaves the JWKS: the cached token is refused as a full verification would refuse it.
    local_issuer.rotate_keys()
    assert shell.verify(authorizer, local_issuer.mint(sub="new")).sub == "new"
    with pytest.raises(KeyNotFoundError):
        shell.verify(authorizer, old)


def test_token_cache_does_not_outlive_stale_keys(shell: Any, local_issuer_factory: Any) -> None:
    local_issuer = local_issuer_factory(audience=AUD, jwks_max_age=None)
    # Keys are stale at once and may serve 0.3 s while refreshes fail.
    authorizer = shell.jwt(
        local_issuer.url, audience=AUD, token_cache_size=8, cache_ttl=0, max_stale=0.3
    )
    token = local_issuer.mint()
    claims = shell.verify(authorizer, token)
    local_issuer.fail("jwks", 503)
    assert shell.verify(authorizer, token) is claims
    time.sleep(0.6)
    with pytest.raises(JWKSFetchError):
        shell.verify(authorizer, token)


def test_multi_issuer_routes_by_iss(shell: Any, local_issuer_factory: Any) -> None:
    first = local_issuer_factory(audience=AUD)
    second = local_issuer_factory(audience=AUD)
    multi = shell.multi([shell.jwt(first.url, audience=AUD), shell.jwt(second.url, audience=AUD)])
    assert multi.issuers == (first.url, second.url)
    assert shell.verify(multi, first.mint(sub="one")).iss == first.url
    assert shell.verify(multi, second.mint(sub="two")).iss == second.url
    assert multi.verify_cached(first.mint(sub="one")).sub == "one"
    with pytest.raises(InvalidIssuerError):
        shell.verify(multi, first.mint(iss="https://unknown.example"))
    # A token claiming the second issuer but signed by the first is refused.
    forged = first.mint(iss=second.url)
    with pytest.raises(InvalidTokenError):
        shell.verify(multi, forged)
    shell.run(multi.hydrate())

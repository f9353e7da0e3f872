"""The pure core: retry decisions, budget, URL joining, bodies, redirects, OAuth token parsing."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.auth.oauth import (
    AccessTokenCache,
    ClientCredentials,
    cognito_token_url,
    parse_token_response,
    refresh_leeway,
)
from midil_common.auth.tokens import AccessToken
from midil_common.errors import (
    ConfigError,
    ConnectError,
    ResponseTooLargeError,
    TimeoutError,
    TokenRequestError,
    TransportError,
)
from midil_common.http import Headers, Request, Response, RetryPolicy
from midil_common.http.body import encode_body
from midil_common.http.redirects import TooManyRedirectsError, next_hop
from midil_common.http.retry import Attempts, Reauthenticate, Retry, RetryBudget, Stop
from midil_common.http.urls import join_url, with_params


class Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def answer(status: int, **headers: str) -> Response:
    return Response(status, Headers(headers), b"", "http://h/x")


POLICY = RetryPolicy()
HALF = Fixed(0.5)


def decide(outcome: Any, method: str = "GET", attempt: int = 1, **kw: Any) -> Any:
    return POLICY.decide(
        method=method,
        outcome=outcome,
        attempt=attempt,
        elapsed=kw.pop("elapsed", 0.0),
        rng=kw.pop("rng", HALF),
        **kw,
    )


# ------------------------------------------------------------------------------ retry policy


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "get"])
def test_idempotent_methods_retry_503(method: str) -> None:
    assert decide(answer(503), method) == Retry(delay=0.05, reason="status_503", sleep=0.05)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_need_a_key(method: str) -> None:
    assert decide(answer(503), method) == Stop("method_not_retryable")
    assert isinstance(decide(answer(503), method, idempotency_key=True), Retry)


def test_nothing_sent_is_retried_for_any_method() -> None:
    assert isinstance(decide(ConnectError("x"), "POST"), Retry)
    assert isinstance(decide(TimeoutError("x", phase="connect", request_sent=False), "POST"), Retry)
    assert decide(TransportError("reset"), "POST") == Stop("method_not_retryable")
    assert isinstance(decide(TransportError("reset"), "GET"), Retry)
    assert decide(ResponseTooLargeError("big"), "GET") == Stop("response_too_large")


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 500, 501])
def test_final_statuses(status: int) -> None:
    assert decide(answer(status)) == Stop("final_status")


def test_only_408_and_429_of_4xx_can_be_retried() -> None:
    policy = RetryPolicy(retry_statuses={400, 404, 408, 429})
    for status, expected in ((400, Stop), (404, Stop), (408, Retry), (429, Retry)):
        got = policy.decide(method="GET", outcome=answer(status), attempt=1, elapsed=0, rng=HALF)
        assert isinstance(got, expected), status


def test_full_jitter_exponential_backoff_with_cap() -> None:
    assert [POLICY.backoff(n, Fixed(0.999999)) for n in (1, 2, 3, 4, 10)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 5.0], rel=1e-5
    )
    assert POLICY.backoff(3, Fixed(0.0)) == 0.0
    assert RetryPolicy(jitter=False).backoff(2, Fixed(0.0)) == pytest.approx(0.2)


@given(attempt=st.integers(1, 1000), r=st.floats(0, 1, exclude_max=True))
def test_backoff_stays_within_bounds(attempt: int, r: float) -> None:
    delay = POLICY.backoff(attempt, Fixed(r))
    assert 0 <= delay <= min(5.0, 0.1 * 2 ** (attempt - 1))


def test_attempts_are_bounded() -> None:
    assert isinstance(decide(answer(503), attempt=3), Retry)
    assert decide(answer(503), attempt=4) == Stop("attempts_exhausted")


def test_retry_after_only_on_429_and_503() -> None:
    assert decide(answer(429, **{"Retry-After": "7"})).delay == 7.0
    assert decide(answer(503, **{"Retry-After": "7"})).delay == 7.0
    assert decide(answer(502, **{"Retry-After": "7"})).delay == 0.05
    assert decide(answer(503, **{"Retry-After": "soon"})).delay == 0.05
    ignoring = RetryPolicy(respect_retry_after=False)
    got = ignoring.decide(
        method="GET", outcome=answer(503, **{"Retry-After": "7"}), attempt=1, elapsed=0, rng=HALF
    )
    assert isinstance(got, Retry) and got.delay == 0.05


def test_retry_after_http_date_uses_now() -> None:
    got = decide(answer(503, **{"Retry-After": "Sun, 06 Nov 1994 08:49:40 GMT"}), now=784111770.0)
    assert got.delay == pytest.approx(10.0)


def test_retry_after_over_the_cap_stops_at_once() -> None:
    assert decide(answer(429, **{"Retry-After": "3600"})) == Stop("retry_after_too_long", 3600.0)
    assert decide(answer(503, **{"Retry-After": "61"})) == Stop("retry_after_too_long", 61.0)
    assert decide(answer(503, **{"Retry-After": "60"})) == Stop("deadline", 60.0)
    roomy = RetryPolicy(deadline=None)
    got = roomy.decide(
        method="GET", outcome=answer(503, **{"Retry-After": "60"}), attempt=1, elapsed=0, rng=HALF
    )
    assert got == Retry(delay=60.0, reason="status_503", sleep=60.0)


def test_deadline_counts_the_wait() -> None:
    assert decide(answer(503, **{"Retry-After": "5"}), elapsed=25.1) == Stop("deadline", 5.0)
    assert isinstance(decide(answer(503, **{"Retry-After": "5"}), elapsed=24.9), Retry)
    assert decide(answer(503), elapsed=30.0) == Stop("deadline")
    assert isinstance(
        RetryPolicy(deadline=None).decide(
            method="GET", outcome=answer(503), attempt=1, elapsed=1e9, rng=HALF
        ),
        Retry,
    )


def test_unreplayable_body_is_never_retried() -> None:
    assert decide(answer(503), replayable=False) == Stop("body_not_replayable")
    assert decide(ConnectError("x"), replayable=False) == Stop("body_not_replayable")


def test_sleep_switch_keeps_the_decision() -> None:
    quiet = RetryPolicy(sleep=False)
    got = quiet.decide(method="GET", outcome=answer(503), attempt=1, elapsed=0, rng=HALF)
    assert got == Retry(delay=0.05, reason="status_503", sleep=0.0)


def test_budget_spends_and_refunds() -> None:
    budget = RetryBudget(12)
    assert isinstance(decide(answer(503), budget=budget), Retry)
    assert budget.available == 7
    assert decide(TimeoutError("t"), budget=budget) == Stop("budget_exhausted")  # costs 10
    assert budget.available == 7
    assert isinstance(decide(answer(502), budget=budget), Retry)
    assert budget.available == 2
    assert decide(answer(502), budget=budget) == Stop("budget_exhausted")
    decide(answer(200), budget=budget)
    assert budget.available == 3
    for _ in range(100):
        decide(answer(204), budget=budget)
    assert budget.available == 12  # never above the capacity


def test_policy_validation_and_equality() -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError):
        RetryPolicy(backoff_multiplier=0.5)
    with pytest.raises(ConfigError):
        RetryPolicy(deadline=0)
    assert RetryPolicy(retry_statuses=[503, 429, 502, 504]) == RetryPolicy()
    assert RetryPolicy(idempotent_methods=["get"]).may_repeat("GET")
    assert RetryPolicy().new_budget() is not RetryPolicy().new_budget()
    assert RetryPolicy(budget_capacity=None).new_budget() is None
    assert RetryPolicy.no_retries().max_attempts == 1


def test_attempts_reauthenticate_once() -> None:
    attempts = Attempts(POLICY, None, method="GET", started=0.0, can_reauthenticate=True)
    assert isinstance(attempts.step(answer(401), now=0.1, rng=HALF), Reauthenticate)
    assert attempts.step(answer(401), now=0.2, rng=HALF) == Stop("final_status")
    plain = Attempts(POLICY, None, method="GET", started=0.0)
    assert plain.step(answer(401), now=0.1, rng=HALF) == Stop("final_status")


def test_attempts_count_and_elapsed() -> None:
    attempts = Attempts(POLICY, None, method="GET", started=100.0)
    assert isinstance(attempts.step(answer(503), now=100.1, rng=HALF), Retry)
    assert attempts.step(answer(503), now=131.0, rng=HALF) == Stop("deadline")
    assert attempts.attempt == 2


# ------------------------------------------------------------------------------ urls, bodies


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("https://h/api/v1", "users", "https://h/api/v1/users"),
        ("https://h/api/v1/", "/users", "https://h/api/v1/users"),
        ("https://h/api/v1", "", "https://h/api/v1"),
        ("https://h", "a/b?x=1", "https://h/a/b?x=1"),
        ("https://h/p?k=1", "q?z=2", "https://h/p/q?k=1&z=2"),
        ("https://h/api", "https://other/x", "https://other/x"),
        (None, "http://h/x", "http://h/x"),
    ],
)
def test_join_url_keeps_the_base_path(base: str | None, url: str, expected: str) -> None:
    assert join_url(base, url) == expected


@given(
    segments=st.lists(st.text("abcxyz019-_.~", min_size=1, max_size=8), min_size=1, max_size=4),
    rel=st.text("abc019-", min_size=1, max_size=8),
)
def test_join_url_never_drops_segments(segments: list[str], rel: str) -> None:
    base = "https://h/" + "/".join(segments)
    assert join_url(base, rel) == f"{base}/{rel}"
    assert join_url(base + "/", "/" + rel) == f"{base}/{rel}"


def test_with_params() -> None:
    assert (
        with_params("http://h/a", {"q": "x y", "n": 1, "f": True}) == "http://h/a?q=x+y&n=1&f=true"
    )
    assert with_params("http://h/a?z=1#frag", [("b", "2")]) == "http://h/a?z=1&b=2#frag"
    assert with_params("http://h/a", {"none": None}) == "http://h/a"


def test_body_encoding() -> None:
    assert encode_body(json={"a": [1, "é"]}).content == '{"a":[1,"é"]}'.encode()
    assert encode_body(data={"a": ["1", "2"], "b": "x"}).content == b"a=1&a=2&b=x"
    assert encode_body(data="txt").content == b"txt"
    streamed = encode_body(data=iter([b"a"]))
    assert not streamed.replayable
    with pytest.raises(ConfigError):
        encode_body(json={"a": object()})
    with pytest.raises(ConfigError):
        encode_body(json=1, data=b"x")
    with pytest.raises(ConfigError):
        encode_body(data=b"x", files={"f": b"y"})
    multipart = encode_body(data={"n": "v"}, files={"f": ('a"b.txt', b"123")}, boundary="XX")
    assert multipart.content_type == "multipart/form-data; boundary=XX"
    assert multipart.content == (
        b'--XX\r\nContent-Disposition: form-data; name="n"\r\n\r\nv\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="f"; filename="a%22b.txt"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n123\r\n--XX--\r\n"
    )


# ------------------------------------------------------------------------------ redirects


def test_redirect_rules() -> None:
    request = Request("GET", "https://a.example/x", Headers({"Authorization": "t", "X-K": "k"}))
    same = next_hop(
        request,
        Response(302, Headers({"Location": "/y#f"}), b"", request.url),
        hops=0,
        max_redirects=5,
        sensitive_headers=["x-k"],
    )
    assert same is not None and same.url == "https://a.example/y"
    assert same.headers["authorization"] == "t"
    cross = next_hop(
        request,
        Response(301, Headers({"Location": "https://b.example/"}), b"", request.url),
        hops=0,
        max_redirects=5,
        sensitive_headers=["X-K"],
    )
    assert cross is not None and "authorization" not in cross.headers and "x-k" not in cross.headers
    downgrade = next_hop(
        request,
        Response(307, Headers({"Location": "http://a.example/x"}), b"", request.url),
        hops=0,
        max_redirects=5,
    )
    assert downgrade is not None and "authorization" not in downgrade.headers
    post = Request("POST", "https://a.example/x")
    assert (
        next_hop(
            post, Response(303, Headers({"Location": "/"}), b"", post.url), hops=0, max_redirects=5
        )
        is None
    )
    ftp = Response(302, Headers({"Location": "ftp://a.example/"}), b"", request.url)
    assert next_hop(request, ftp, hops=0, max_redirects=5) is None
    with pytest.raises(TooManyRedirectsError):
        next_hop(
            request,
            Response(302, Headers({"Location": "/"}), b"", request.url),
            hops=5,
            max_redirects=5,
        )


# ------------------------------------------------------------------------------ oauth core


def token_response(status: int, body: Any) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, Headers(), content, "https://idp/token?secret=x")


def test_parse_token_response() -> None:
    token = parse_token_response(
        token_response(
            200,
            {
                "access_token": "a",
                "expires_in": "120",
                "scope": "s t",
                "token_type": "bearer",
                "refresh_token": "r",
            },
        ),
        now=1000.0,
    )
    assert token.expires_at == 1120.0 and token.scopes == {"s", "t"}
    assert token.authorization_header() == "Bearer a"
    assert "'a'" not in repr(token) and "refresh" not in repr(token).replace("refresh_token", "")


def test_oauth_errors_are_parsed_and_redacted() -> None:
    with pytest.raises(TokenRequestError) as info:
        parse_token_response(
            token_response(400, {"error": "invalid_client", "error_description": "bad pw-123"}),
            now=0,
            redact=["pw-123"],
        )
    assert info.value.error == "invalid_client"
    assert info.value.error_description == "bad ***"
    assert "pw-123" not in str(info.value) and "secret=x" not in str(info.value)
    with pytest.raises(TokenRequestError, match="without an access_token"):
        parse_token_response(token_response(200, {"token_type": "bearer"}), now=0)
    with pytest.raises(TokenRequestError) as info:
        parse_token_response(token_response(502, b"<html>"), now=0)
    assert info.value.status_code == 502 and info.value.error is None


@given(status=st.integers(100, 599), body=st.binary(max_size=200))
def test_token_parser_never_crashes(status: int, body: bytes) -> None:
    try:
        token = parse_token_response(token_response(status, body), now=0)
    except TokenRequestError:
        return
    assert isinstance(token, AccessToken) and status < 400


@given(lifetime=st.floats(0, 1e7, allow_nan=False))
def test_refresh_leeway_is_min_of_60s_and_10_percent(lifetime: float) -> None:
    assert refresh_leeway(lifetime) == pytest.approx(min(60.0, lifetime / 10))


def test_token_cache() -> None:
    cache = AccessTokenCache()
    assert cache.current(0) is None
    cache.store(AccessToken(access_token="a", expires_at=1000.0 + 3600), now=1000.0)
    assert cache.refresh_at == 1000.0 + 3600 - 60
    assert cache.current(4539.9) is not None and cache.current(4540.0) is None
    cache.invalidate()
    assert cache.current(1001.0) is None
    cache.store(AccessToken(access_token="b"), now=0.0)
    assert cache.refresh_at == 300 - 30


def test_client_credentials_request() -> None:
    creds = ClientCredentials("https://idp/token", "my id", "s:cr&t", scope="a", resource="r")
    assert creds.form() == {"grant_type": "client_credentials", "scope": "a", "resource": "r"}
    basic = creds.headers()["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(basic) == b"my+id:s%3Acr%26t"
    assert "s:cr&t" not in repr(creds) + creds.describe()
    post = ClientCredentials("https://idp/token", "id", "pw", auth_method="client_secret_post")
    assert post.form()["client_secret"] == "pw" and "Authorization" not in post.headers()
    for bad in (
        dict(token_url="idp/token"),
        dict(client_id=""),
        dict(client_secret=""),
        dict(auth_method="private_key_jwt"),
    ):
        args: dict[str, Any] = {"token_url": "https://i/t", "client_id": "c", "client_secret": "s"}
        args.update(bad)
        with pytest.raises(ConfigError):
            ClientCredentials(**args)


def test_cognito_token_url() -> None:
    assert cognito_token_url("x.auth.us-east-1.amazoncognito.com") == (
        "https://x.auth.us-east-1.amazoncognito.com/oauth2/token"
    )
    assert cognito_token_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/oauth2/token"
    assert cognito_token_url("http://127.0.0.1:9/custom") == "http://127.0.0.1:9/custom"
    with pytest.raises(ConfigError):
        cognito_token_url("")
    with pytest.raises(ConfigError):
        cognito_token_url("ftp://x")


def test_random_source_is_only_a_protocol() -> None:
    got = POLICY.decide(
        method="GET", outcome=answer(503), attempt=2, elapsed=0, rng=random.Random(7)
    )
    assert isinstance(got, Retry) and 0 <= got.delay <= 0.2

"""``midil token decode|verify|fetch`` against a LocalIssuer, through the real console script."""

from __future__ import annotations

from typing import Any

from midil_common.testing import LocalIssuer

SECRET = "s3cret-Value-42"
COGNITO_POOL = "eu-west-1_AbC123"
COGNITO_ISS = f"https://cognito-idp.eu-west-1.amazonaws.com/{COGNITO_POOL}"


def _signature(token: str) -> str:
    return token.rsplit(".", 1)[1]


# ------------------------------------------------------------------------------------- decode


def test_decode_reads_stdin_and_marks_the_claims_unverified(
    midil: Any, issuer: LocalIssuer
) -> None:
    token = issuer.mint("alice", scope="orders:read")
    text = midil("token", "decode", input=token + "\n")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("UNVERIFIED")
    assert "alice" in text.stdout and "orders:read" in text.stdout and "RS256" in text.stdout
    assert _signature(token) not in text.output and token not in text.output

    as_json = midil("token", "decode", "-", "--output", "json", input=token)
    assert as_json.returncode == 0
    body = as_json.json()
    assert body["verified"] is False
    assert body["claims"]["sub"] == "alice" and body["header"]["alg"] == "RS256"
    assert _signature(token) not in as_json.output


def test_decode_takes_the_token_as_an_argument_too(midil: Any, issuer: LocalIssuer) -> None:
    token = issuer.mint("bob", expires_in=-60)
    done = midil("token", "decode", token)
    assert done.returncode == 0
    assert "bob" in done.stdout and "expired" in done.stdout


def test_decode_of_a_bad_token_is_one_line(midil: Any) -> None:
    done = midil("token", "decode", input="not-a-token")
    assert done.returncode == 1 and done.stdout == ""
    assert "three base64url segments" in done.one_error_line()
    assert "not-a-token" not in done.stderr  # the token is never echoed


# ------------------------------------------------------------------------------------- verify


def test_verify_a_valid_token_in_both_formats(midil: Any, issuer: LocalIssuer) -> None:
    token = issuer.mint("alice", scope="orders:read")
    text = midil("token", "verify", "--issuer", issuer.url, "--audience", "orders-api", input=token)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("VALID") and "alice" in text.stdout
    as_json = midil(
        "token",
        "verify",
        "--issuer",
        issuer.url,
        "--audience",
        "orders-api",
        "-o",
        "json",
        input=token,
    )
    assert as_json.returncode == 0
    assert as_json.json()["verified"] is True
    assert as_json.json()["claims"]["scope"] == "orders:read"
    assert _signature(token) not in text.output + as_json.output


def test_verify_refuses_bad_tokens_with_one_line_and_status_1(
    midil: Any, issuer: LocalIssuer
) -> None:
    cases = {
        "expired": issuer.mint("alice", expires_in=-600),
        "signature": issuer.mint("alice", tamper=True),
        "audience": issuer.mint("alice", aud="someone-else"),
    }
    for word, token in cases.items():
        done = midil(
            "token", "verify", "--issuer", issuer.url, "--audience", "orders-api", input=token
        )
        assert done.returncode == 1, (word, done.stdout)
        assert done.stdout == ""
        assert word in done.one_error_line().lower(), done.stderr
        assert _signature(token) not in done.stderr


def test_verify_without_audience_says_how_to_give_one(midil: Any, issuer: LocalIssuer) -> None:
    done = midil("token", "verify", "--issuer", issuer.url, input=issuer.mint())
    assert done.returncode == 1
    assert "--audience" in done.one_error_line()
    accepted = midil(
        "token", "verify", "--issuer", issuer.url, "--any-audience", input=issuer.mint()
    )
    assert accepted.returncode == 0, accepted.stderr


def test_verify_against_an_unreachable_issuer_is_one_line(midil: Any, issuer: LocalIssuer) -> None:
    done = midil(
        "token", "verify", "--issuer", "http://127.0.0.1:9", "--audience", "orders-api",
        input=issuer.mint(),
    )  # fmt: skip
    assert done.returncode == 1
    line = done.one_error_line()
    assert "JWKSFetchError" in line and "127.0.0.1:9" in line


def test_verify_a_cognito_token(midil: Any, issuer: LocalIssuer) -> None:
    claims = {"token_use": "access", "client_id": "web"}
    token = issuer.mint("u-1", iss=COGNITO_ISS, aud=None, claims=claims)
    args = ["token", "verify", "--cognito-pool", COGNITO_POOL, "--region", "eu-west-1"]
    args += ["--jwks-url", issuer.jwks_url]
    ok = midil(*args, "--client-id", "web", "-o", "json", input=token)
    assert ok.returncode == 0, ok.stderr
    assert ok.json()["issuer"] == COGNITO_ISS and ok.json()["claims"]["sub"] == "u-1"
    refused = midil(*args, "--client-id", "mobile", input=token)
    assert refused.returncode == 1
    refused.one_error_line()


def test_verify_reads_the_issuer_from_the_settings(midil: Any, issuer: LocalIssuer) -> None:
    env = {"MIDIL_AUTH__ISSUER": issuer.url, "MIDIL_AUTH__AUDIENCE": "orders-api"}
    assert midil("token", "verify", input=issuer.mint(), env=env).returncode == 0
    usage = midil("token", "verify", input=issuer.mint())
    assert usage.returncode == 2 and "--issuer" in usage.one_error_line()


# -------------------------------------------------------------------------------------- fetch


def test_fetch_reads_the_secret_from_the_environment_and_hides_the_token(
    midil: Any, issuer: LocalIssuer
) -> None:
    env = {"MIDIL_SERVICE_AUTH__CLIENT_SECRET": SECRET}
    args = ("token", "fetch", "--token-url", issuer.token_url, "--client-id", "billing")
    text = midil(*args, "--scope", "orders:read", env=env)
    assert text.returncode == 0, text.stderr
    assert "orders:read" in text.stdout and "sha256:" in text.stdout
    assert "--show-token" in text.stderr
    as_json = midil(*args, "-o", "json", env=env)
    assert as_json.returncode == 0
    assert "access_token" not in as_json.json() and as_json.json()["token_type"] == "Bearer"
    for done in (text, as_json):
        assert SECRET not in done.output
        assert "eyJ" not in done.output  # no JWT at all


def test_fetch_show_token_prints_a_token_that_verifies(midil: Any, issuer: LocalIssuer) -> None:
    env = {"MIDIL_SERVICE_AUTH__CLIENT_SECRET": SECRET}
    args = ("token", "fetch", "--token-url", issuer.token_url, "--client-id", "billing")
    text = midil(*args, "--show-token", env=env)
    assert text.returncode == 0 and text.stderr == ""
    token = text.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token  # the token alone: TOKEN=$(midil ...)
    verified = midil(
        "token", "verify", "--issuer", issuer.url, "--audience", "orders-api", input=token
    )
    assert verified.returncode == 0, verified.stderr
    as_json = midil(*args, "--show-token", "-o", "json", env=env)
    assert as_json.json()["access_token"].count(".") == 2
    assert SECRET not in text.output + as_json.output


def test_fetch_reads_a_piped_secret_and_settings(midil: Any, issuer: LocalIssuer) -> None:
    env = {
        "MIDIL_SERVICE_AUTH__TOKEN_URL": issuer.token_url,
        "MIDIL_SERVICE_AUTH__CLIENT_ID": "billing",
    }
    done = midil("token", "fetch", "-o", "json", input=SECRET + "\n", env=env)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.output


def test_fetch_failures_are_one_line_without_the_secret(midil: Any, issuer: LocalIssuer) -> None:
    args = ("token", "fetch", "--token-url", issuer.token_url, "--client-id", "billing")
    wrong = midil(*args, env={"MIDIL_SERVICE_AUTH__CLIENT_SECRET": "wrong-" + SECRET})
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert "invalid_client" in wrong.one_error_line()
    assert SECRET not in wrong.output
    down = midil(
        "token", "fetch", "--token-url", "http://127.0.0.1:9/token", "--client-id", "billing",
        env={"MIDIL_SERVICE_AUTH__CLIENT_SECRET": SECRET},
    )  # fmt: skip
    assert down.returncode == 1 and SECRET not in down.output
    down.one_error_line()
    empty = midil(*args, input="")
    assert empty.returncode == 1 and "no client secret" in empty.one_error_line()


def test_the_secret_is_never_an_argument(midil: Any) -> None:
    help_text = midil("token", "fetch", "--help").stdout
    assert "--client-secret" not in help_text and "MIDIL_SERVICE_AUTH__CLIENT_SECRET" in help_text
    refused = midil(
        "token", "fetch", "--token-url", "http://x", "--client-id", "a", "--client-secret", "b"
    )
    assert refused.returncode == 2
    assert "No such option" in refused.one_error_line()

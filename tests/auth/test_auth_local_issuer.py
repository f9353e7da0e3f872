"""The LocalIssuer test tool, over real HTTP."""

from __future__ import annotations

import base64
import json
import socket

import jwt
import pytest
import requests

from midil_common.testing import LocalIssuer


def _header(token: str) -> dict[str, object]:
    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def test_discovery_and_jwks_are_served(local_issuer: LocalIssuer) -> None:
    doc = requests.get(local_issuer.discovery_url, timeout=5).json()
    assert doc["issuer"] == local_issuer.url
    assert doc["jwks_uri"] == local_issuer.jwks_url
    assert doc["token_endpoint"] == local_issuer.token_url
    resp = requests.get(local_issuer.jwks_url, timeout=5)
    assert "max-age=600" in resp.headers["cache-control"]
    kids = {k["kid"] for k in resp.json()["keys"]}
    assert local_issuer.kid("RS256") in kids and local_issuer.kid("ES256") in kids
    assert local_issuer.request_count("discovery") == 1
    assert local_issuer.request_count("jwks") == 1
    assert local_issuer.request_count() == 2


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384", "EdDSA"])
def test_minted_tokens_verify_with_pyjwt(local_issuer: LocalIssuer, alg: str) -> None:
    token = local_issuer.mint(sub="alice", scope=["a", "b"], alg=alg)
    claims = jwt.decode(
        token,
        local_issuer.public_key(alg),
        algorithms=[alg],
        audience="midil-test",
        issuer=local_issuer.url,
    )
    assert claims["sub"] == "alice" and claims["scope"] == "a b"
    assert _header(token)["kid"] == local_issuer.kid(alg)


def test_broken_tokens_are_broken(local_issuer: LocalIssuer) -> None:
    key = local_issuer.public_key()
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(
            local_issuer.mint(expires_in=-60), key, algorithms=["RS256"], audience="midil-test"
        )
    for bad in (local_issuer.mint(tamper=True), local_issuer.mint(key="foreign")):
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(bad, key, algorithms=["RS256"], audience="midil-test")
    unsigned = local_issuer.mint(alg="none")
    assert unsigned.endswith(".") and _header(unsigned)["alg"] == "none"
    crit = local_issuer.mint(headers={"crit": ["x"], "jku": "https://evil.example"})
    assert _header(crit)["crit"] == ["x"] and _header(crit)["jku"] == "https://evil.example"
    odd = local_issuer.mint(omit=["exp", "sub"], kid=None)
    assert "kid" not in _header(odd)
    claims = jwt.decode(
        odd, key, algorithms=["RS256"], audience="midil-test", options={"verify_exp": False}
    )
    assert "exp" not in claims and "sub" not in claims


def test_rotation_changes_the_published_keys(local_issuer: LocalIssuer) -> None:
    old = local_issuer.kid()
    local_issuer.rotate_keys(keep_old=True)
    kids = {k["kid"] for k in local_issuer.jwks()["keys"]}
    assert old in kids and local_issuer.kid() in kids and old != local_issuer.kid()
    local_issuer.rotate_keys()
    assert old not in {k["kid"] for k in local_issuer.jwks()["keys"]}


def test_token_endpoint_client_credentials(local_issuer: LocalIssuer) -> None:
    local_issuer.register_client("svc", "s3cr%t:/+", scopes=["r", "w"])
    basic = requests.post(
        local_issuer.token_url,
        data={"grant_type": "client_credentials"},
        auth=("svc", "s3cr%t:/+"),
        timeout=5,
    )
    assert basic.status_code == 200 and basic.headers["cache-control"] == "no-store"
    body = basic.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "r w" and body["expires_in"] == 3600
    claims = jwt.decode(
        body["access_token"], local_issuer.public_key(), algorithms=["RS256"], audience="midil-test"
    )
    assert claims["client_id"] == "svc" and claims["sub"] == "svc"
    post = requests.post(
        local_issuer.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "svc",
            "client_secret": "s3cr%t:/+",
            "scope": "r",
        },
        timeout=5,
    )
    assert post.status_code == 200 and post.json()["scope"] == "r"
    assert [r["auth_method"] for r in local_issuer.token_requests] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert local_issuer.request_count("token") == 2


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("svc", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "scope": "admin"},
            ("svc", "pw"),
            400,
            "invalid_scope",
        ),
        ({"grant_type": "password"}, ("svc", "pw"), 400, "unsupported_grant_type"),
        ({}, ("svc", "pw"), 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors(
    local_issuer: LocalIssuer,
    data: dict[str, str],
    auth: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    local_issuer.register_client("svc", "pw", scopes=["r"])
    resp = requests.post(local_issuer.token_url, data=data, auth=auth, timeout=5)
    assert resp.status_code == status
    assert resp.json()["error"] == error
    assert "pw" not in resp.text


def test_faults_hangs_and_downtime(local_issuer: LocalIssuer) -> None:
    local_issuer.fail("jwks", 500, times=1)
    assert requests.get(local_issuer.jwks_url, timeout=5).status_code == 500
    assert requests.get(local_issuer.jwks_url, timeout=5).status_code == 200
    local_issuer.fault("discovery", status=200, body=b"garbage")
    assert requests.get(local_issuer.discovery_url, timeout=5).content == b"garbage"
    local_issuer.hang("jwks", 30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(local_issuer.jwks_url, timeout=0.3)
    local_issuer.clear_faults()
    session = requests.Session()
    assert session.get(local_issuer.jwks_url, timeout=5).status_code == 200
    local_issuer.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(local_issuer.jwks_url, timeout=2)
    local_issuer.start()
    assert session.get(local_issuer.jwks_url, timeout=5).status_code == 200


def test_binds_loopback_only() -> None:
    with LocalIssuer() as issuer:
        assert issuer.url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", issuer.port), timeout=2):
            pass
    with pytest.raises(RuntimeError):
        _ = LocalIssuer().url


def test_basic_credentials_may_be_form_urlencoded(local_issuer: LocalIssuer) -> None:
    local_issuer.register_client("svc id", "p&ss word", scopes=["r"])
    raw = base64.b64encode(b"svc+id:p%26ss+word").decode()
    resp = requests.post(
        local_issuer.token_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text

"""The Flask adapter: the behaviour table, fuzzing, a real werkzeug server, decorators and helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import flask_app
import pytest
import requests
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from midil_common.testing import LocalIssuer
from midil_sync import JWTAuthorizer
from midil_sync.flask import MidilAuth, current_claims, require_auth, require_scopes

JSONAPI = "application/vnd.api+json"


@pytest.fixture(scope="module")
def authorizer(issuer: LocalIssuer) -> JWTAuthorizer:
    verifier = JWTAuthorizer(issuer.issuer, audience="articles-api")
    verifier.hydrate()
    return verifier


@pytest.fixture(scope="module")
def app(authorizer: JWTAuthorizer) -> Flask:
    return flask_app.create_app(authorizer)


@pytest.fixture(scope="module")
def down_app(issuer: LocalIssuer, dead_url: str) -> Flask:
    return flask_app.create_app(
        JWTAuthorizer(issuer.issuer, audience="articles-api", jwks_url=dead_url)
    )


def test_behaviour_table(
    case: Any,
    app: Flask,
    down_app: Flask,
    expect: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    client = (down_app if case.down else app).test_client()
    headers = headers_for(case)
    # Through the environ, as werkzeug's server passes it: its test client refuses a line break
    # in a header value, which a real server lets through (a folded header).
    environ = (
        {"HTTP_AUTHORIZATION": headers.pop("Authorization")} if "Authorization" in headers else {}
    )
    resp = client.open(
        case.path, method=case.method, headers=headers, data=case.body, environ_overrides=environ
    )
    expect(case, resp.status_code, resp.headers, resp.get_data())


def test_list_supports_include_fields_sort_and_pages(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    resp = client.get(
        "/articles?include=author&fields[articles]=title,author&fields[people]=name"
        "&sort=-created&page[size]=2&page[number]=1",
        headers={"Authorization": f"Bearer {tokens['read']}", "Accept": JSONAPI},
    )
    assert resp.status_code == 200
    doc = resp.get_json(force=True)
    assert [a["id"] for a in doc["data"]] == ["2", "1"]
    assert doc["data"][0]["attributes"] == {"title": "Bearer tokens"}
    assert {p["id"] for p in doc["included"]} == {"1", "2"}
    assert "next" in doc["links"] and doc["meta"] == {"total": 3}


def test_public_optional_and_permission_routes(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/me").get_json() == {"authenticated": False}
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['read']}"}).get_json()
    assert me == {"authenticated": True, "sub": "user", "scopes": ["articles:read"]}
    # Optional auth still refuses a token that is present but bad.
    assert (
        client.get("/me", headers={"Authorization": f"Bearer {tokens['expired']}"}).status_code
        == 401
    )
    denied = client.delete("/articles/1", headers={"Authorization": f"Bearer {tokens['read']}"})
    assert denied.status_code == 403
    assert denied.headers["WWW-Authenticate"].endswith('scope="articles:delete"')
    assert json.loads(denied.data)["errors"][0]["meta"]["permission"] == "articles:delete"
    editor = client.delete("/articles/1", headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert editor.status_code == 204
    # Flask's own errors become JSON:API too (MIDIL_JSONAPI_ERRORS).
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == JSONAPI


def test_cookie_source_protect_all_and_any_match(
    authorizer: JWTAuthorizer, tokens: dict[str, str]
) -> None:
    app = Flask("t")
    app.config.update(
        MIDIL_TOKEN_COOKIE="access_token", MIDIL_PROTECT_ALL=True, MIDIL_EXCLUDED_PATHS="/ping"
    )
    auth = MidilAuth(authorizer=authorizer)
    auth.init_app(app)

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    @app.get("/who")
    def who() -> str:
        return str(current_claims.sub)

    @app.get("/either")
    @require_scopes("admin", "articles:read", match="any")
    def either() -> str:
        return "ok"

    client = app.test_client()
    assert client.get("/ping").data == b"pong"
    assert client.get("/who").status_code == 401
    client.set_cookie("access_token", tokens["read"])
    assert client.get("/who").data == b"user"
    assert client.get("/either").data == b"ok"
    assert app.extensions["midil"].authorizer is authorizer


def test_custom_header_and_preflight_under_protect_all(
    authorizer: JWTAuthorizer, tokens: dict[str, str]
) -> None:
    app = Flask("custom")
    app.config.update(
        MIDIL_TOKEN_HEADER="X-Access-Token", MIDIL_TOKEN_SCHEME=None, MIDIL_PROTECT_ALL=True
    )
    MidilAuth(app, authorizer=authorizer)

    @app.route("/who", methods=["GET", "OPTIONS"])
    def who() -> str:
        return str(current_claims.sub) if current_claims else "nobody"

    client = app.test_client()
    assert client.get("/who", headers={"X-Access-Token": tokens["read"]}).data == b"user"
    # The configured header is the only source: a bearer Authorization header is not read.
    refused = client.get("/who", headers={"Authorization": f"Bearer {tokens['read']}"})
    assert refused.status_code == 401
    assert client.get("/who", headers={"X-Access-Token": "a b"}).status_code == 401
    # A CORS preflight passes without a token; a plain OPTIONS does not.
    preflight = client.options(
        "/who", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert client.options("/who").status_code == 401


def test_missing_init_app_is_a_clear_error(authorizer: JWTAuthorizer) -> None:
    app = Flask("bare")

    @app.get("/x")
    @require_auth
    def x() -> str:
        return "x"

    app.testing = True
    with pytest.raises(RuntimeError, match="init_app"):
        app.test_client().get("/x", headers={"Authorization": "Bearer abc"})


def test_authorizer_from_config(issuer: LocalIssuer, tokens: dict[str, str]) -> None:
    app = Flask("configured")
    app.config.update(MIDIL_ISSUER=issuer.issuer, MIDIL_AUDIENCE="articles-api")
    MidilAuth(app)

    @app.get("/x")
    @require_auth
    def x() -> str:
        return str(current_claims.sub)

    assert isinstance(app.extensions["midil"].authorizer, JWTAuthorizer)
    resp = app.test_client().get("/x", headers={"Authorization": f"Bearer {tokens['read']}"})
    assert resp.data == b"user"


HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
QUERY_KEYS = st.sampled_from(
    [
        "sort",
        "include",
        "fields[articles]",
        "fields[people]",
        "page[size]",
        "page[number]",
        "page[offset]",
        "filter[x]",
        "fields",
        "page",
        "unknown",
        "apiKey",
        "Sort",
        "fields[]",
        "[",
    ]
) | st.text(max_size=12)


@st.composite
def authorization(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "Bearer ", "bearer ", "Basic ", "Bearer  ", "BEARER\t"]))
    return prefix + draw(st.text(HEADER_CHARS, max_size=80))


@settings(max_examples=80)
@given(
    auth=st.none() | authorization(),
    query=st.lists(st.tuples(QUERY_KEYS, st.text(max_size=20)), max_size=5),
    accept=st.sampled_from([JSONAPI, "*/*", JSONAPI + '; ext="x"', JSONAPI + "; q=0", "text/html"]),
    valid=st.booleans(),
)
def test_no_input_produces_a_500(
    app: Flask,
    tokens: dict[str, str],
    auth: str | None,
    query: list[tuple[str, str]],
    accept: str,
    valid: bool,
) -> None:
    qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    headers = {"Accept": accept}
    if valid:
        headers["Authorization"] = f"Bearer {tokens['read']}"
    elif auth is not None:
        headers["Authorization"] = auth
    resp = app.test_client().get(f"/articles?{qs}", headers=headers)
    assert resp.status_code in (200, 400, 401, 403, 406), resp.status_code
    if resp.status_code >= 400:
        assert resp.headers["Content-Type"] == JSONAPI
        assert json.loads(resp.data)["errors"]


def test_real_werkzeug_server(
    app: Flask, tokens: dict[str, str], wsgi_server: Callable[..., Any]
) -> None:
    with wsgi_server(app) as base:
        anonymous = requests.get(f"{base}/articles", timeout=5)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="articles"'
        ok = requests.get(
            f"{base}/articles?include=author",
            headers={"Authorization": f"Bearer {tokens['read']}"},
            timeout=5,
        )
        assert ok.status_code == 200 and ok.headers["Content-Type"] == JSONAPI
        assert len(ok.json()["data"]) == 3

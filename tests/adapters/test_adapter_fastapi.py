"""The FastAPI adapter: the behaviour table, fuzzing, uvicorn on loopback, OpenAPI, the pure ASGI
middleware, validation errors and the JSON:API query dependencies."""

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote

import fastapi_app
import pytest
import requests
from fastapi import Depends, FastAPI, Request, Security
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.middleware.base import BaseHTTPMiddleware

from midil_async import JWTAuthorizer
from midil_async.fastapi import (
    Authenticated,
    AuthMiddleware,
    JSONAPIResponse,
    get_claims,
    parse_fields,
    parse_filter,
    parse_include,
    parse_page,
    parse_sort,
    register_exception_handlers,
    require_permission,
    require_scopes,
)
from midil_common.auth import PermissionPolicy, TokenClaims
from midil_common.testing import LocalIssuer

JSONAPI = "application/vnd.api+json"


@pytest.fixture(scope="module")
def client(issuer: LocalIssuer) -> Iterator[TestClient]:
    app = fastapi_app.create_app(JWTAuthorizer(issuer.issuer, audience="articles-api"))
    with TestClient(app) as running:  # the lifespan hydrates the keys
        yield running


@pytest.fixture(scope="module")
def down_client(issuer: LocalIssuer, dead_url: str) -> Iterator[TestClient]:
    verifier = JWTAuthorizer(issuer.issuer, audience="articles-api", jwks_url=dead_url)
    with TestClient(fastapi_app.create_app(verifier)) as running:
        yield running


def test_behaviour_table(
    case: Any,
    client: TestClient,
    down_client: TestClient,
    expect: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    chosen = down_client if case.down else client
    resp = chosen.request(case.method, case.path, headers=headers_for(case), content=case.body)
    expect(case, resp.status_code, resp.headers, resp.content)


def test_openapi_lists_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A JWT access token (RFC 6750).",
    }
    paths = schema["paths"]
    assert paths["/articles"]["get"]["security"] == [{"HTTPBearer": ["articles:read"]}]
    assert paths["/articles"]["post"]["security"] == [{"HTTPBearer": ["articles:write"]}]
    assert paths["/articles/{article_id}"]["delete"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/health"]["get"]


def test_query_features_and_optional_auth(client: TestClient, tokens: dict[str, str]) -> None:
    read = {"Authorization": f"Bearer {tokens['read']}", "Accept": JSONAPI}
    doc = client.get(
        "/articles?include=author&fields[articles]=title&sort=-created&page[size]=1&page[number]=2",
        headers=read,
    ).json()
    assert [a["id"] for a in doc["data"]] == ["1"]
    assert doc["data"][0] == {
        "type": "articles",
        "id": "1",
        "attributes": {"title": "JSON:API in practice"},
    }
    assert doc["included"] == [{"type": "people", "id": "1", "attributes": {"name": "Ada"}}]
    assert client.get("/me").json() == {"authenticated": False}
    me = client.get("/me", headers=read).json()
    assert me == {"authenticated": True, "sub": "user", "scopes": ["articles:read"]}
    assert client.get("/me", headers={"Authorization": "Bearer x y"}).status_code == 401
    denied = client.delete("/articles/1", headers=read)
    assert denied.status_code == 403 and denied.headers["WWW-Authenticate"].endswith(
        'scope="articles:delete"'
    )
    assert (
        client.delete(
            "/articles/1", headers={"Authorization": f"Bearer {tokens['editor']}"}
        ).status_code
        == 204
    )
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == JSONAPI


class Article(BaseModel):
    title: str
    pages: int


@pytest.fixture(scope="module")
def middleware_app(issuer: LocalIssuer) -> Iterator[TestClient]:
    app = FastAPI()
    app.add_middleware(
        AuthMiddleware,
        authorizer=JWTAuthorizer(issuer.issuer, audience="articles-api"),
        realm="mw",
        excluded_paths=["/health", "/docs*", "/openapi.json"],
    )
    register_exception_handlers(app, realm="mw", policy=PermissionPolicy())

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        return {"claims": getattr(request.state, "claims", "unset")}

    @app.get("/who")
    async def who(claims: Annotated[TokenClaims, Depends(get_claims)]) -> dict[str, Any]:
        return {"sub": claims.sub}

    @app.get("/scoped")
    async def scoped(claims: Annotated[TokenClaims, Security(get_claims, scopes=["admin"])]) -> str:
        return "ok"

    @app.get("/any")
    async def any_scope(
        claims: Annotated[
            TokenClaims, Depends(require_scopes("admin", "articles:read", match="any"))
        ],
    ) -> str:
        return "ok"

    @app.get("/perm")
    async def perm(
        claims: Annotated[TokenClaims, Depends(require_permission("articles", "read"))],
    ) -> str:
        return "ok"

    @app.post("/items")
    async def items(
        article: Article,
        count: int = 1,
        x_trace: Annotated[int | None, Depends(lambda: None)] = None,
    ) -> dict[str, Any]:
        return {"title": article.title, "count": count}

    @app.get("/parts", response_class=JSONAPIResponse)
    async def parts(
        sort: Annotated[Any, Depends(parse_sort({"title"}))],
        include: Annotated[Any, Depends(parse_include({"author"}))],
        fields: Annotated[Any, Depends(parse_fields({"articles": {"title"}}))],
        filters: Annotated[Any, Depends(parse_filter({"title"}))],
        page: Annotated[Any, Depends(parse_page(max_page_size=5))],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(
            {
                "meta": {
                    "sort": [[s.field, s.descending] for s in sort],
                    "include": list(include or ()),
                    "fields": {k: list(v) for k, v in fields.items()},
                    "filters": [[list(f.path), f.value] for f in filters],
                    "size": page.size,
                }
            }
        )

    with TestClient(app) as running:
        yield running


def test_pure_asgi_middleware(middleware_app: TestClient, tokens: dict[str, str]) -> None:
    assert not issubclass(AuthMiddleware, BaseHTTPMiddleware)
    c = middleware_app
    read = {"Authorization": f"Bearer {tokens['read']}"}
    # Excluded: the token is not even looked at, and request.state.claims is None.
    assert c.get("/health", headers={"Authorization": "Bearer"}).json() == {"claims": None}
    assert c.get("/docs").status_code == 200
    refused = c.get("/who")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == 'Bearer realm="mw"'
    assert refused.headers["Content-Type"] == JSONAPI
    assert json.loads(refused.content)["errors"][0]["code"] == "missing_token"
    preflight = c.options(
        "/who", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code != 401
    assert c.get("/who", headers=read).json() == {"sub": "user"}
    scoped = c.get("/scoped", headers=read)
    assert scoped.status_code == 403
    assert scoped.headers["WWW-Authenticate"] == (
        'Bearer realm="mw", error="insufficient_scope", error_description="the token lacks the'
        ' scopes: admin", scope="admin"'
    )
    assert c.get("/any", headers=read).json() == "ok"
    assert c.get("/perm", headers=read).json() == "ok"
    assert (
        c.get("/perm", headers={"Authorization": f"Bearer {tokens['noscope']}"}).status_code == 403
    )
    expired = c.get("/who", headers={"Authorization": f"Bearer {tokens['expired']}"})
    assert (
        expired.status_code == 401
        and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    )


def test_validation_errors_become_pointers(
    middleware_app: TestClient, tokens: dict[str, str]
) -> None:
    read = {"Authorization": f"Bearer {tokens['read']}"}
    body = middleware_app.post("/items", headers=read, json={"title": 3})
    assert body.status_code == 422 and body.headers["Content-Type"] == JSONAPI
    errors = body.json()["errors"]
    assert {e["source"]["pointer"] for e in errors} == {"/title", "/pages"}
    assert all(e["status"] == "422" for e in errors)
    query = middleware_app.post("/items?count=many", headers=read, json={"title": "t", "pages": 1})
    assert query.status_code == 400
    assert query.json()["errors"][0]["source"] == {"parameter": "count"}
    broken = middleware_app.post(
        "/items", headers={**read, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["status"] == "422"


def test_query_part_dependencies(middleware_app: TestClient, tokens: dict[str, str]) -> None:
    read = {"Authorization": f"Bearer {tokens['read']}"}
    ok = middleware_app.get(
        "/parts?sort=-title&include=author&fields[articles]=title&filter[title]=x&page[size]=3",
        headers=read,
    )
    assert ok.status_code == 200 and ok.headers["Content-Type"] == JSONAPI
    assert ok.json()["meta"] == {
        "sort": [["title", True]],
        "include": ["author"],
        "fields": {"articles": ["title"]},
        "filters": [[["title"], "x"]],
        "size": 3,
    }
    for bad, parameter in [
        ("sort=body", "sort"),
        ("include=x", "include"),
        ("page[size]=6", "page[size]"),
    ]:
        resp = middleware_app.get(f"/parts?{bad}", headers=read)
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["source"] == {"parameter": parameter}


def test_without_registered_handlers_statuses_still_hold(
    issuer: LocalIssuer, tokens: dict[str, str]
) -> None:
    app = FastAPI()
    auth = Authenticated(JWTAuthorizer(issuer.issuer, audience="articles-api"), realm="bare")

    @app.get("/x")
    async def x(claims: Annotated[TokenClaims, Security(auth, scopes=["admin"])]) -> str:
        return "x"

    with TestClient(app) as c:
        missing = c.get("/x")
        assert (
            missing.status_code == 401
            and missing.headers["WWW-Authenticate"] == 'Bearer realm="bare"'
        )
        denied = c.get("/x", headers={"Authorization": f"Bearer {tokens['read']}"})
        assert denied.status_code == 403 and 'scope="admin"' in denied.headers["WWW-Authenticate"]


HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@settings(max_examples=60)
@given(
    auth=st.none()
    | st.builds(
        lambda p, t: p + t,
        st.sampled_from(["", "Bearer ", "bearer  ", "Basic ", "BEARER "]),
        st.text(HEADER_CHARS, max_size=60),
    ),
    query=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "sort",
                    "include",
                    "fields[articles]",
                    "page[size]",
                    "page[number]",
                    "filter[a]",
                    "x",
                    "apiKey",
                ]
            )
            | st.text(max_size=10),
            st.text(max_size=20),
        ),
        max_size=5,
    ),
    valid=st.booleans(),
)
def test_no_input_produces_a_500(
    client: TestClient,
    tokens: dict[str, str],
    auth: str | None,
    query: list[tuple[str, str]],
    valid: bool,
) -> None:
    qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    headers = {"Accept": JSONAPI}
    if valid:
        headers["Authorization"] = f"Bearer {tokens['read']}"
    elif auth is not None:
        headers["Authorization"] = auth.strip()
    resp = client.get(f"/articles?{qs}", headers=headers)
    assert resp.status_code in (200, 400, 401, 403), resp.status_code
    if resp.status_code >= 400:
        assert resp.headers["Content-Type"] == JSONAPI
        assert resp.json()["errors"]


def test_real_uvicorn_server(
    issuer: LocalIssuer, tokens: dict[str, str], asgi_server: Callable[..., Any]
) -> None:
    app = fastapi_app.create_app(JWTAuthorizer(issuer.issuer, audience="articles-api"))
    with asgi_server(app) as base:
        anonymous = requests.get(f"{base}/articles", timeout=5)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="articles"'
        assert anonymous.headers["Content-Type"] == JSONAPI
        ok = requests.get(
            f"{base}/articles?include=author",
            headers={"Authorization": f"Bearer {tokens['read']}"},
            timeout=5,
        )
        assert ok.status_code == 200 and ok.headers["Content-Type"] == JSONAPI
        assert len(ok.json()["included"]) == 2

"""Hostile requests to the FastAPI adapter that its test client can send but the shared behaviour
table cannot express for every framework: repeated ``Authorization`` fields.

Flask and Django never see two fields: their servers join them into one value (``"Bearer a, Bearer
b"``), which is refused as malformed. The FastAPI adapter must answer the same, not let the first win.
"""

from collections.abc import Iterator
from typing import Annotated

import fastapi_app
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from midil_async import JWTAuthorizer
from midil_async.fastapi import Authenticated, AuthMiddleware, register_exception_handlers
from midil_common.auth import TokenClaims
from midil_common.testing import LocalIssuer

JSONAPI = "application/vnd.api+json"


@pytest.fixture(scope="module")
def dependency_app(issuer: LocalIssuer) -> Iterator[TestClient]:
    with TestClient(
        fastapi_app.create_app(JWTAuthorizer(issuer.issuer, audience="articles-api"))
    ) as c:
        yield c


@pytest.fixture(scope="module")
def middleware_app(issuer: LocalIssuer) -> Iterator[TestClient]:
    app = FastAPI()
    register_exception_handlers(app)
    app.add_middleware(
        AuthMiddleware, authorizer=JWTAuthorizer(issuer.issuer, audience="articles-api")
    )

    @app.get("/articles")
    async def articles() -> dict[str, list[str]]:
        return {"data": []}

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def plain_dependency_app(issuer: LocalIssuer) -> Iterator[TestClient]:
    app = FastAPI()
    register_exception_handlers(app)
    auth = Authenticated(JWTAuthorizer(issuer.issuer, audience="articles-api"))

    @app.get("/articles")
    async def articles(claims: Annotated[TokenClaims, Depends(auth)]) -> dict[str, list[str]]:
        return {"data": []}

    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("second", ["valid", "junk"])
@pytest.mark.parametrize("app", ["dependency_app", "middleware_app", "plain_dependency_app"])
def test_two_authorization_fields_are_refused_like_a_joined_value(
    request: pytest.FixtureRequest, app: str, second: str, tokens: dict[str, str]
) -> None:
    client: TestClient = request.getfixturevalue(app)
    valid = f"Bearer {tokens['read']}"
    assert client.get("/articles", headers={"Authorization": valid}).status_code == 200
    other = valid if second == "valid" else "Bearer x"
    response = client.get(
        "/articles",
        headers=[("Authorization", valid), ("Authorization", other), ("Accept", JSONAPI)],
    )
    assert response.status_code == 401, response.content[:300]
    assert response.headers["Content-Type"] == JSONAPI
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["errors"][0]["code"] == "invalid_token"

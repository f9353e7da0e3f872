"""A small JSON:API "articles" service on FastAPI, protected by bearer tokens.

Run it against any OIDC issuer::

    MIDIL_AUTH__ISSUER=https://issuer.example MIDIL_AUTH__AUDIENCE=articles-api \\
        uvicorn --factory examples.fastapi_app:create_app

The same API as ``examples/flask_app.py``: ``GET /articles`` (scope ``articles:read``; ``include``,
``fields``, ``sort``, pagination), ``POST /articles`` (``articles:write``), ``GET /me`` (optional
token), ``GET /health`` (public). The OpenAPI page at ``/docs`` shows the bearer lock.
"""

import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request, Security

from midil_async import JWTAuthorizer
from midil_async.fastapi import (
    Authenticated,
    JSONAPIResponse,
    jsonapi_negotiation,
    jsonapi_query,
    register_exception_handlers,
    require_permission,
)
from midil_common.auth import PermissionPolicy, TokenClaims
from midil_common.auth.protocols import AsyncAuthorizer
from midil_common.errors import InvalidDocumentError, JWKSFetchError
from midil_common.jsonapi import CreateDocument, QueryParams

log = logging.getLogger("examples.fastapi_app")

PEOPLE = {"1": {"name": "Ada"}, "2": {"name": "Grace"}}
ARTICLES = [
    {
        "id": "1",
        "title": "JSON:API in practice",
        "body": "...",
        "created": "2024-01-02",
        "author": "1",
    },
    {"id": "2", "title": "Bearer tokens", "body": "...", "created": "2024-03-04", "author": "2"},
    {"id": "3", "title": "Async Python", "body": "...", "created": "2023-12-24", "author": "1"},
]
QUERY_RULES: dict[str, Any] = {
    "allowed_include": {"author"},
    "allowed_sort": {"title", "created"},
    "allowed_fields": {"articles": {"title", "body", "created", "author"}, "people": {"name"}},
    "allowed_filters": set(),
    "max_page_size": 50,
    "default_page_size": 10,
}
_ids = itertools.count(len(ARTICLES) + 1)


def articles_document(query: Any, base_url: str) -> dict[str, Any]:
    """A compound document for a JSON:API query (sort, sparse fieldsets, include, pagination)."""
    rows = list(ARTICLES)
    for key in reversed(list(query.sort)):
        rows.sort(key=lambda a, f=key.field: a[f], reverse=key.descending)
    size = query.page.size or QUERY_RULES["default_page_size"]
    number = query.page.number or 1
    page = rows[(number - 1) * size : number * size]
    article_fields = query.fields.get("articles")
    people_fields = query.fields.get("people")

    def resource(article: dict[str, Any]) -> dict[str, Any]:
        attrs = {k: article[k] for k in ("title", "body", "created")}
        if article_fields is not None:
            attrs = {k: v for k, v in attrs.items() if k in article_fields}
        res: dict[str, Any] = {"type": "articles", "id": article["id"], "attributes": attrs}
        if article_fields is None or "author" in article_fields:
            res["relationships"] = {"author": {"data": {"type": "people", "id": article["author"]}}}
        return res

    doc: dict[str, Any] = {
        "data": [resource(a) for a in page],
        "meta": {"total": len(rows)},
        "links": {"self": f"{base_url}?page[number]={number}&page[size]={size}"},
    }
    if number * size < len(rows):
        doc["links"]["next"] = f"{base_url}?page[number]={number + 1}&page[size]={size}"
    if "author" in (query.include or ()):
        doc["included"] = [
            {
                "type": "people",
                "id": pid,
                "attributes": {
                    k: v
                    for k, v in PEOPLE[pid].items()
                    if people_fields is None or k in people_fields
                },
            }
            for pid in sorted({a["author"] for a in page})
        ]
    return doc


def create_app(authorizer: AsyncAuthorizer | None = None) -> FastAPI:
    """The application; ``authorizer`` defaults to ``JWTAuthorizer.from_settings()``."""
    verifier: Any = authorizer if authorizer is not None else JWTAuthorizer.from_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Fetch the keys before the first request; a down issuer is not fatal at start-up.
        hydrate = getattr(verifier, "hydrate", None)
        if hydrate is not None:
            try:
                await hydrate()
            except JWKSFetchError:
                log.warning("issuer keys not available at start-up")
        yield

    app = FastAPI(title="articles", lifespan=lifespan)
    policy = PermissionPolicy(groups={"editors": ["articles:*"]})
    register_exception_handlers(app, realm="articles", policy=policy)
    auth = Authenticated(verifier, realm="articles")
    query_dependency = jsonapi_query(**QUERY_RULES)
    negotiated = Depends(jsonapi_negotiation())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/articles", response_class=JSONAPIResponse, dependencies=[negotiated])
    async def list_articles(
        request: Request,
        claims: Annotated[TokenClaims, Security(auth, scopes=["articles:read"])],
        query: Annotated[QueryParams, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        base = str(request.url.replace(query=""))
        return JSONAPIResponse(articles_document(query, base))

    @app.post(
        "/articles", response_class=JSONAPIResponse, status_code=201, dependencies=[negotiated]
    )
    async def create_article(
        claims: Annotated[TokenClaims, Security(auth, scopes=["articles:write"])],
        body: Annotated[dict[str, Any], Body(media_type="application/vnd.api+json")],
    ) -> JSONAPIResponse:
        document = CreateDocument.model_validate(body)
        if document.data.type != "articles":
            raise InvalidDocumentError("only articles can be created here", status=409)
        attributes = dict(document.data.attributes or {})
        new_id = str(next(_ids))
        return JSONAPIResponse(
            {
                "data": {
                    "type": "articles",
                    "id": new_id,
                    "attributes": {"title": attributes.get("title")},
                }
            },
            status_code=201,
        )

    @app.delete("/articles/{article_id}", status_code=204)
    async def delete_article(
        article_id: str,
        claims: Annotated[
            TokenClaims, Depends(require_permission("articles", "delete", auth=auth))
        ],
    ) -> None:
        return None

    @app.get("/me")
    async def me(claims: Annotated[TokenClaims | None, Depends(auth.optional())]) -> dict[str, Any]:
        if claims is None:
            return {"authenticated": False}
        return {"authenticated": True, "sub": claims.sub, "scopes": sorted(claims.scopes)}

    return app

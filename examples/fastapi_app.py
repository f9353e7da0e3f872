"""A small JSON:API "articles" service on FastAPI, protected by bearer tokens.

Run it (from ``examples/``) against any OIDC issuer::

    MIDIL_AUTH__ISSUER=https://issuer.example MIDIL_AUTH__AUDIENCE=articles-api \\
        uvicorn --factory fastapi_app:create_app

The same API as ``examples/flask_app.py``: ``GET /articles`` (scope ``articles:read``; ``include``,
``fields``, ``sort``, pagination), ``POST /articles`` (``articles:write``), ``GET /me`` (optional
token), ``GET /health`` (public). The OpenAPI page at ``/docs`` shows the bearer lock.
"""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from articles import QUERY_RULES, articles_document, created_document
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
from midil_common.errors import JWKSFetchError
from midil_common.jsonapi import CreateDocument, QueryParams

log = logging.getLogger("examples.fastapi_app")


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
        return JSONAPIResponse(
            created_document(CreateDocument.model_validate(body)), status_code=201
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

"""A small JSON:API "articles" service on Flask, protected by bearer tokens.

Run it (from ``examples/``) against any OIDC issuer::

    MIDIL_AUTH__ISSUER=https://issuer.example MIDIL_AUTH__AUDIENCE=articles-api \\
        flask --app flask_app:create_app run

``GET /articles`` needs the scope ``articles:read`` and supports ``include=author``,
``fields[articles]``, ``fields[people]``, ``sort`` (``title``, ``created``) and
``page[number]``/``page[size]``; ``POST /articles`` needs ``articles:write``; ``GET /me`` works with
or without a token; ``GET /health`` needs none.
"""

from __future__ import annotations

from typing import Any

from articles import QUERY_RULES, articles_document, created_document
from flask import Flask, request

from midil_common.auth import PermissionPolicy
from midil_common.auth.protocols import Authorizer
from midil_common.jsonapi import CreateDocument
from midil_sync.flask import (
    MidilAuth,
    current_claims,
    jsonapi_query,
    jsonapi_response,
    jsonapi_view,
    require_auth,
    require_permission,
    require_scopes,
)


def create_app(authorizer: Authorizer | None = None, **config: Any) -> Flask:
    """The application; ``authorizer`` defaults to one built from ``MIDIL_...`` configuration."""
    app = Flask(__name__)
    app.config.update(
        MIDIL_REALM="articles",
        MIDIL_EXCLUDED_PATHS=["/health"],
        MIDIL_JSONAPI_ERRORS=True,
    )
    app.config.update(config)
    MidilAuth(
        app, authorizer=authorizer, policy=PermissionPolicy(groups={"editors": ["articles:*"]})
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/articles")
    @require_scopes("articles:read")
    @jsonapi_view
    def list_articles() -> Any:
        return jsonapi_response(articles_document(jsonapi_query(**QUERY_RULES), request.base_url))

    @app.post("/articles")
    @require_scopes("articles:write")
    @jsonapi_view
    def create_article() -> Any:
        body = CreateDocument.model_validate_json(request.get_data())
        return jsonapi_response(created_document(body), 201)

    @app.delete("/articles/<article_id>")
    @require_permission("articles", "delete")
    def delete_article(article_id: str) -> Any:
        return "", 204

    @app.get("/me")
    @require_auth(optional=True)
    async def me() -> dict[str, Any]:
        # An async view: the decorators go through current_app.ensure_sync.
        if not current_claims:  # a proxy: test its truth, not its identity
            return {"authenticated": False}
        return {
            "authenticated": True,
            "sub": current_claims.sub,
            "scopes": sorted(current_claims.scopes),
        }

    return app


if __name__ == "__main__":
    create_app().run()

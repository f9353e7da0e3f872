"""A small JSON:API "articles" service on Flask, protected by bearer tokens.

Run it against any OIDC issuer::

    MIDIL_AUTH__ISSUER=https://issuer.example MIDIL_AUTH__AUDIENCE=articles-api \\
        flask --app examples.flask_app:create_app run

``GET /articles`` needs the scope ``articles:read`` and supports ``include=author``,
``fields[articles]``, ``fields[people]``, ``sort`` (``title``, ``created``) and
``page[number]``/``page[size]``; ``POST /articles`` needs ``articles:write``; ``GET /me`` works with
or without a token; ``GET /health`` needs none.
"""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask, request

from midil_common.auth import PermissionPolicy
from midil_common.auth.protocols import Authorizer
from midil_common.errors import InvalidDocumentError
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
        authors = sorted({a["author"] for a in page})
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
            for pid in authors
        ]
    return doc


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
        if body.data.type != "articles":
            raise InvalidDocumentError("only articles can be created here", status=409)
        article = {"id": str(next(_ids)), "author": "1", "body": "", "created": "2024-06-01"}
        article.update(
            {k: v for k, v in (body.data.attributes or {}).items() if k in ("title", "body")}
        )
        return jsonapi_response(
            {
                "data": {
                    "type": "articles",
                    "id": article["id"],
                    "attributes": {"title": article.get("title")},
                }
            },
            201,
        )

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

"""Views of the example project: function views, a class-based view, an async view, a DRF viewset."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from rest_framework import viewsets
from rest_framework.request import Request

from midil_common.auth import PermissionPolicy
from midil_common.errors import InvalidDocumentError
from midil_common.jsonapi import CreateDocument
from midil_sync.django import (
    jsonapi_query,
    jsonapi_response,
    jsonapi_view,
    require_auth,
    require_permission,
    require_scopes,
)
from midil_sync.django.drf import HasScopes

POLICY = PermissionPolicy(groups={"editors": ["articles:*"]})

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

# Thread idents of the last async request, so the tests can see where the work ran.
LAST_ASYNC_THREAD: dict[str, int] = {}


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


def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@require_scopes("articles:read")
@jsonapi_view
def _list_articles(request: HttpRequest) -> HttpResponse:
    query = jsonapi_query(request, **QUERY_RULES)
    return jsonapi_response(articles_document(query, request.build_absolute_uri(request.path)))


@require_scopes("articles:write")
@jsonapi_view
def _create_article(request: HttpRequest) -> HttpResponse:
    document = CreateDocument.model_validate_json(request.body)
    if document.data.type != "articles":
        raise InvalidDocumentError("only articles can be created here", status=409)
    attributes = dict(document.data.attributes or {})
    new_id = str(next(_ids))
    return jsonapi_response(
        {
            "data": {
                "type": "articles",
                "id": new_id,
                "attributes": {"title": attributes.get("title")},
            }
        },
        status=201,
    )


def articles(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create_article(request)
    return _list_articles(request)


@require_auth
class ArticleView(View):
    """A class-based view: the decorator guards every method; DELETE also needs a permission."""

    def get(self, request: HttpRequest, article_id: str) -> HttpResponse:
        found = [a for a in ARTICLES if a["id"] == article_id]
        if not found:
            return jsonapi_response({"errors": [{"status": "404", "title": "Not Found"}]}, 404)
        a = found[0]
        return jsonapi_response(
            {"data": {"type": "articles", "id": a["id"], "attributes": {"title": a["title"]}}}
        )

    @require_permission("articles", "delete")
    def delete(self, request: HttpRequest, article_id: str) -> HttpResponse:
        return HttpResponse(status=204)


@require_scopes("articles:read")
@jsonapi_view
async def async_articles(request: HttpRequest) -> HttpResponse:
    """An async view: under ASGI it runs on the event loop, and so does token verification."""
    LAST_ASYNC_THREAD["view"] = threading.get_ident()
    query = jsonapi_query(request, **QUERY_RULES)
    return jsonapi_response(articles_document(query, request.build_absolute_uri(request.path)))


@require_auth(optional=True)
def me(request: HttpRequest) -> HttpResponse:
    claims = request.midil_claims  # type: ignore[attr-defined]
    if claims is None:
        return JsonResponse({"authenticated": False})
    user = request.user
    return JsonResponse({"authenticated": True, "sub": claims.sub, "user": str(user)})


class ArticleViewSet(viewsets.ViewSet):
    """The same list through DRF: ``JWTAuthentication`` and ``HasScopes`` from the settings."""

    permission_classes = [HasScopes]
    required_scopes = ["articles:read"]

    def list(self, request: Request) -> HttpResponse:
        query = jsonapi_query(request, **QUERY_RULES)
        return jsonapi_response(articles_document(query, request.build_absolute_uri(request.path)))

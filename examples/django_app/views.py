"""Views of the example project: function views, a class-based view, an async view, a DRF viewset."""

from __future__ import annotations

import threading

from articles import QUERY_RULES, article_document, articles_document, created_document
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from rest_framework import viewsets
from rest_framework.request import Request

from midil_common.auth import PermissionPolicy
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
# The thread the async view last ran on (the tests check it is the event loop's).
LAST_ASYNC_THREAD: dict[str, int] = {}


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
    return jsonapi_response(created_document(document), status=201)


def articles(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create_article(request)
    return _list_articles(request)


@require_auth
class ArticleView(View):
    """A class-based view: the decorator guards every method; DELETE also needs a permission."""

    def get(self, request: HttpRequest, article_id: str) -> HttpResponse:
        document = article_document(article_id)
        if document is None:
            return jsonapi_response({"errors": [{"status": "404", "title": "Not Found"}]}, 404)
        return jsonapi_response(document)

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

"""The "articles" data the three example apps serve, and their JSON:API documents.

Shared by ``flask_app``, ``django_app`` and ``fastapi_app`` so that the apps differ only in their
framework wiring. Documents are built with the kit's builders: sorting and paging happen here, while
``compound_document`` applies sparse fieldsets, decides whether ``included`` is written and checks the
result (full linkage, unique resources).
"""

from __future__ import annotations

import itertools
from typing import Any

from midil_common.errors import InvalidDocumentError
from midil_common.jsonapi import (
    CreateDocument,
    Document,
    QueryParams,
    compound_document,
    identifier,
    pagination_links,
    resource,
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


def _article(row: dict[str, Any]) -> Any:
    return resource(
        "articles",
        row["id"],
        attributes={k: row[k] for k in ("title", "body", "created")},
        relationships={"author": identifier("people", row["author"])},
    )


def articles_document(query: QueryParams, base_url: str) -> Document:
    """One page of articles for a parsed JSON:API query (sort, fields, include, page)."""
    rows = list(ARTICLES)
    for key in reversed(query.sort):
        rows.sort(key=lambda a, f=key.field: a[f], reverse=key.descending)
    page = query.page
    chosen = rows[page.start : page.start + page.size]
    authors = sorted({a["author"] for a in chosen}) if "author" in (query.include or ()) else []
    return compound_document(
        [_article(a) for a in chosen],
        [resource("people", pid, attributes=PEOPLE[pid]) for pid in authors],
        query=query,
        links=pagination_links(base_url, page, total=len(rows)),
        meta={"total": len(rows)},
    )


def article_document(article_id: str) -> Document | None:
    """The article ``article_id`` alone, or None when there is none."""
    found = [a for a in ARTICLES if a["id"] == article_id]
    return compound_document(_article(found[0]), [_author(found[0])]) if found else None


def _author(row: dict[str, Any]) -> Any:
    return resource("people", row["author"], attributes=PEOPLE[row["author"]])


def created_document(body: CreateDocument) -> Document:
    """The answer to ``POST /articles``: the new article (kept in memory only for this demo)."""
    if body.data.type != "articles":
        raise InvalidDocumentError("only articles can be created here", status=409)
    attributes = dict(body.data.attributes or {})
    new = resource(
        "articles",
        str(next(_ids)),
        attributes={"title": attributes.get("title"), "body": attributes.get("body", "")},
    )
    return compound_document(new)

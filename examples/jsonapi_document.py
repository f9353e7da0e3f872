"""JSON:API without a web framework: answer a query string, or check a document.

``build QUERY`` parses a request's query string (``parse_query``) the way ``GET /articles``
would, and prints the compound document it answers; ``check [FILE]`` validates a JSON:API
document (a file, or stdin) and prints the error document, with JSON pointers, when it is not
valid. No configuration is needed::

    python examples/jsonapi_document.py build 'include=author&sort=-published&page[size]=1'
    python examples/jsonapi_document.py check article.json     # or: ... check < article.json

Exit status: 0 valid, 1 the query or the document was refused (the error document is printed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from midil_common.errors import JSONAPIError
from midil_common.jsonapi import (
    Document,
    compound_document,
    error_document,
    identifier,
    pagination_links,
    parse_query,
    resource,
)

ARTICLES: list[dict[str, Any]] = [
    {"id": 1, "title": "Why full linkage matters", "published": "2024-01-01", "author": 9},
    {"id": 2, "title": "JSON:API in practice", "published": "2024-02-01", "author": 9},
]
PEOPLE = {9: {"name": "Dan"}}


def build(query_string: str) -> Document:
    """The document ``GET /articles?{query_string}`` answers."""
    query = parse_query(query_string, allowed_include={"author"}, allowed_sort={"published"})
    rows = list(ARTICLES)
    for field in reversed(query.sort):  # the first sort field has the highest priority
        rows.sort(key=lambda row: str(row[field.field]), reverse=field.descending)
    page = rows[query.page.start : query.page.start + query.page.size]
    data = [
        resource(
            "articles",
            row["id"],
            attributes={"title": row["title"], "published": row["published"]},
            relationships={"author": identifier("people", row["author"])},
        )
        for row in page
    ]
    included = []
    if query.include and "author" in query.include:
        ids = sorted({int(row["author"]) for row in page})
        included = [resource("people", i, attributes=PEOPLE[i]) for i in ids]
    links = pagination_links("https://api.example.com/articles", query.page, total=len(rows))
    return compound_document(data, included, query=query, links=links)


def main() -> int:
    """Run ``build`` or ``check``."""
    parser = argparse.ArgumentParser(description="Build or check JSON:API documents.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build").add_argument("query", nargs="?", default="")
    commands.add_parser("check").add_argument("file", nargs="?", type=argparse.FileType())
    args = parser.parse_args()
    try:
        if args.command == "build":
            print(build(args.query).model_dump_json(indent=2))
        else:
            text = (args.file or sys.stdin).read()
            document = Document.model_validate_json(text)
            print(f"valid JSON:API document: {', '.join(sorted(document.model_fields_set))}")
    except JSONAPIError as exc:  # InvalidQueryError, InvalidDocumentError: answer with a 400
        print(f"refused (HTTP {exc.status}):", file=sys.stderr)
        print(error_document(exc.errors).model_dump_json(indent=2))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

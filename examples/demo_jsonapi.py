"""JSON:API 1.1: build, validate and print a compound document, then reject a broken one.

Run alone with ``python examples/demo_jsonapi.py``; ``examples/demo.py`` runs it as one part of the tour.
"""

from __future__ import annotations

import datetime as dt
import json

from pydantic import BaseModel

from midil_common.errors import InvalidDocumentError, InvalidQueryError
from midil_common.jsonapi import (
    MEDIA_TYPE,
    Document,
    compound_document,
    error_document,
    identifier,
    negotiate,
    pagination_links,
    parse_query,
    resource,
    resource_from,
)


class Person(BaseModel):
    """An application model, as a service would hold it."""

    id: int
    name: str
    joined: dt.date


def main() -> None:
    """Walk through a request: negotiate, parse the query, build the response, then reject bad input."""
    negotiation = negotiate(content_type=None, accept=MEDIA_TYPE)
    print(f"Content-Type of the response: {negotiation.content_type}")

    query = parse_query(
        "include=author&sort=-published&page[number]=1&page[size]=2",
        allowed_include={"author"},
        allowed_sort={"published", "title"},
    )
    print(f"Parsed query: include={query.include} sort={query.sort} page={query.page}")

    dan = resource_from(Person(id=9, name="Dan", joined=dt.date(2015, 5, 1)), "people")
    articles = [
        resource(
            "articles",
            i,
            attributes={"title": title, "published": f"2024-0{i}-01"},
            relationships={"author": identifier("people", 9)},
            links={"self": f"https://api.example.com/articles/{i}"},
        )
        for i, title in ((2, "JSON:API in practice"), (1, "Why full linkage matters"))
    ]
    links = pagination_links("https://api.example.com/articles", query.page, total=5)
    document = compound_document(articles, [dan], query=query, links=links, meta={"total": 5})
    text = document.model_dump_json(indent=2)
    print("\nA compound document (validated: full linkage, unique type+id, member names, links):")
    print(text)

    again = Document.model_validate_json(text)
    assert again.model_dump_json() == document.model_dump_json()
    print("\nRead back and written again: identical JSON.")

    broken = {
        "data": [
            {
                "type": "articles",
                "id": "1",
                "attributes": {"title": "x", "id": "oops"},
                "relationships": {"author": {"data": {"type": "people", "id": "9"}}},
            }
        ],
        "included": [
            {"type": "people", "id": "9", "attributes": {"name": "Dan"}},
            {"type": "people", "id": "9", "attributes": {"name": "Dan again"}},
        ],
    }
    try:
        Document.model_validate_json(json.dumps(broken))
    except InvalidDocumentError as exc:
        print(f"\nA broken document is rejected (HTTP {exc.status}); its error document:")
        print(error_document(exc.errors).model_dump_json(indent=2))

    try:
        parse_query({"page[size]": "500", "sort": "secret"}, allowed_sort={"title"})
    except InvalidQueryError as exc:
        print(f"\nA bad query is rejected (HTTP {exc.status}):")
        print(error_document(exc.errors).model_dump_json())


if __name__ == "__main__":
    main()

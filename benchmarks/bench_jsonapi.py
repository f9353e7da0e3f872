"""JSON:API: validate and serialise a 1,600-resource compound document; parse a query string.

(a) ``Document.model_validate_json`` (full linkage and uniqueness included) against ``json.loads`` of the
    same text and against jsonapi-pydantic 0.2.5 (``TopLevel.model_validate_json``), which checks less.
(b) ``Document.model_dump_json`` against ``json.dumps`` of the same document as plain dicts.
(c) ``parse_query`` on a typical query string, microseconds per call.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from harness import Figure, per_call, print_figures

from midil_common.jsonapi import Document, parse_query

QUERY = (
    "include=author,comments.author&fields[articles]=title,body,author&fields[people]=name"
    "&sort=-created,title&filter[published]=true&page[number]=3&page[size]=25"
)


def compound_document(
    n_data: int = 800, n_people: int = 400, n_comments: int = 400
) -> dict[str, Any]:
    """800 articles in data; 400 people and 400 comments included, all reachable through linkage."""
    base = "https://api.example.com"
    data = []
    for i in range(n_data):
        person = i % n_people
        comment = i % n_comments
        data.append(
            {
                "type": "articles",
                "id": str(i),
                "attributes": {
                    "title": f"Article number {i}",
                    "body": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 2,
                    "wordCount": 1200 + i,
                    "published": i % 2 == 0,
                    "tags": ["json", "api", "python"],
                },
                "relationships": {
                    "author": {
                        "links": {"related": f"{base}/articles/{i}/author"},
                        "data": {"type": "people", "id": str(person)},
                    },
                    "comments": {"data": [{"type": "comments", "id": str(comment)}]},
                },
                "links": {"self": f"{base}/articles/{i}"},
            }
        )
    included: list[dict[str, Any]] = []
    for p in range(n_people):
        included.append(
            {
                "type": "people",
                "id": str(p),
                "attributes": {"name": f"Person {p}", "twitter": f"@person{p}", "age": 20 + p % 50},
                "links": {"self": f"{base}/people/{p}"},
            }
        )
    for c in range(n_comments):
        included.append(
            {
                "type": "comments",
                "id": str(c),
                "attributes": {"body": f"Comment {c}: nice article", "likes": c % 17},
                "relationships": {"author": {"data": {"type": "people", "id": str(c % n_people)}}},
                "links": {"self": f"{base}/comments/{c}"},
            }
        )
    return {
        "jsonapi": {"version": "1.1"},
        "links": {
            "self": f"{base}/articles?page[number]=1",
            "next": f"{base}/articles?page[number]=2",
        },
        "data": data,
        "included": included,
        "meta": {"total": n_data},
    }


def main() -> None:
    doc = compound_document()
    text = json.dumps(doc)
    parsed = Document.model_validate_json(text)
    assert len(parsed.resources) == 800 and len(parsed.included) == 800  # type: ignore[arg-type]

    ours = per_call(lambda: Document.model_validate_json(text))
    figures = [
        Figure(
            "validate 1,600-resource document from JSON",
            ours,
            "json.loads (no validation)",
            per_call(lambda: json.loads(text)),
            unit="ms",
        )
    ]
    try:
        from jsonapi_pydantic.v1_0 import TopLevel
    except ImportError:  # needs Python >= 3.11 and the bench extra
        print("jsonapi-pydantic not installed: skipping that comparison")
    else:
        TopLevel.model_validate_json(text)
        figures.append(
            Figure(
                "validate 1,600-resource document from JSON",
                ours,
                "jsonapi-pydantic 0.2.5 TopLevel",
                per_call(lambda: TopLevel.model_validate_json(text)),
                goal="<= 0.333",
                unit="ms",
            )
        )
    figures.append(
        Figure(
            "serialise it (model_dump_json)",
            per_call(parsed.model_dump_json),
            "json.dumps of the plain dict",
            per_call(lambda: json.dumps(doc)),
            goal="<= 1.0",
            unit="ms",
        )
    )
    pairs = parse_qsl(QUERY)
    figures.append(
        Figure(
            "parse_query on a typical query (7 parameters)",
            per_call(lambda: parse_query(pairs)),
            "urllib.parse.parse_qsl of the string",
            per_call(lambda: parse_qsl(QUERY)),
        )
    )
    print_figures("jsonapi", figures)


if __name__ == "__main__":
    main()

"""``midil jsonapi``: validate a document, parse a query string."""

from __future__ import annotations

from typing import Any

import click

from midil_sync._cli._common import (
    CommandFailed,
    echo_json,
    json_printable,
    output_option,
    printable,
    read_text,
    shown,
)

__all__ = ["group"]


@click.group("jsonapi")
def group() -> None:
    """Validate JSON:API documents and parse query strings."""


def _given(value: Any) -> Any:
    """``value``, or None for pydantic's ``MISSING`` (which is truthy)."""
    from midil_common.jsonapi import MISSING

    return None if value is MISSING else value


def _error_rows(errors: list[Any]) -> list[str]:
    lines = []
    for error in errors:
        source = _given(error.source)
        where = ""
        if source is not None:
            parameter = _given(source.parameter)
            header = _given(source.header)
            where = (
                _given(source.pointer)
                or (f"?{parameter}" if parameter else "")
                or (f"header {header}" if header else "")
            )
        detail = _given(error.detail) or _given(error.title) or "invalid"
        # A parameter's name and a detail quoting it come from the query or the document.
        lines.append(f"  {printable(where or '(document)')}: {printable(detail)}")
    return lines


def _fail_with(exc: Any, what: str, output: str) -> None:
    from midil_common.jsonapi import error_document, errors_from_exception

    errors = errors_from_exception(exc)
    if output == "json":
        click.echo(json_printable(error_document(errors).model_dump_json(indent=2)))
    else:
        click.echo(f"invalid: {len(errors)} error{'s' if len(errors) != 1 else ''}")
        for line in _error_rows(errors):
            click.echo(line)
    raise CommandFailed(f"{what} ({len(errors)} error{'s' if len(errors) != 1 else ''})")


@group.command("validate")
@click.argument("file", metavar="FILE|-")
@click.option(
    "--jsonapi-version",
    "version",
    type=click.Choice(["1.1", "1.0"]),
    default="1.1",
    show_default=True,
    help="The specification version whose rules apply.",
)
@output_option
def validate(file: str, version: str, output: str) -> None:
    """Check that FILE (or stdin for '-') is a valid JSON:API document.

    Exit status 0 when it is; 1 when it is not, with the errors printed (--output json: a JSON:API
    error document whose errors point at the offending members).
    """
    from midil_common.errors import InvalidDocumentError
    from midil_common.jsonapi import Document

    text = read_text(file, "the document")
    try:
        document = Document.model_validate_json(text, context={"jsonapi_version": version})
    except InvalidDocumentError as exc:
        _fail_with(exc, "not a valid JSON:API document", output)
        return
    summary = _summary(document)
    if output == "json":
        echo_json({"valid": True, "jsonapi_version": version, **summary})
        return
    parts = ", ".join(f"{k}: {v}" for k, v in summary.items())
    click.echo(f"valid: a JSON:API {version} document ({parts})")


def _summary(document: Any) -> dict[str, Any]:
    from midil_common.jsonapi import MISSING

    summary: dict[str, Any] = {}
    errors = _given(document.errors)
    if errors:
        summary["errors"] = len(errors)
    data = document.data
    if data is not MISSING:
        if data is None:
            summary["data"] = "null"
        elif isinstance(data, (list, tuple)):
            summary["data"] = f"{len(data)} resource{'s' if len(data) != 1 else ''}"
        else:
            summary["data"] = "1 resource"
    included = _given(document.included)
    if included:
        summary["included"] = len(included)
    if not summary:
        summary["meta"] = "only"
    return summary


@group.command("query")
@click.argument("query")
@click.option(
    "--max-page-size",
    type=click.IntRange(min=1),
    default=None,
    help="The largest page size accepted [default: MIDIL_JSONAPI__MAX_PAGE_SIZE, or 100].",
)
@click.option(
    "--default-page-size",
    type=click.IntRange(min=1),
    default=None,
    help="The page size when none is asked for [default: MIDIL_JSONAPI__DEFAULT_PAGE_SIZE, or 20].",
)
@click.option(
    "--max-include-depth",
    type=click.IntRange(min=1),
    default=None,
    help="The longest include path accepted [default: MIDIL_JSONAPI__MAX_INCLUDE_DEPTH, or 3].",
)
@output_option
def query(
    query: str,
    max_page_size: int | None,
    default_page_size: int | None,
    max_include_depth: int | None,
    output: str,
) -> None:
    """Parse a JSON:API query string, such as 'sort=-created&include=author&page[size]=5'.

    Exit status 1 when it is not valid, with the errors (each naming its parameter). The limits
    not given come from the MIDIL_JSONAPI__... settings.
    """
    from midil_common.adapters.jsonapi import query_rules
    from midil_common.errors import ConfigError, InvalidQueryError
    from midil_common.jsonapi import parse_query

    try:
        rules = query_rules(
            max_page_size=max_page_size,
            default_page_size=default_page_size,
            max_include_depth=max_include_depth,
        )
    except ConfigError as exc:
        raise CommandFailed(f"invalid settings: {exc}") from None
    try:
        parsed = parse_query(
            query.lstrip("?"),
            max_page_size=rules.max_page_size,
            default_page_size=rules.default_page_size,
            max_include_depth=rules.max_include_depth,
        )
    except InvalidQueryError as exc:
        _fail_with(exc, "not a valid JSON:API query", output)
        return
    page = {k: v for k, v in parsed.page._asdict().items() if v is not None}
    value: dict[str, Any] = {
        "include": None if parsed.include is None else list(parsed.include),
        "sort": [{"field": s.field, "descending": s.descending} for s in parsed.sort],
        "fields": {k: list(v) for k, v in parsed.fields.items()},
        "filters": [
            {"name": f.name, "path": list(f.path), "value": f.value} for f in parsed.filters
        ],
        "page": page,
        "extra": {k: list(v) for k, v in parsed.extra.items()},
    }
    if output == "json":
        echo_json(value)
        return
    rows = [
        (
            "include",
            "(absent)" if parsed.include is None else ", ".join(parsed.include) or "(empty)",
        ),
        ("sort", ", ".join(("-" if s.descending else "") + s.field for s in parsed.sort) or "-"),
        ("fields", "; ".join(f"{k}: {', '.join(v)}" for k, v in parsed.fields.items()) or "-"),
        ("filters", "; ".join(f"{f.name or '(bare)'} = {f.value}" for f in parsed.filters) or "-"),
        ("page", " ".join(f"{k}={v}" for k, v in page.items())),
    ]
    if parsed.extra:
        rows.append(("extra", shown(value["extra"])))
    width = max(len(name) for name, _ in rows)
    for name, text in rows:
        # Names and values are percent-decoded from the query: any character at all.
        click.echo(f"{name.ljust(width)}  {printable(text)}")

"""Error objects from failures: pydantic ``ValidationError`` to JSON:API errors, and error documents."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from midil_common.errors import JSONAPIError
from midil_common.jsonapi.limits import (
    CYCLE,
    MAX_DEPTH,
    MAX_ERRORS,
    MORE_ERRORS,
    TOO_DEEP,
    value_problem,
)
from midil_common.jsonapi.models import Document, ErrorObject, ErrorSource
from midil_common.jsonapi.names import escape_pointer_token

__all__ = ["error_document", "errors_from_exception", "errors_from_validation"]

# Union branch tags pydantic inserts into an error location; they are not members of the document.
_TAGS = frozenset(
    {
        "ResourceObject",
        "ResourceIdentifier",
        "Relationship",
        "Link",
        "str",
        "constrained-str",
        "none",
        "bool",
        "int",
        "float",
        "any",
        "[key]",
    }
)
# Errors that only say "this branch of a union did not match this kind of value".
_TYPE_ERRORS = frozenset(
    {
        "model_type",
        "model_attributes_type",
        "list_type",
        "dict_type",
        "string_type",
        "none_required",
        "bool_type",
        "int_type",
        "float_type",
        "int_from_float",
    }
)
_DETAILS = {
    "missing": "this member is required",
    "string_type": "must be a string",
    "string_pattern_mismatch": "is not valid here (bad member name, URI, pointer or format)",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
    "json_invalid": "the body is not valid JSON",
    "json_type": "the body is not valid JSON",
}


_EXPECTED = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
    "string_type": "a string",
    "none_required": "null",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
}
_FORMATS = {
    "type": "must be a legal member name",
    "href": "must be a URI-reference",
    "pointer": "must be a JSON pointer (RFC 6901)",
    "status": "must be an HTTP status code written as a string",
    "hreflang": "must be a language tag",
}


def _is_tag(segment: str | int) -> bool:
    return isinstance(segment, str) and (
        segment in _TAGS or "[" in segment or segment.startswith("function-")
    )


def _pointer(prefix: str, loc: Sequence[str | int]) -> str:
    return prefix + "".join("/" + escape_pointer_token(str(seg)) for seg in loc if not _is_tag(seg))


def _detail(err: Any) -> str:
    kind = err["type"]
    if kind == "json_invalid":
        # pydantic-core's JSON parser stops at its own nesting limit (deeper than MAX_DEPTH).
        reason = str(err.get("msg", ""))
        if "recursion limit" in reason:
            return "the document " + TOO_DEEP
        if "number out of range" in reason:
            return "a number is out of range (too many digits)"
        return _DETAILS[kind]
    if kind == "recursion_loop":
        return CYCLE if "cyclic" in str(err.get("msg", "")) else TOO_DEEP
    if kind == "string_pattern_mismatch":
        loc = [seg for seg in err["loc"] if not isinstance(seg, int)]
        if loc and loc[-1] == "[key]":
            return "is not a legal member name"
        names = [str(seg) for seg in loc if not _is_tag(seg)]
        if len(names) >= 2 and names[-2] in ("links", "describedby"):
            return "must be a URI-reference"
        if names and names[-1] in _FORMATS:
            return _FORMATS[names[-1]]
        if names and names[-1] in ("describedby", "ext", "profile"):
            return "must be a URI-reference"
        return "is not a member of this object (only @-members and extension members may be added)"
    known = _DETAILS.get(kind)
    if known is not None:
        return known
    return str(err["msg"])


class _HasErrors(Protocol):
    def errors(self) -> Sequence[Any]: ...


def errors_from_validation(
    exc: ValidationError | _HasErrors,
    pointer_prefix: str = "/data/attributes",
    *,
    drop_loc_prefix: Sequence[str | int] = (),
) -> list[ErrorObject]:
    """Turn a pydantic ``ValidationError`` into JSON:API error objects (status 400).

    Anything with pydantic's ``errors()`` list also works (FastAPI's ``RequestValidationError``); pass
    ``drop_loc_prefix=("body",)`` to drop the location segments a framework adds in front.

    Each error's ``source.pointer`` is ``pointer_prefix`` followed by the error location, every token
    escaped per RFC 6901 (``~`` as ``~0``, ``/`` as ``~1``). Errors raised by the JSON:API rules of a
    nested document keep their own pointers under the document's location. Union branch noise ("should
    be a list" next to the real error of the object branch) is dropped. Messages never echo input.

    At most ``MAX_ERRORS`` error objects come back, the last one saying so when there were more; only
    the first ``20 * MAX_ERRORS`` of pydantic's errors are read, so the time spent here stays bounded
    however many a hostile document produced.
    """
    found: list[tuple[str, str, str]] = []
    nested: list[ErrorObject] = []
    raw = (
        exc.errors(include_url=False, include_input=False)
        if isinstance(exc, ValidationError)
        else exc.errors()
    )
    drop = tuple(drop_loc_prefix)
    more = len(raw) > 20 * MAX_ERRORS
    for err in raw[: 20 * MAX_ERRORS]:
        loc = tuple(err["loc"])
        if drop and loc[: len(drop)] == drop:
            loc = loc[len(drop) :]
        ctx = err.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, JSONAPIError):
            base = _pointer(pointer_prefix, loc)
            for inner in cause.errors:
                nested.append(_rebase(inner, base))
            continue
        found.append((_pointer(pointer_prefix, loc), err["type"], _detail(err)))
    result: list[ErrorObject] = []
    seen: set[tuple[str, str]] = set()
    # Indexes that keep this linear in the number of errors (a hostile body can produce many).
    precise: set[str] = set()  # pointers with an error that is not a union branch's type error
    expected_at: dict[str, set[str]] = {}  # pointer -> what the type errors there expected
    for ptr, kind, _ in found:
        if kind in _TYPE_ERRORS:
            expected_at.setdefault(ptr, set()).add(_EXPECTED.get(kind, "another type"))
        else:
            precise.add(ptr)
    pointers = sorted({ptr for ptr, _, _ in found}) if expected_at else []
    for ptr, kind, detail in found:
        if kind in _TYPE_ERRORS:
            # A sibling branch produced a more precise error at or below this member: keep that one.
            if ptr in precise or _has_below(pointers, ptr):
                continue
            detail = "must be " + " or ".join(sorted(expected_at[ptr]))
        key = (ptr, detail)
        if key in seen:
            continue
        seen.add(key)
        if len(result) >= MAX_ERRORS:
            more = True
            break
        result.append(_error(ptr, detail))
    result.extend(nested)
    if more or len(result) > MAX_ERRORS:
        result = [*result[: MAX_ERRORS - 1], _error("", MORE_ERRORS)]
    return result


def _has_below(pointers: list[str], ptr: str) -> bool:
    """Whether the sorted ``pointers`` hold one below ``ptr`` (``ptr`` + "/...")."""
    probe = ptr + "/"
    i = bisect_left(pointers, probe)
    return i < len(pointers) and pointers[i].startswith(probe)


def _rebase(error: ErrorObject, base: str) -> ErrorObject:
    source = error.source
    if base and isinstance(source, ErrorSource):
        ptr = source.pointer
        if isinstance(ptr, str):
            return error.model_copy(update={"source": ErrorSource(pointer=base + ptr)})
    return error


def _error(ptr: str, detail: str) -> ErrorObject:
    return ErrorObject(
        status="400",
        code="invalid_document",
        title="Invalid document",
        detail=detail,
        source=ErrorSource(pointer=ptr),
    )


def errors_from_exception(exc: JSONAPIError) -> list[ErrorObject]:
    """The error objects of a ``JSONAPIError``, or one generic object with its status if it has none."""
    if exc.errors:
        return list(exc.errors)
    return [ErrorObject(status=str(exc.status), title="Request failed", detail=str(exc))]


def error_document(
    errors: Iterable[ErrorObject], *, meta: dict[str, Any] | None = None
) -> Document:
    """A top-level error document (``{"errors": [...]}``); serialise it with ``model_dump_json()``.

    Raises ``ValueError`` when there is no error object, or when ``meta`` (or an error's ``meta``)
    holds a value JSON cannot write: NaN, an infinity, a cycle, or nesting past ``MAX_DEPTH``.
    """
    errs = list(errors)
    if not errs:
        raise ValueError("an error document needs at least one error object")
    for where, members, room in (
        ("meta", meta, MAX_DEPTH - 2),
        *((f"errors/{i}/meta", e.meta, MAX_DEPTH - 4) for i, e in enumerate(errs)),
    ):
        if isinstance(members, dict):
            for value in members.values():
                found = value_problem(value, room)
                if found is not None:
                    raise ValueError(f"a value in the error document's {where} {found[1]}")
    if meta is None:
        return Document.model_construct(errors=errs)
    return Document.model_construct(errors=errs, meta=meta)

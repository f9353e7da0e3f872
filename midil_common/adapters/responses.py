"""Turn any kit failure into (status, headers, JSON:API error document): one mapping for all adapters.

RFC 6750 section 3.1 decides the challenges: no token gets ``401`` with a bare ``Bearer`` challenge (no
``error``), a refused token ``401`` with ``error="invalid_token"``, a missing scope or permission
``403`` with ``error="insufficient_scope"`` and the scope needed. An issuer that cannot be reached while
no keys are cached is the server's trouble, not the caller's: ``503``, never ``401``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from midil_common.adapters.challenge import bearer_challenge
from midil_common.adapters.errors import MissingTokenError
from midil_common.errors import (
    AuthError,
    ConfigError,
    HTTPError,
    InvalidTokenError,
    JSONAPIError,
    JWKSFetchError,
    MidilError,
    PermissionDeniedError,
    TimeoutError,
    TokenExpiredError,
)

__all__ = [
    "JSONAPI_MEDIA_TYPE",
    "ErrorResponse",
    "error_object",
    "error_response",
    "errors_from_error_list",
    "framework_error",
    "json_pointer",
    "status_response",
    "validation_response",
]

# The value of midil_common.jsonapi.MEDIA_TYPE, repeated so error rendering has no import cycle.
JSONAPI_MEDIA_TYPE = "application/vnd.api+json"


@dataclass(frozen=True)
class ErrorResponse:
    """What an adapter sends: a status, extra headers and a JSON:API error document."""

    status: int
    document: Mapping[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def content_type(self) -> str:
        """Always the JSON:API media type."""
        return JSONAPI_MEDIA_TYPE

    def body(self) -> bytes:
        """The document as compact UTF-8 JSON; never fails on what a client sent.

        A lone surrogate (a JSON ``"\\ud800"`` the client sent, echoed as a field name or detail)
        has no UTF-8 form: such a document is written with ASCII escapes instead, which JSON
        readers turn back into the same string.
        """
        text = json.dumps(self.document, separators=(",", ":"), ensure_ascii=False)
        try:
            return text.encode()
        except UnicodeEncodeError:
            return json.dumps(self.document, separators=(",", ":")).encode()

    def header_dict(self) -> dict[str, str]:
        """Headers as a dict, ``Content-Type`` included."""
        out = {"Content-Type": JSONAPI_MEDIA_TYPE}
        out.update(self.headers)
        return out


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_object(
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
    header: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One JSON:API error object as a plain dict (``status`` as a string, as the spec wants)."""
    obj: dict[str, Any] = {"status": str(status), "title": title or _title(status)}
    if code:
        obj["code"] = code
    if detail:
        obj["detail"] = detail
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    if header is not None:
        source["header"] = header
    if source:
        obj["source"] = source
    if meta:
        obj["meta"] = dict(meta)
    return obj


def _document(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"errors": [dict(e) for e in errors], "jsonapi": {"version": "1.1"}}


def _plain(error: Any, status: int) -> dict[str, Any]:
    """A JSON:API ``ErrorObject`` model (or a mapping) as a dict without null members."""
    if hasattr(error, "model_dump"):
        data = error.model_dump(mode="json", exclude_none=True, by_alias=True)
    elif isinstance(error, Mapping):
        data = {k: v for k, v in error.items() if v is not None}
    else:
        data = {"detail": str(error)}
    data.setdefault("status", str(status))
    return dict(data)


def status_response(
    status: int, detail: str | None = None, *, code: str | None = None
) -> ErrorResponse:
    """A JSON:API error document for a plain HTTP status (404, 405, 500 from the framework)."""
    return ErrorResponse(status, _document([error_object(status, code=code, detail=detail)]))


def framework_error(
    status: int, detail: object = None, *, code: str | None = None
) -> ErrorResponse:
    """The answer to an HTTP error raised by a framework or a view (Flask's ``HTTPException``,
    Starlette's, DRF's ``APIException``): its status, and its detail only below 500. The text
    of a server error may describe the server's insides; it stays in the log."""
    text = detail if isinstance(detail, str) and detail and status < 500 else None
    return status_response(status, text, code=code if status < 500 else None)


def error_response(exc: BaseException, *, realm: str | None = None) -> ErrorResponse:
    """The response for ``exc``; anything that is not a ``MidilError`` becomes an opaque 500."""
    if isinstance(exc, MissingTokenError):
        challenge = bearer_challenge(realm=realm)
        return ErrorResponse(
            401,
            _document([error_object(401, code="missing_token", detail=str(exc))]),
            (("WWW-Authenticate", challenge),),
        )
    if isinstance(exc, InvalidTokenError):
        detail = str(exc) or "the access token is invalid"
        challenge = bearer_challenge(realm=realm, error="invalid_token", error_description=detail)
        code = "token_expired" if isinstance(exc, TokenExpiredError) else "invalid_token"
        return ErrorResponse(
            401,
            _document([error_object(401, code=code, detail=detail)]),
            (("WWW-Authenticate", challenge),),
        )
    if isinstance(exc, PermissionDeniedError):
        detail = str(exc) or "the token does not grant access to this resource"
        challenge = bearer_challenge(
            realm=realm,
            error="insufficient_scope",
            error_description=detail,
            scope=exc.required_scopes,
        )
        meta: dict[str, Any] = {}
        if exc.required_scopes:
            meta["required_scopes"] = list(exc.required_scopes)
        if exc.permission:
            meta["permission"] = exc.permission
        return ErrorResponse(
            403,
            _document([error_object(403, code="insufficient_scope", detail=detail, meta=meta)]),
            (("WWW-Authenticate", challenge),),
        )
    if isinstance(exc, JWKSFetchError):
        return ErrorResponse(
            503,
            _document(
                [
                    error_object(
                        503,
                        code="issuer_unavailable",
                        detail="the token issuer's keys cannot be fetched; try again shortly",
                    )
                ]
            ),
            (("Retry-After", "5"),),
        )
    if isinstance(exc, AuthError):
        return ErrorResponse(
            401,
            _document([error_object(401, code="unauthorized", detail=str(exc) or None)]),
            (("WWW-Authenticate", bearer_challenge(realm=realm)),),
        )
    if isinstance(exc, JSONAPIError):
        status = exc.status
        errors = [_plain(e, status) for e in exc.errors] or [
            error_object(status, detail=str(exc) or None)
        ]
        return ErrorResponse(status, _document(errors))
    if isinstance(exc, TimeoutError):
        return status_response(504, "an upstream service did not answer in time")
    if isinstance(exc, HTTPError):
        return status_response(502, "an upstream service failed")
    if isinstance(exc, ConfigError):
        # The message names a setting; the caller has no business knowing the server's layout.
        return status_response(500, "the server is misconfigured", code="config_error")
    if isinstance(exc, MidilError):
        return status_response(500)
    return status_response(500)


def json_pointer(path: Iterable[str | int]) -> str:
    """An RFC 6901 pointer for a location (``~`` and ``/`` escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def errors_from_error_list(
    errors: Iterable[Mapping[str, Any]], *, status: int | None = None
) -> list[dict[str, Any]]:
    """JSON:API error objects from pydantic-style error dicts (``loc``, ``msg``, ``type``).

    The first element of ``loc`` says where the value came from, as FastAPI reports it: ``body``
    becomes a JSON pointer into the document, ``query`` and ``path`` a ``source.parameter``, ``header``
    a ``source.header``. Without a known origin the whole ``loc`` is the pointer.
    """
    out: list[dict[str, Any]] = []
    for err in errors:
        loc: Sequence[Any] = tuple(err.get("loc", ()) or ())
        msg = str(err.get("msg", "invalid value"))
        code = str(err.get("type")) if err.get("type") else None
        origin = str(loc[0]) if loc else ""
        err_status = status or (422 if origin == "body" else 400)
        if origin == "body":
            out.append(
                error_object(err_status, code=code, detail=msg, pointer=json_pointer(loc[1:]))
            )
        elif origin in ("query", "path") and len(loc) > 1:
            out.append(error_object(err_status, code=code, detail=msg, parameter=str(loc[1])))
        elif origin in ("header", "cookie") and len(loc) > 1:
            out.append(error_object(err_status, code=code, detail=msg, header=str(loc[1])))
        else:
            out.append(error_object(err_status, code=code, detail=msg, pointer=json_pointer(loc)))
    return out


def validation_response(errors: Iterable[Mapping[str, Any]]) -> ErrorResponse:
    """One response for a list of pydantic-style errors: 422 when all are in the body, else 400."""
    objects = errors_from_error_list(errors)
    if not objects:
        return status_response(400)
    statuses = {o["status"] for o in objects}
    status = 422 if statuses == {"422"} else 400
    for o in objects:
        o["status"] = str(status)
        o["title"] = _title(status)
    return ErrorResponse(status, _document(objects))

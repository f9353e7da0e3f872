"""Kit errors travelling through DRF, and the exception handler answering with JSON:API documents.

The kit's permissions refuse the DRF way (they return False and DRF raises ``PermissionDenied``); the
refusal they remember on the request lets :func:`jsonapi_exception_handler` answer with the RFC 6750
``insufficient_scope`` challenge naming the missing scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from rest_framework import exceptions

from midil_common.adapters import (
    ErrorResponse,
    MissingTokenError,
    error_object,
    error_response,
    framework_error,
    json_pointer,
)
from midil_common.errors import InvalidTokenError, MidilError, PermissionDeniedError
from midil_sync.django._http import http_response, request_limit_error
from midil_sync.django.conf import get_config

if TYPE_CHECKING:
    from rest_framework.request import Request

__all__ = ["MidilAPIException", "jsonapi_exception_handler"]


class MidilAPIException(exceptions.APIException):
    """A kit error travelling through DRF; the exception handler renders the original error."""

    def __init__(self, error: MidilError, status_code: int) -> None:
        super().__init__(detail=str(error) or None)
        self.status_code = status_code
        self.midil_error = error


class _AuthenticationFailed(MidilAPIException, exceptions.AuthenticationFailed):
    pass


class _PermissionDenied(MidilAPIException, exceptions.PermissionDenied):
    pass


def wrap(error: MidilError) -> MidilAPIException:
    """The DRF exception carrying ``error``: an ``AuthenticationFailed`` for a 401 and a
    ``PermissionDenied`` for a 403, so code catching DRF's exceptions sees the usual types."""
    status = error_response(error).status
    if status == 401:
        return _AuthenticationFailed(error, 401)
    if status == 403:
        return _PermissionDenied(error, 403)
    return MidilAPIException(error, status)


INSUFFICIENT_SCOPE = "insufficient_scope"
"""The ``code`` a kit permission gives DRF with its refusal (RFC 6750's error name)."""

_REFUSALS = "_midil_refusals"
"""The request attribute holding the refusals of this request's permissions, by message."""


def remember_refusal(request: Request, refusal: PermissionDeniedError) -> None:
    """Keep ``refusal`` on the request for :func:`jsonapi_exception_handler`."""
    refusals: dict[str, PermissionDeniedError] | None = getattr(request, _REFUSALS, None)
    if refusals is None:
        refusals = {}
        setattr(request, _REFUSALS, refusals)
    refusals[str(refusal)] = refusal


def recall_refusal(
    request: Request | None, exc: exceptions.PermissionDenied
) -> PermissionDeniedError | None:
    """The refusal behind ``exc`` when one of the kit's permissions raised it through DRF.

    DRF raises ``PermissionDenied(detail=permission.message, code=permission.code)``: the message
    and code tie the exception to the refusal, so a refusal overruled by ``|`` or ``~`` is never
    blamed for a later, unrelated ``PermissionDenied``.
    """
    refusals: dict[str, PermissionDeniedError] = getattr(request, _REFUSALS, None) or {}
    if not refusals or exc.get_codes() != INSUFFICIENT_SCOPE:
        return None
    return refusals.get(str(exc.detail))


def _field_errors(detail: Any, path: tuple[str | int, ...], status: int) -> list[dict[str, Any]]:
    if isinstance(detail, Mapping):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            if key == "non_field_errors":
                out.extend(_field_errors(value, path, status))
            else:
                out.extend(_field_errors(value, (*path, str(key)), status))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [
                error_object(
                    status,
                    code=getattr(item, "code", None),
                    detail=str(item),
                    pointer=json_pointer(path) if path else "/data",
                )
                for item in detail
            ]
        out = []
        for index, item in enumerate(detail):
            out.extend(_field_errors(item, (*path, index), status))
        return out
    return [
        error_object(
            status,
            code=getattr(detail, "code", None),
            detail=str(detail),
            pointer=json_pointer(path) if path else "/data",
        )
    ]


def _response(err: ErrorResponse, extra: Mapping[str, str] | None = None) -> HttpResponse:
    response = http_response(err)
    for name, value in (extra or {}).items():
        response[name] = value
    return response


def jsonapi_exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse | None:
    """DRF ``EXCEPTION_HANDLER`` answering with JSON:API error documents.

    Kit errors keep their RFC 6750 challenges; serializer ``ValidationError`` details become error
    objects with JSON pointers under ``/data/attributes``; other API exceptions keep their status.
    Anything else is left to DRF (None).
    """
    realm = get_config().options.realm
    if isinstance(exc, MidilAPIException):
        return _response(error_response(exc.midil_error, realm=realm))
    if isinstance(exc, MidilError):
        return _response(error_response(exc, realm=realm))
    limit = request_limit_error(exc)
    if limit is not None:
        return _response(error_response(limit, realm=realm))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.PermissionDenied):
        refusal = recall_refusal(context.get("request"), exc)
        if refusal is not None:
            return _response(error_response(refusal, realm=realm))
    if isinstance(exc, exceptions.NotAuthenticated):
        return _response(error_response(MissingTokenError(str(exc.detail)), realm=realm))
    if isinstance(exc, exceptions.AuthenticationFailed):
        return _response(error_response(InvalidTokenError(str(exc.detail)), realm=realm))
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail, ("data", "attributes"), exc.status_code)
        return _response(
            ErrorResponse(exc.status_code, {"errors": errors, "jsonapi": {"version": "1.1"}})
        )
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else None
        return _response(framework_error(exc.status_code, str(exc.detail), code=code), headers)
    return None

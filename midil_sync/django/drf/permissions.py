"""Django REST framework integration: authentication, permissions and a JSON:API exception handler.

::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["midil_sync.django.drf.JWTAuthentication"],
        "EXCEPTION_HANDLER": "midil_sync.django.drf.jsonapi_exception_handler",
    }

    class ArticleViewSet(viewsets.ViewSet):
        permission_classes = [HasScopes]
        required_scopes = ["articles:read"]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

try:
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.http import Http404, HttpRequest, HttpResponse
    from rest_framework import exceptions
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.parsers import BaseParser, JSONParser
    from rest_framework.permissions import (
        AND,
        NOT,
        OR,
        BasePermission,
        BasePermissionMetaclass,
        OperandHolder,
        OperationHolderMixin,
        SingleOperandHolder,
    )
    from rest_framework.renderers import BaseRenderer, JSONRenderer
except ModuleNotFoundError as exc:  # a missing extra: say which one
    raise ImportError(
        f"{__name__} needs Django and Django REST framework ({exc}): pip install 'midil-kit[django]'"
    ) from exc

from midil_common.adapters import (
    ErrorResponse,
    Match,
    MissingTokenError,
    bearer_challenge,
    check_permission,
    check_scopes,
    error_object,
    error_response,
    json_pointer,
    status_response,
)
from midil_common.adapters.jsonapi import MEDIA_TYPE, negotiate_request, render_document
from midil_common.errors import MidilError, PermissionDeniedError
from midil_sync.django._http import attach, http_response, request_token, verify
from midil_sync.django.conf import get_config

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from midil_common.auth.claims import TokenClaims

__all__ = [
    "HasPermission",
    "HasScopes",
    "JSONAPIContentNegotiation",
    "JSONAPIParser",
    "JSONAPIRenderer",
    "JWTAuthentication",
    "MidilAPIException",
    "jsonapi_exception_handler",
]


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


def _wrap(error: MidilError) -> MidilAPIException:
    status = error_response(error).status
    if status == 401:
        return _AuthenticationFailed(error, 401)
    if status == 403:
        return _PermissionDenied(error, 403)
    return MidilAPIException(error, status)


class JWTAuthentication(BaseAuthentication):
    """DRF authentication with the ``MIDIL`` authorizer: returns ``(user, claims)``.

    ``request.user`` is the claims user (``MIDIL["USER_FACTORY"]``), ``request.auth`` the
    ``TokenClaims``. No token: None (DRF answers 401 through :meth:`authenticate_header` when a
    permission needs a user). An invalid token: 401 with ``error="invalid_token"``.
    """

    def authenticate(self, request: Request) -> tuple[Any, TokenClaims] | None:
        """Verify the bearer token, reusing the middleware's result when it ran."""
        django_request: HttpRequest = request._request
        config = get_config()
        claims = getattr(django_request, "midil_claims", None)
        if claims is None:
            try:
                token = request_token(config, django_request, optional=True)
                if token is None:
                    return None
                claims = verify(config.authorizer, token)
            except MidilError as exc:
                raise _wrap(exc) from exc
            attach(config, django_request, claims)
        return config.user_factory(claims), claims

    def authenticate_header(self, request: Request) -> str:
        """The ``WWW-Authenticate`` challenge DRF sends with 401."""
        return bearer_challenge(realm=get_config().options.realm)


def _claims(request: Request) -> TokenClaims | None:
    claims: Any = request.auth
    if claims is None or not hasattr(claims, "scopes"):
        return None
    return cast("TokenClaims", claims)


_REFUSALS = "_midil_refusals"
"""The request attribute holding the refusals of this request's permissions, by message."""

_INSUFFICIENT_SCOPE = "insufficient_scope"


def _remember(request: Request, refusal: PermissionDeniedError) -> None:
    refusals: dict[str, PermissionDeniedError] | None = getattr(request, _REFUSALS, None)
    if refusals is None:
        refusals = {}
        setattr(request, _REFUSALS, refusals)
    refusals[str(refusal)] = refusal


def _recall(
    request: Request | None, exc: exceptions.PermissionDenied
) -> PermissionDeniedError | None:
    """The refusal behind ``exc`` when one of the kit's permissions raised it through DRF.

    DRF raises ``PermissionDenied(detail=permission.message, code=permission.code)``: the message
    and code tie the exception to the refusal, so a refusal overruled by ``|`` or ``~`` is never
    blamed for a later, unrelated ``PermissionDenied``.
    """
    refusals: dict[str, PermissionDeniedError] = getattr(request, _REFUSALS, None) or {}
    if not refusals or exc.get_codes() != _INSUFFICIENT_SCOPE:
        return None
    return refusals.get(str(exc.detail))


def _pass_on_refusal(operator: Any, operand: Any) -> None:
    """Give a composed permission the message and code of the operand that refused."""
    message = getattr(operand, "message", None)
    if message is not None:
        operator.message = message
        operator.code = getattr(operand, "code", None)


class _And(AND):
    """DRF's ``&``, keeping the refusing operand's message and code (DRF's own drops them)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        for operand in (self.op1, self.op2):  # type: ignore[attr-defined]
            if not operand.has_permission(request, view):
                _pass_on_refusal(self, operand)
                return False
        return True


class _Or(OR):
    """DRF's ``|``, keeping the message and code of the first operand that refused."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        operands = (self.op1, self.op2)  # type: ignore[attr-defined]
        if any(operand.has_permission(request, view) for operand in operands):
            return True
        refusing = next((op for op in operands if getattr(op, "message", None) is not None), None)
        _pass_on_refusal(self, refusing)
        return False


class _Composes(OperationHolderMixin):
    """``|``, ``&`` and ``~`` building the operators above, so composites keep the kit's messages.

    It is the metaclass of the kit's permissions and the type of their composites. Python tries the
    right operand's reflected method first when its type subclasses the left one's, so
    ``AllowAny | HasScopes`` and ``IsAuthenticated & HasScopes`` compose the kit's way too.
    ``~`` keeps DRF's ``NOT``: when it refuses, nothing was missing.
    """

    def __and__(self, other: Any) -> OperandHolder:
        return _Holder(_And, self, other)  # type: ignore[arg-type]

    def __or__(self, other: Any) -> OperandHolder:
        return _Holder(_Or, self, other)  # type: ignore[arg-type]

    def __rand__(self, other: Any) -> OperandHolder:
        return _Holder(_And, other, self)  # type: ignore[arg-type]

    def __ror__(self, other: Any) -> OperandHolder:
        return _Holder(_Or, other, self)  # type: ignore[arg-type]

    def __invert__(self) -> SingleOperandHolder:
        return _SingleHolder(NOT, self)  # type: ignore[arg-type]


class _Holder(_Composes, OperandHolder):
    pass


class _SingleHolder(_Composes, SingleOperandHolder):
    pass


class _PermissionMeta(_Composes, BasePermissionMetaclass):  # type: ignore[misc]
    pass


class _KitPermission(BasePermission, metaclass=_PermissionMeta):
    """Refuse the DRF way: return False with this instance's ``message`` and ``code`` set.

    DRF then answers 401 (``NotAuthenticated``, with the authenticator's challenge) when no
    authenticator succeeded, and 403 otherwise; :func:`jsonapi_exception_handler` finds the refusal
    again and answers with ``error="insufficient_scope"`` and the missing ``scope``.
    """

    message: str | None = None
    code: str | None = None

    def _refuse(self, request: Request, refusal: PermissionDeniedError) -> bool:
        self.message = str(refusal)
        self.code = _INSUFFICIENT_SCOPE
        _remember(request, refusal)
        return False


class HasScopes(_KitPermission):
    """Allow requests whose token grants the view's ``required_scopes`` (``scope_match``: "all" or
    "any").

    Refuses (returns False) without a token, so DRF answers 401, or with a token lacking the scopes,
    so DRF answers 403 with ``error="insufficient_scope"``. Composes with ``|``, ``&`` and ``~``.
    ``HasScopes.require("a", "b")`` makes a subclass with the scopes built in.
    """

    required_scopes: ClassVar[Sequence[str]] = ()
    scope_match: ClassVar[Match] = "all"

    @classmethod
    def require(cls, *scopes: str, match: Match = "all") -> type[HasScopes]:
        """A permission class requiring ``scopes``."""
        return type("HasScopes", (cls,), {"required_scopes": scopes, "scope_match": match})

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Whether the request's token grants the scopes."""
        scopes = self.required_scopes or getattr(view, "required_scopes", ())
        match = getattr(view, "scope_match", self.scope_match)
        claims = _claims(request)
        if claims is None:
            return False
        try:
            check_scopes(claims, scopes, match)
        except PermissionDeniedError as exc:
            return self._refuse(request, exc)
        return True


class HasPermission(_KitPermission):
    """Allow requests whose token grants ``view.required_permission = ("resource", "action")``
    under ``MIDIL["PERMISSION_POLICY"]`` (or ``view.permission_policy``).

    Refuses like :class:`HasScopes` (401 without a token, 403 naming the scopes that would grant
    the permission) and composes the same way.
    ``HasPermission.require("articles", "create")`` makes a subclass with the permission built in.
    """

    required_permission: ClassVar[tuple[str, str] | None] = None

    @classmethod
    def require(cls, resource: str, action: str) -> type[HasPermission]:
        """A permission class requiring ``resource:action``."""
        return type("HasPermission", (cls,), {"required_permission": (resource, action)})

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Whether the policy grants the permission to the request's token."""
        wanted = self.required_permission or getattr(view, "required_permission", None)
        if wanted is None:
            raise RuntimeError("HasPermission needs required_permission = (resource, action)")
        policy = getattr(view, "permission_policy", None) or get_config().policy
        if policy is None:
            raise RuntimeError("HasPermission needs a PermissionPolicy")
        claims = _claims(request)
        if claims is None:
            return False
        try:
            check_permission(claims, policy, wanted[0], wanted[1])
        except PermissionDeniedError as exc:
            return self._refuse(request, exc)
        except MidilError as exc:  # a policy that could not decide (a remote checker down ...)
            raise _wrap(exc) from exc
        return True


class JSONAPIRenderer(JSONRenderer):
    """Renders JSON:API documents (models, mappings) as ``application/vnd.api+json``."""

    media_type = MEDIA_TYPE
    format = "vnd.api+json"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The document's bytes (nothing for None)."""
        if data is None:
            return b""
        return render_document(data)


class JSONAPIParser(JSONParser):
    """Parses ``application/vnd.api+json`` request bodies."""

    media_type = MEDIA_TYPE


class JSONAPIContentNegotiation(DefaultContentNegotiation):
    """JSON:API 1.1 negotiation before DRF's own: 415 for a body that is not JSON:API (or uses an
    unsupported extension), 406 when ``Accept`` asks for unsupported parameters or extensions.

    The extensions and profiles a view supports are its ``jsonapi_extensions`` / ``jsonapi_profiles``.
    """

    def _supported(self, request: Request) -> tuple[tuple[str, ...], tuple[str, ...]]:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        return (
            tuple(getattr(view, "jsonapi_extensions", ())),
            tuple(getattr(view, "jsonapi_profiles", ())),
        )

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """Check ``Accept`` the JSON:API way, then let DRF pick the renderer."""
        extensions, profiles = self._supported(request)
        try:
            negotiate_request(
                "GET",
                None,
                request.META.get("HTTP_ACCEPT"),
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise _wrap(exc) from exc
        return super().select_renderer(request, renderers, format_suffix)  # type: ignore[no-any-return]

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        """Check ``Content-Type`` the JSON:API way, then let DRF pick the parser."""
        extensions, profiles = self._supported(request)
        try:
            negotiate_request(
                request.method or "GET",
                request.content_type,
                None,
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise _wrap(exc) from exc
        return super().select_parser(request, parsers)


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
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.PermissionDenied):
        refusal = _recall(context.get("request"), exc)
        if refusal is not None:
            return _response(error_response(refusal, realm=realm))
    if isinstance(exc, exceptions.NotAuthenticated):
        return _response(error_response(MissingTokenError(str(exc.detail)), realm=realm))
    if isinstance(exc, exceptions.AuthenticationFailed):
        from midil_common.errors import InvalidTokenError

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
        return _response(status_response(exc.status_code, str(exc.detail), code=code), headers)
    return None

"""DRF permissions: ``HasScopes`` and ``HasPermission``, composable with ``|``, ``&`` and ``~``.

They refuse the way DRF's own permissions do, by returning False with a per-instance ``message`` and
``code``, so DRF chooses the status: 401 (``NotAuthenticated``) when no authenticator succeeded, 403
otherwise. Each refusal is remembered on the request, and :func:`jsonapi_exception_handler` turns it
back into the RFC 6750 ``insufficient_scope`` challenge naming the missing scope.

DRF's own ``&`` and ``|`` drop their operands' messages; the kit's permissions compose with operators
that keep them, so ``HasScopes & HasPermission`` still names what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

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

from midil_common.adapters import Match, check_permission, check_scopes, remote_policy
from midil_common.adapters.checks import check_policy
from midil_common.errors import MidilError, PermissionDeniedError
from midil_sync.django._http import ask_remote
from midil_sync.django.conf import get_config
from midil_sync.django.drf.exceptions import INSUFFICIENT_SCOPE, remember_refusal, wrap

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from midil_common.auth.claims import TokenClaims

__all__ = ["HasPermission", "HasScopes"]


def _claims(request: Request) -> TokenClaims | None:
    claims: Any = request.auth
    if claims is None or not hasattr(claims, "scopes"):
        return None
    return cast("TokenClaims", claims)


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

    A base of the kit permissions' metaclass and of the holders their composites are, so chains
    such as ``(HasScopes | AllowAny) & HasPermission`` keep composing this way. Python tries the
    right operand's reflected method first when its type subclasses the left one's, so
    ``AllowAny | HasScopes`` and ``IsAuthenticated & HasScopes`` do too; only a composite of DRF's
    own on the left (``(IsAuthenticated | IsAdminUser) & HasScopes``) falls back to DRF's
    operators, which refuse with DRF's generic 403. ``~`` keeps DRF's ``NOT``: when it refuses,
    nothing was missing.
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
        self.code = INSUFFICIENT_SCOPE
        remember_refusal(request, refusal)
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
    under ``MIDIL["PERMISSION_POLICY"]`` (or ``view.permission_policy``, or the class's
    ``permission_policy``).

    Refuses like :class:`HasScopes` (401 without a token, 403 naming the scopes that would grant
    the permission) and composes the same way. With a ``RemotePermissionPolicy`` (around
    ``midil_sync.RemotePermissionChecker``) the checker is asked with the request's token; a
    deny, or a checker failure, is a 403 refusal.
    ``HasPermission.require("articles", "create", policy=...)`` makes a subclass with the
    permission (and optionally its policy) built in.
    """

    required_permission: ClassVar[tuple[str, str] | None] = None
    permission_policy: ClassVar[Any] = None

    @classmethod
    def require(cls, resource: str, action: str, *, policy: Any = None) -> type[HasPermission]:
        """A permission class requiring ``resource:action`` (under ``policy`` when given; an
        async remote checker is a ``ConfigError`` here)."""
        check_policy(policy, coroutines=False)
        attrs: dict[str, Any] = {"required_permission": (resource, action)}
        if policy is not None:
            attrs["permission_policy"] = policy
        return type("HasPermission", (cls,), attrs)

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Whether the policy grants the permission to the request's token."""
        wanted = self.required_permission or getattr(view, "required_permission", None)
        if wanted is None:
            raise RuntimeError("HasPermission needs required_permission = (resource, action)")
        policy = self.permission_policy
        if policy is None:
            policy = getattr(view, "permission_policy", None) or get_config().policy
        if policy is None:
            raise RuntimeError("HasPermission needs a PermissionPolicy")
        claims = _claims(request)
        if claims is None:
            return False
        try:
            remote = remote_policy(policy)
            if remote is None:
                check_permission(claims, policy, wanted[0], wanted[1])
            else:
                if remote.coroutines:  # a view's policy, not checked before
                    check_policy(remote, coroutines=False)
                ask_remote(remote, get_config(), request._request, wanted[0], wanted[1])
        except PermissionDeniedError as exc:
            return self._refuse(request, exc)
        except MidilError as exc:  # a policy that could not decide (a misconfiguration ...)
            raise wrap(exc) from exc
        return True

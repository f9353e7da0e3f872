"""``RemotePermissionPolicy``: the adapters' permission checks answered by a remote decision point.

A local ``PermissionPolicy`` decides from the claims alone; a remote one needs the request's bearer
token, and its answer is I/O. This object holds no I/O: it names the checker and says which side
it belongs to, and each framework adapter (one side each) asks it the way its side does:

- Flask, Django (sync and async views) and DRF's ``HasPermission`` call a ``midil_sync``
  checker (an async Django view from a worker thread, so the loop never blocks);
- FastAPI's ``require_permission`` awaits a ``midil_async`` checker.

::

    checker = midil_sync.RemotePermissionChecker(http_client, "https://pdp.example/decide")
    @require_permission("articles", "write", policy=RemotePermissionPolicy(checker))

The checker is any object with ``check(token, resource, action) -> bool`` (a coroutine function
for FastAPI), such as ``RemotePermissionChecker``. A False answer, or an exception the checker
lets escape, is a 403 ``insufficient_scope`` naming the permission: the check fails closed. The
adapters hand the token to the checker only; it is never stored on the request or logged.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from midil_common.errors import ConfigError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims

__all__ = ["RemotePermissionPolicy"]


class RemotePermissionPolicy:
    """A permission policy whose decisions a remote checker makes from the request's token.

    Args:
        checker: ``midil_sync.RemotePermissionChecker`` for Flask and Django,
            ``midil_async.RemotePermissionChecker`` for FastAPI, or any object with
            ``check(token, resource, action) -> bool`` of the matching kind.

    Raises ``ConfigError`` when ``checker`` has no ``check`` method. The adapters raise
    ``ConfigError`` when the checker is of the other side's kind, when the view is declared (or the
    application built, for a policy given in the configuration).
    """

    __slots__ = ("checker", "coroutines")

    needs_token = True
    """What the adapters look for: the decision needs the request's bearer token."""

    def __init__(self, checker: Any) -> None:
        check = getattr(checker, "check", None)
        if not callable(check):
            raise ConfigError(
                "checker must have check(token, resource, action), such as "
                f"RemotePermissionChecker, not {type(checker).__name__}",
                variable="checker",
            )
        self.checker = checker
        self.coroutines = inspect.iscoroutinefunction(check)
        """Whether ``checker.check`` is a coroutine function (a ``midil_async`` checker)."""

    @property
    def shell(self) -> str:
        """The package whose checker this is: ``midil_async`` or ``midil_sync``."""
        return "midil_async" if self.coroutines else "midil_sync"

    def check(self, claims: TokenClaims, resource: str, action: str) -> bool:
        """Not decidable from the claims: a ``ConfigError`` telling where the policy belongs."""
        raise ConfigError(
            "RemotePermissionPolicy needs the request's bearer token: use it with an adapter's "
            "require_permission or HasPermission",
            variable="policy",
        )

    def __repr__(self) -> str:
        return f"RemotePermissionPolicy({self.checker!r})"

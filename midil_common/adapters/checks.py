"""Start-up checks of what an application hands an adapter, so a mistake fails when the app is
built, with a ``ConfigError`` naming the argument, rather than as a 500 on every request."""

from __future__ import annotations

import inspect

from midil_common.errors import ConfigError

__all__ = ["check_authorizer", "check_policy"]


def check_authorizer(authorizer: object, *, coroutines: bool, what: str = "authorizer") -> None:
    """``ConfigError`` unless ``authorizer`` has a ``verify(token)`` method of the right kind: a
    coroutine function for FastAPI (``coroutines=True``), a plain one for Flask and Django."""
    verify = getattr(authorizer, "verify", None)
    if not callable(verify):
        raise ConfigError(
            f"{what} must be an authorizer with verify(token), such as JWTAuthorizer or "
            f"CognitoJWTAuthorizer, not {type(authorizer).__name__}",
            variable=what,
        )
    if inspect.iscoroutinefunction(verify) != coroutines:
        shell = "midil_async" if coroutines else "midil_sync"
        raise ConfigError(
            f"{what} is {'a sync' if coroutines else 'an async'} authorizer; this adapter needs "
            f"{shell}'s (for example {shell}.JWTAuthorizer)",
            variable=what,
        )


def check_policy(policy: object, *, coroutines: bool, what: str = "policy") -> None:
    """``ConfigError`` when ``policy`` is a ``RemotePermissionPolicy`` around the other side's
    checker: an async one (``midil_async.RemotePermissionChecker``) for Flask and Django
    (``coroutines=False``), a sync one for FastAPI. Local policies and None pass."""
    from midil_common.auth.remote_policy import RemotePermissionPolicy

    if not isinstance(policy, RemotePermissionPolicy) or policy.coroutines == coroutines:
        return
    shell = "midil_async" if coroutines else "midil_sync"
    raise ConfigError(
        f"{what} wraps {policy.shell}'s permission checker ({'a sync' if coroutines else 'an async'}"
        f" check); this adapter needs {shell}'s (for example {shell}.RemotePermissionChecker)",
        variable=what,
    )

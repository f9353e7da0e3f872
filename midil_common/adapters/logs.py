"""What the adapters log when they answer with a server error, decided once for all frameworks.

A misconfiguration (``ConfigError``) is logged at ERROR the first time it is met, with the setting
its message names, so a server that answers 500 says why in its log without repeating it on every
request; any other 5xx is a WARNING with its status, class and message. No token or secret reaches
these messages: the kit's error messages never carry one.
"""

from __future__ import annotations

import logging

from midil_common.errors import ConfigError

__all__ = ["log_checker_failure", "log_failure"]

_MAX_REMEMBERED = 256
_logged: set[tuple[str, str]] = set()


def log_failure(log: logging.Logger, exc: BaseException, status: int) -> None:
    """Log ``exc``, answered with ``status``, on ``log`` (nothing below 500)."""
    if isinstance(exc, ConfigError):
        key = (log.name, str(exc))
        if key in _logged:
            return
        if len(_logged) < _MAX_REMEMBERED:
            _logged.add(key)
        log.error(
            "the midil adapter is misconfigured, answering %d until it is fixed: %s",
            status,
            exc,
            extra={"error": type(exc).__name__, "status": status, "variable": exc.variable},
        )
    elif status >= 500:
        log.warning(
            "request failed with %d: %s: %s",
            status,
            type(exc).__name__,
            exc,
            extra={"error": type(exc).__name__, "status": status},
        )


def log_checker_failure(
    log: logging.Logger, exc: BaseException, resource: str, action: str
) -> None:
    """Log a permission checker that raised instead of answering: a WARNING naming the permission
    and the exception's class only (its text could carry the token), and the check fails closed."""
    log.warning(
        "permission %s:%s denied: the permission checker raised %s (failing closed)",
        resource,
        action,
        type(exc).__name__,
        extra={"resource": resource, "action": action, "error": type(exc).__name__},
    )

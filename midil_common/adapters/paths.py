"""Which requests skip authentication: excluded paths and CORS preflight requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExcludedPaths", "is_preflight"]


def is_preflight(method: str, access_control_request_method: str | None) -> bool:
    """True for a CORS preflight: ``OPTIONS`` carrying ``Access-Control-Request-Method``."""
    return method.upper() == "OPTIONS" and bool(access_control_request_method)


@dataclass(frozen=True)
class ExcludedPaths:
    """Paths that need no token.

    A pattern ending in ``*`` matches every path starting with what precedes it (``/docs*`` matches
    ``/docs`` and ``/docs/oauth2-redirect``); ``/health/`` style patterns ending in ``/*`` also match the
    bare ``/health``. Any other pattern matches the exact path, ignoring one trailing slash.
    CORS preflight requests are excluded unless ``preflight=False``.
    """

    patterns: tuple[str, ...] = ()
    preflight: bool = True
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _prefixes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        for pattern in self.patterns:
            if pattern.endswith("*"):
                prefix = pattern[:-1]
                prefixes.append(prefix)
                if prefix.endswith("/") and len(prefix) > 1:
                    exact.add(prefix[:-1])
            else:
                exact.add(_norm(pattern))
        object.__setattr__(self, "_exact", frozenset(exact))
        object.__setattr__(self, "_prefixes", tuple(prefixes))

    @classmethod
    def of(cls, patterns: Iterable[str] = (), *, preflight: bool = True) -> ExcludedPaths:
        """Build from any iterable of patterns."""
        return cls(tuple(patterns), preflight)

    def matches(self, path: str) -> bool:
        """True when ``path`` is excluded."""
        if self._exact and _norm(path) in self._exact:
            return True
        # str.startswith takes a tuple (False for an empty one).
        return path.startswith(self._prefixes)

    def skips(
        self, method: str, path: str, access_control_request_method: str | None = None
    ) -> bool:
        """True when a request needs no authentication at all."""
        if self.preflight and is_preflight(method, access_control_request_method):
            return True
        return self.matches(path)

    def skips_environ(self, method: str, path: str, environ: Mapping[str, Any]) -> bool:
        """:meth:`skips`, reading ``Access-Control-Request-Method`` from a WSGI ``environ`` or
        Django's ``request.META``, and only for an ``OPTIONS`` request."""
        # Only an OPTIONS request can be a preflight: others skip the header lookup.
        preflight = self.preflight and method.upper() == "OPTIONS"
        return self.skips(
            method, path, environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") if preflight else None
        )


def _norm(path: str) -> str:
    return path[:-1] if len(path) > 1 and path.endswith("/") else path

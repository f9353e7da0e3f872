"""The Flask extension, ``MidilAuth``: one authorizer per application, from its configuration.

Configuration keys (all optional when an ``authorizer`` is passed): ``MIDIL_ISSUER``,
``MIDIL_AUDIENCE``, ``MIDIL_JWKS_URL``, ``MIDIL_ALGORITHMS``, ``MIDIL_LEEWAY``,
``MIDIL_COGNITO_USER_POOL_ID``, ``MIDIL_REGION``, ``MIDIL_CLIENT_IDS``, ``MIDIL_TOKEN_USE``,
``MIDIL_REALM``, ``MIDIL_EXCLUDED_PATHS``, ``MIDIL_TOKEN_HEADER``, ``MIDIL_TOKEN_SCHEME``,
``MIDIL_TOKEN_COOKIE``, ``MIDIL_PROTECT_ALL`` (refuse every non-excluded request without a valid
token), ``MIDIL_JSONAPI_ERRORS`` (render Flask's own HTTP errors, such as 404, as JSON:API),
``MIDIL_PROPAGATE_CONTEXT`` (default True: run every request in an event context from its
``traceparent`` and ``X-Correlation-ID`` headers and answer with ``X-Correlation-ID``; see
:mod:`.context`).
Missing keys fall back to ``midil_common.settings`` (``MIDIL_AUTH__...`` environment variables,
``MIDIL_AUTH__REALM`` included, also when an ``authorizer`` is passed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from flask import Flask
from werkzeug.exceptions import HTTPException

from midil_common.adapters import AuthOptions, authorizer_spec, configured_realm
from midil_common.adapters.checks import check_authorizer, check_policy
from midil_common.errors import MidilError
from midil_sync.flask.claims import guard
from midil_sync.flask.context import install as install_context
from midil_sync.flask.handlers import handle_http_exception, handle_midil_error
from midil_sync.flask.state import State

if TYPE_CHECKING:
    from midil_common.auth.protocols import Authorizer
    from midil_common.settings import AuthSettings

__all__ = ["MidilAuth"]


def _config_section(app: Flask) -> dict[str, Any]:
    return {
        key[len("MIDIL_") :]: value for key, value in app.config.items() if key.startswith("MIDIL_")
    }


def _build_authorizer(config: Mapping[str, Any], auth: AuthSettings) -> Authorizer:
    kind, kwargs = authorizer_spec(config, auth)
    import midil_sync

    cls = midil_sync.CognitoJWTAuthorizer if kind == "cognito" else midil_sync.JWTAuthorizer
    return cast("Authorizer", cls(**kwargs))


class MidilAuth:
    """The Flask extension: one authorizer per application, built once in :meth:`init_app`.

    Args:
        app: the application (or call :meth:`init_app` later, in a factory).
        authorizer: any ``midil_common.auth.Authorizer`` (``midil_sync.JWTAuthorizer``,
            ``CognitoJWTAuthorizer``, ``MultiIssuerAuthorizer`` or your own). When None, one is built
            from the app's ``MIDIL_...`` configuration.
        policy: a ``PermissionPolicy`` for :func:`require_permission`, or a
            ``RemotePermissionPolicy`` around ``midil_sync.RemotePermissionChecker``.
        realm, excluded_paths, token_cookie, protect_all: override the configuration keys
            (``realm=""``: no realm, whatever ``MIDIL_REALM`` and ``MIDIL_AUTH__REALM`` say).
        propagate_context: run every request of the app in an event context and answer with
            ``X-Correlation-ID`` (default: ``MIDIL_PROPAGATE_CONTEXT``, itself True by default).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        authorizer: Authorizer | None = None,
        policy: Any = None,
        realm: str | None = None,
        excluded_paths: Iterable[str] | None = None,
        token_cookie: str | None = None,
        protect_all: bool | None = None,
        propagate_context: bool | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.policy = policy
        self._realm = realm
        self._excluded = None if excluded_paths is None else tuple(excluded_paths)
        self._cookie = token_cookie
        self._protect_all = protect_all
        self._propagate_context = propagate_context
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: state in ``app.extensions["midil"]``, error handlers, optional guard,
        context propagation."""
        config = _config_section(app)
        realm = self._realm if self._realm is not None else config.get("REALM")
        auth = None
        if self.authorizer is None or realm is None:
            from midil_common.settings import load_settings

            auth = load_settings().auth
        authorizer = self.authorizer or _build_authorizer(config, cast("AuthSettings", auth))
        check_authorizer(authorizer, coroutines=False)
        check_policy(self.policy, coroutines=False)
        excluded = self._excluded
        if excluded is None:
            raw = config.get("EXCLUDED_PATHS", ())
            excluded = tuple(raw.split(",")) if isinstance(raw, str) else tuple(raw)
        options = AuthOptions.build(
            realm=configured_realm(realm, auth),
            excluded_paths=excluded,
            header=config.get("TOKEN_HEADER", "Authorization"),
            scheme=config.get("TOKEN_SCHEME", "Bearer"),
            cookie=self._cookie or config.get("TOKEN_COOKIE"),
        )
        protect_all = (
            bool(config.get("PROTECT_ALL", False))
            if self._protect_all is None
            else self._protect_all
        )
        app.extensions["midil"] = State(authorizer, options, self.policy, protect_all)
        app.register_error_handler(MidilError, handle_midil_error)
        if config.get("JSONAPI_ERRORS", False):
            app.register_error_handler(HTTPException, handle_http_exception)
        if protect_all:
            app.before_request(guard)
        propagate = (
            bool(config.get("PROPAGATE_CONTEXT", True))
            if self._propagate_context is None
            else self._propagate_context
        )
        if propagate:
            install_context(app)

"""Flask adapter: bearer-token authentication, scopes, permissions and JSON:API for Flask apps.

Usage::

    auth = MidilAuth()                      # application factory friendly

    def create_app():
        app = Flask(__name__)
        app.config["MIDIL_ISSUER"] = "https://issuer.example"
        app.config["MIDIL_AUDIENCE"] = "articles-api"
        auth.init_app(app)
        return app

    @bp.get("/articles")
    @require_scopes("articles:read")
    def list_articles():
        query = jsonapi_query(allowed_sort={"title"})
        return jsonapi_response(build_document(current_claims.sub, query))

Configuration keys (all optional when an ``authorizer`` is passed): ``MIDIL_ISSUER``,
``MIDIL_AUDIENCE``, ``MIDIL_JWKS_URL``, ``MIDIL_ALGORITHMS``, ``MIDIL_LEEWAY``,
``MIDIL_COGNITO_USER_POOL_ID``, ``MIDIL_REGION``, ``MIDIL_CLIENT_IDS``, ``MIDIL_TOKEN_USE``,
``MIDIL_REALM``, ``MIDIL_EXCLUDED_PATHS``, ``MIDIL_TOKEN_HEADER``, ``MIDIL_TOKEN_SCHEME``,
``MIDIL_TOKEN_COOKIE``, ``MIDIL_PROTECT_ALL`` (refuse every non-excluded request without a valid
token), ``MIDIL_JSONAPI_ERRORS`` (render Flask's own HTTP errors, such as 404, as JSON:API).
Missing keys fall back to ``midil_common.settings`` (``MIDIL_AUTH__...`` environment variables).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

try:
    from flask import Flask, Response, current_app, g, request
    from werkzeug.exceptions import HTTPException
    from werkzeug.local import LocalProxy
except ModuleNotFoundError as exc:  # a missing extra: say which one
    raise ImportError(f"{__name__} needs Flask ({exc}): pip install 'midil-kit[flask]'") from exc

from midil_common.adapters import (
    AuthOptions,
    ErrorResponse,
    Match,
    MissingTokenError,
    authorizer_spec,
    check_permission,
    check_scopes,
    error_response,
    status_response,
)
from midil_common.adapters.checks import check_authorizer
from midil_common.adapters.jsonapi import MEDIA_TYPE, QueryRules, negotiate_request, render_document
from midil_common.adapters.logs import log_failure
from midil_common.errors import MidilError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.protocols import Authorizer
    from midil_common.jsonapi import QueryParams

__all__ = [
    "MidilAuth",
    "current_claims",
    "jsonapi_query",
    "jsonapi_response",
    "jsonapi_view",
    "require_auth",
    "require_permission",
    "require_scopes",
]

log = logging.getLogger("midil.adapters.flask")

F = TypeVar("F", bound=Callable[..., Any])

_UNSET = object()


@dataclass
class _State:
    authorizer: Authorizer
    options: AuthOptions
    policy: Any
    protect_all: bool


def _config_section(app: Flask) -> dict[str, Any]:
    return {
        key[len("MIDIL_") :]: value for key, value in app.config.items() if key.startswith("MIDIL_")
    }


def _build_authorizer(config: Mapping[str, Any]) -> Authorizer:
    from midil_common.settings import load_settings

    kind, kwargs = authorizer_spec(config, load_settings().auth)
    import midil_sync

    cls = midil_sync.CognitoJWTAuthorizer if kind == "cognito" else midil_sync.JWTAuthorizer
    return cast("Authorizer", cls(**kwargs))


def _as_response(err: ErrorResponse) -> Response:
    return Response(err.body(), status=err.status, headers=err.header_dict(), mimetype=None)


class MidilAuth:
    """The Flask extension: one authorizer per application, built once in :meth:`init_app`.

    Args:
        app: the application (or call :meth:`init_app` later, in a factory).
        authorizer: any ``midil_common.auth.Authorizer`` (``midil_sync.JWTAuthorizer``,
            ``CognitoJWTAuthorizer``, ``MultiIssuerAuthorizer`` or your own). When None, one is built
            from the app's ``MIDIL_...`` configuration.
        policy: a ``PermissionPolicy`` for :func:`require_permission`.
        realm, excluded_paths, token_cookie, protect_all: override the configuration keys.
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
    ) -> None:
        self.authorizer = authorizer
        self.policy = policy
        self._realm = realm
        self._excluded = None if excluded_paths is None else tuple(excluded_paths)
        self._cookie = token_cookie
        self._protect_all = protect_all
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: state in ``app.extensions["midil"]``, error handlers, optional guard."""
        config = _config_section(app)
        authorizer = self.authorizer or _build_authorizer(config)
        check_authorizer(authorizer, coroutines=False)
        excluded = self._excluded
        if excluded is None:
            raw = config.get("EXCLUDED_PATHS", ())
            excluded = tuple(raw.split(",")) if isinstance(raw, str) else tuple(raw)
        options = AuthOptions.build(
            realm=self._realm or config.get("REALM"),
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
        app.extensions["midil"] = _State(authorizer, options, self.policy, protect_all)
        app.register_error_handler(MidilError, _handle_midil_error)
        if config.get("JSONAPI_ERRORS", False):
            app.register_error_handler(HTTPException, _handle_http_exception)
        if protect_all:
            app.before_request(_guard)


def _state() -> _State:
    try:
        return cast(_State, current_app.extensions["midil"])
    except KeyError:
        raise RuntimeError("MidilAuth.init_app(app) was not called for this application") from None


def _handle_midil_error(exc: MidilError) -> Response:
    state = current_app.extensions.get("midil")
    realm = state.options.realm if isinstance(state, _State) else None
    err = error_response(exc, realm=realm)
    log_failure(log, exc, err.status)
    return _as_response(err)


def _handle_http_exception(exc: HTTPException) -> Response:
    err = status_response(exc.code or 500, exc.description if (exc.code or 500) < 500 else None)
    response = _as_response(err)
    if exc.code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _authenticate(optional: bool) -> TokenClaims | None:
    """Verify the request's token once per request; the result is kept on ``g``."""
    # Each context-local proxy access costs a context-variable lookup: resolve them once.
    ctx_g = cast(Any, g)._get_current_object()
    cached = ctx_g.get("_midil_claims", _UNSET)
    if cached is not _UNSET and (cached is not None or optional):
        return cast("TokenClaims | None", cached)
    state = _state()
    req = cast(Any, request)._get_current_object()
    # Cookies are parsed only when a cookie source is configured; the header is read from the WSGI
    # environ, skipping werkzeug's header view.
    get_cookie = req.cookies.get if state.options.source.cookie else None
    token = state.options.environ_token(req.environ, get_cookie, optional=optional)
    claims = None if token is None else state.authorizer.verify(token)
    ctx_g._midil_claims = claims
    return claims


def _required_claims() -> TokenClaims:
    claims = _authenticate(False)
    if claims is None:
        raise MissingTokenError()
    return claims


def _guard() -> None:
    state = _state()
    req = cast(Any, request)._get_current_object()
    if state.options.excluded.skips_environ(req.method, req.path, req.environ):
        return
    _authenticate(optional=False)


def _get_claims() -> TokenClaims | None:
    value = g.get("_midil_claims", None)
    return cast("TokenClaims | None", value)


current_claims: TokenClaims = cast("TokenClaims", LocalProxy(_get_claims))
"""The verified claims of the current request (``None`` when it was not authenticated)."""


def _decorate(check: Callable[[], None]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        if not inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                check()
                return view(*args, **kwargs)

            return cast(F, wrapper)

        @functools.wraps(view)
        def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            check()
            return current_app.ensure_sync(view)(*args, **kwargs)

        return cast(F, async_wrapper)

    return decorator


@overload
def require_auth(view: F) -> F: ...
@overload
def require_auth(*, optional: bool = False) -> Callable[[F], F]: ...
def require_auth(view: F | None = None, *, optional: bool = False) -> F | Callable[[F], F]:
    """Require a valid bearer token (``@require_auth``), or accept none (``optional=True``).

    Works on sync and async views. The claims are in :data:`current_claims`.
    """

    def check() -> None:
        _authenticate(optional)

    decorator = _decorate(check)
    return decorator(view) if view is not None else decorator


def require_scopes(*scopes: str, match: Match = "all") -> Callable[[F], F]:
    """Require a valid token granting ``scopes`` (all of them, or any with ``match="any"``); 403
    with ``error="insufficient_scope"`` otherwise."""
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")

    def check() -> None:
        claims = _required_claims()
        check_scopes(claims, scopes, match)

    return _decorate(check)


def require_permission(resource: str, action: str, *, policy: Any = None) -> Callable[[F], F]:
    """Require a valid token whose scopes or groups grant ``resource:action`` under the policy
    (``policy=`` or the one given to :class:`MidilAuth`)."""

    def check() -> None:
        claims = _required_claims()
        chosen = policy if policy is not None else _state().policy
        if chosen is None:
            raise RuntimeError(
                "require_permission needs a PermissionPolicy (MidilAuth(policy=...))"
            )
        check_permission(claims, chosen, resource, action)

    return _decorate(check)


def jsonapi_view(
    view: F | None = None,
    *,
    extensions: Collection[str] = (),
    profiles: Collection[str] = (),
) -> Any:
    """Declare a view JSON:API: ``Content-Type`` (on bodies) and ``Accept`` are negotiated, 415 or
    406 when they do not fit."""

    def check() -> None:
        negotiate_request(
            request.method,
            request.headers.get("Content-Type"),
            request.headers.get("Accept"),
            extensions=extensions,
            profiles=profiles,
        )

    decorator = _decorate(check)
    return decorator(view) if view is not None else decorator


def jsonapi_query(
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int = 100,
    default_page_size: int = 20,
    max_include_depth: int = 3,
) -> QueryParams:
    """The request's JSON:API query parameters (repeated keys kept); ``InvalidQueryError`` -> 400."""
    rules = QueryRules(
        allowed_include,
        allowed_sort,
        allowed_fields,
        allowed_filters,
        max_page_size,
        default_page_size,
        max_include_depth,
    )
    return rules.parse(request.args.items(multi=True))


def jsonapi_response(
    document: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A response carrying a JSON:API document (model, mapping or JSON text) and its media type."""
    response = Response(render_document(document), status=status, headers=dict(headers or {}))
    response.headers["Content-Type"] = MEDIA_TYPE
    return response

"""FastAPI adapter: bearer-token dependencies, a pure ASGI middleware and JSON:API helpers.

::

    authorizer = JWTAuthorizer("https://issuer.example", audience="articles-api")   # midil_async
    auth = Authenticated(authorizer, realm="articles")

    app = FastAPI(lifespan=...)                # await authorizer.hydrate() at start-up
    register_exception_handlers(app, realm="articles")

    @app.get("/articles", response_class=JSONAPIResponse)
    async def list_articles(
        claims: TokenClaims = Security(auth, scopes=["articles:read"]),
        query: QueryParams = Depends(jsonapi_query(allowed_sort={"title"})),
    ): ...

The dependencies are built on ``fastapi.security.HTTPBearer(auto_error=False)``, so the OpenAPI
schema lists the bearer scheme and the lock on protected operations, while the kit parses the header
itself (strict RFC 6750 rules) and answers with RFC 6750 challenges and JSON:API error documents.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

try:
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.security import HTTPBearer, SecurityScopes
    from starlette.datastructures import Headers
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import cookie_parser
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send
except ModuleNotFoundError as exc:  # a missing extra: say which one
    raise ImportError(
        f"{__name__} needs FastAPI ({exc}): pip install 'midil-kit[fastapi]'"
    ) from exc

from midil_common.adapters import (
    AuthOptions,
    ErrorResponse,
    Match,
    MissingTokenError,
    check_permission,
    check_scopes,
    error_response,
    status_response,
    validation_response,
)
from midil_common.adapters.checks import check_authorizer
from midil_common.adapters.jsonapi import MEDIA_TYPE, QueryRules, negotiate_request, render_document
from midil_common.adapters.logs import log_failure
from midil_common.errors import MidilError

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.protocols import AsyncAuthorizer
    from midil_common.jsonapi import QueryParams

__all__ = [
    "AuthMiddleware",
    "Authenticated",
    "JSONAPIResponse",
    "MidilHTTPException",
    "get_claims",
    "jsonapi_negotiation",
    "jsonapi_query",
    "parse_fields",
    "parse_filter",
    "parse_include",
    "parse_page",
    "parse_sort",
    "register_exception_handlers",
    "require_permission",
    "require_scopes",
]

log = logging.getLogger("midil.adapters.fastapi")

bearer_scheme = HTTPBearer(auto_error=False, description="A JWT access token (RFC 6750).")
"""The security scheme the dependencies declare (``HTTPBearer`` in OpenAPI)."""


class MidilHTTPException(StarletteHTTPException):
    """A kit error raised from a dependency, carrying its status, headers and JSON:API document.

    ``register_exception_handlers`` renders the document; without it FastAPI's default handler still
    answers with the right status and ``WWW-Authenticate`` header.
    """

    def __init__(self, error: BaseException, *, realm: str | None = None) -> None:
        self.error_response: ErrorResponse = error_response(error, realm=realm)
        super().__init__(
            status_code=self.error_response.status,
            detail=str(error) or None,
            headers=dict(self.error_response.headers) or None,
        )


def _as_response(err: ErrorResponse) -> Response:
    return Response(
        err.body(), status_code=err.status, headers=dict(err.headers), media_type=MEDIA_TYPE
    )


class JSONAPIResponse(Response):
    """A response whose body is a JSON:API document (a model, a mapping or JSON text)."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        """Serialize ``content``; models use their own ``model_dump_json``."""
        if content is None:
            return b""
        return render_document(content)


def _state_claims(request: Request) -> Any:
    return getattr(request.state, "claims", None)


class Authenticated:
    """A dependency verifying the request's bearer token with ``authorizer``; returns ``TokenClaims``.

    Build it once per application. Use it as ``Depends(auth)``, or ``Security(auth, scopes=[...])``
    to also require scopes (all of them, or any with ``match="any"``). ``optional=True`` returns None
    when the request carries no token (a present but invalid token is still refused). When the
    :class:`AuthMiddleware` already verified the request, its claims are reused.

    Args:
        authorizer: any ``midil_common.auth.AsyncAuthorizer`` (``midil_async.JWTAuthorizer`` ...).
        realm: the ``realm`` of challenges.
        optional: accept requests without a token.
        match: how ``Security`` scopes combine.
        token_cookie: also read the bare token from this cookie when there is no header.
        bearer: the ``HTTPBearer`` declared in OpenAPI (one with your own ``scheme_name``).
    """

    def __init__(
        self,
        authorizer: AsyncAuthorizer,
        *,
        realm: str | None = None,
        optional: bool = False,
        match: Match = "all",
        token_cookie: str | None = None,
        bearer: HTTPBearer | None = None,
    ) -> None:
        check_authorizer(authorizer, coroutines=True)
        self.authorizer = authorizer
        self.options = AuthOptions.build(realm=realm, optional=optional, cookie=token_cookie)
        self.match: Match = match
        scheme = bearer or bearer_scheme

        async def signature(
            request: Request,
            security_scopes: SecurityScopes,
            _credentials: Any = Depends(scheme),  # noqa: B008
        ) -> Any:
            return None

        # FastAPI reads the dependency's parameters from __signature__: this is how the per-instance
        # HTTPBearer reaches OpenAPI.
        self.__signature__ = inspect.signature(signature, eval_str=True)

    def optional(self) -> Authenticated:
        """The same dependency, returning None when the request carries no token."""
        clone = Authenticated.__new__(Authenticated)
        clone.__dict__.update(self.__dict__)
        clone.options = AuthOptions(
            realm=self.options.realm, source=self.options.source, optional=True
        )
        return clone

    async def authenticate(self, request: Request) -> TokenClaims | None:
        """Verify the request's token (None when optional and absent); raises kit errors."""
        claims = _state_claims(request)
        if claims is not None:
            return claims  # type: ignore[no-any-return]
        get_cookie = request.cookies.get if self.options.source.cookie else None
        token = self.options.token(request.headers.get, get_cookie)
        if token is None:
            return None
        claims = await self.authorizer.verify(token)
        request.state.claims = claims
        return claims

    async def __call__(
        self, request: Request, security_scopes: SecurityScopes, _credentials: Any = None
    ) -> TokenClaims | None:
        """Dependency entry point: claims, or a :class:`MidilHTTPException`."""
        try:
            claims = await self.authenticate(request)
            if security_scopes.scopes:
                if claims is None:
                    raise MissingTokenError()
                check_scopes(claims, security_scopes.scopes, self.match)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=self.options.realm) from None
        return claims


async def get_claims(
    request: Request,
    security_scopes: SecurityScopes,
    _credentials: Any = Depends(bearer_scheme),  # noqa: B008
) -> TokenClaims:
    """The claims :class:`AuthMiddleware` verified (401 when there are none); honours
    ``Security(get_claims, scopes=[...])``."""
    claims = _state_claims(request)
    try:
        if claims is None:
            raise MissingTokenError()
        if security_scopes.scopes:
            check_scopes(claims, security_scopes.scopes, "all")
    except MidilError as exc:
        raise MidilHTTPException(exc, realm=_app_realm(request)) from None
    return claims  # type: ignore[no-any-return]


def _app_realm(request: Request) -> str | None:
    return getattr(request.app.state, "midil_realm", None)


ClaimsDependency = Callable[..., Awaitable[Any]]


def require_scopes(
    *scopes: str, match: Match = "all", auth: ClaimsDependency | None = None
) -> Callable[..., Awaitable[TokenClaims]]:
    """A dependency requiring a token granting ``scopes``; returns the claims.

    ``auth`` is an :class:`Authenticated` (default: :func:`get_claims`, the middleware's claims).
    """
    if match not in ("all", "any"):
        raise ValueError("match must be 'all' or 'any'")
    source = auth or get_claims
    realm = auth.options.realm if isinstance(auth, Authenticated) else None

    async def dependency(request: Request, claims: Any = Depends(source)) -> TokenClaims:  # noqa: B008
        try:
            if claims is None:
                raise MissingTokenError()
            check_scopes(claims, scopes, match)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=realm or _app_realm(request)) from None
        return claims  # type: ignore[no-any-return]

    return dependency


def require_permission(
    resource: str, action: str, *, policy: Any = None, auth: ClaimsDependency | None = None
) -> Callable[..., Awaitable[TokenClaims]]:
    """A dependency requiring a token whose scopes or groups grant ``resource:action`` under
    ``policy`` (or ``app.state.midil_policy``); returns the claims."""
    source = auth or get_claims
    realm = auth.options.realm if isinstance(auth, Authenticated) else None

    async def dependency(request: Request, claims: Any = Depends(source)) -> TokenClaims:  # noqa: B008
        chosen = policy if policy is not None else getattr(request.app.state, "midil_policy", None)
        if chosen is None:
            raise RuntimeError("require_permission needs a PermissionPolicy")
        try:
            if claims is None:
                raise MissingTokenError()
            check_permission(claims, chosen, resource, action)
        except MidilError as exc:
            raise MidilHTTPException(exc, realm=realm or _app_realm(request)) from None
        return claims  # type: ignore[no-any-return]

    return dependency


class AuthMiddleware:
    """Pure ASGI middleware: verifies every HTTP request and websocket handshake outside
    ``excluded_paths`` and sets ``request.state.claims`` (``websocket.state.claims``); answers
    401/403/503 itself with a JSON:API error document.

    A refused websocket handshake gets that same HTTP answer where the server supports the ASGI
    websocket denial response, and is closed with code 1008 (policy violation) elsewhere; the app
    never sees it. CORS preflight requests and lifespan events pass untouched. ``optional=True``
    lets requests without a token through with ``claims = None``.
    """

    def __init__(
        self,
        app: ASGIApp,
        authorizer: AsyncAuthorizer,
        *,
        realm: str | None = None,
        excluded_paths: Iterable[str] = (),
        optional: bool = False,
        token_header: str = "Authorization",
        token_scheme: str | None = "Bearer",
        token_cookie: str | None = None,
    ) -> None:
        check_authorizer(authorizer, coroutines=True)
        self.app = app
        self.authorizer = authorizer
        self.options = AuthOptions.build(
            realm=realm,
            excluded_paths=excluded_paths,
            optional=optional,
            header=token_header,
            scheme=token_scheme,
            cookie=token_cookie,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate an HTTP request or websocket handshake, then call the wrapped app."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        get_cookie = None
        if self.options.source.cookie is not None:
            cookies = cookie_parser(headers.get("cookie", ""))
            get_cookie = cookies.get
        claims = None
        # A websocket handshake is a GET: excluded paths and optional auth apply the same way.
        method = scope["method"] if kind == "http" else "GET"
        try:
            plan = self.options.plan(method, scope["path"], headers.get, get_cookie)
            if plan.token is not None:
                claims = await self.authorizer.verify(plan.token)
        except MidilError as exc:
            err = error_response(exc, realm=self.options.realm)
            log_failure(log, exc, err.status)
            if kind == "http":
                await _as_response(err)(scope, receive, send)
            else:
                await _refuse_websocket(err, scope, receive, send)
            return
        scope.setdefault("state", {})["claims"] = claims
        await self.app(scope, receive, send)


async def _refuse_websocket(err: ErrorResponse, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a refused handshake over HTTP when the server can, else close it (1008)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client is already gone
    if "websocket.http.response" in scope.get("extensions", {}):
        raw_headers = [(b"content-type", err.content_type.encode("latin-1"))]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers]
        await send(
            {"type": "websocket.http.response.start", "status": err.status, "headers": raw_headers}
        )
        await send({"type": "websocket.http.response.body", "body": err.body()})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _rules(**kwargs: Any) -> QueryRules:
    return QueryRules(**kwargs)


def _query_dependency(
    rules: QueryRules, pick: Callable[[Any], Any]
) -> Callable[..., Awaitable[Any]]:
    async def dependency(request: Request) -> Any:
        try:
            return pick(rules.parse(request.query_params.multi_items()))
        except MidilError as exc:
            raise MidilHTTPException(exc) from None

    return dependency


def jsonapi_query(
    *,
    allowed_include: Collection[str] | None = None,
    allowed_sort: Collection[str] | None = None,
    allowed_fields: Mapping[str, Collection[str]] | None = None,
    allowed_filters: Collection[str] | None = None,
    max_page_size: int = 100,
    default_page_size: int = 20,
    max_include_depth: int = 3,
) -> Callable[..., Awaitable[QueryParams]]:
    """A dependency returning the request's ``QueryParams`` under these allow-lists (400 otherwise)."""
    rules = _rules(
        allowed_include=allowed_include,
        allowed_sort=allowed_sort,
        allowed_fields=allowed_fields,
        allowed_filters=allowed_filters,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
        max_include_depth=max_include_depth,
    )
    return _query_dependency(rules, lambda q: q)


def parse_sort(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the parsed ``sort`` (only ``allowed`` fields)."""
    return _query_dependency(_rules(allowed_sort=allowed), lambda q: q.sort)


def parse_include(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the parsed ``include`` paths (only ``allowed`` ones)."""
    return _query_dependency(_rules(allowed_include=allowed), lambda q: q.include)


def parse_fields(
    allowed: Mapping[str, Collection[str]] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the sparse fieldsets (``fields[TYPE]``)."""
    return _query_dependency(_rules(allowed_fields=allowed), lambda q: q.fields)


def parse_filter(allowed: Collection[str] | None = None) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the ``filter[...]`` parameters (only ``allowed`` ones)."""
    return _query_dependency(_rules(allowed_filters=allowed), lambda q: q.filters)


def parse_page(
    max_page_size: int = 100, default_page_size: int = 20
) -> Callable[..., Awaitable[Any]]:
    """A dependency returning the pagination parameters (``page[...]``)."""
    return _query_dependency(
        _rules(max_page_size=max_page_size, default_page_size=default_page_size), lambda q: q.page
    )


def jsonapi_negotiation(
    *, extensions: Collection[str] = (), profiles: Collection[str] = ()
) -> Callable[..., Awaitable[Any]]:
    """A dependency declaring an operation JSON:API: 415 for a wrong ``Content-Type`` on a body,
    406 when ``Accept`` cannot be served; returns the negotiation result."""

    async def dependency(request: Request) -> Any:
        try:
            return negotiate_request(
                request.method,
                request.headers.get("content-type"),
                request.headers.get("accept"),
                extensions=extensions,
                profiles=profiles,
            )
        except MidilError as exc:
            raise MidilHTTPException(exc) from None

    return dependency


def register_exception_handlers(
    app: FastAPI, *, realm: str | None = None, policy: Any = None, http_errors: bool = True
) -> None:
    """Answer kit errors, request validation errors (with JSON pointers) and, with ``http_errors``,
    Starlette's HTTP errors (404, 405 ...) with JSON:API error documents.

    ``realm`` and ``policy`` become the app's defaults for :func:`get_claims`,
    :func:`require_scopes` and :func:`require_permission`.
    """
    app.state.midil_realm = realm
    if policy is not None:
        app.state.midil_policy = policy

    async def on_midil_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MidilHTTPException)
        return _as_response(exc.error_response)

    async def on_midil(request: Request, exc: Exception) -> Response:
        err = error_response(exc, realm=realm)
        log_failure(log, exc, err.status)
        return _as_response(err)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors: Sequence[Mapping[str, Any]] = exc.errors()
        return _as_response(validation_response(errors))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if exc.status_code < 500 else None
        err = status_response(exc.status_code, detail if isinstance(detail, str) else None)
        response = _as_response(err)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    app.add_exception_handler(MidilHTTPException, on_midil_http)
    app.add_exception_handler(MidilError, on_midil)
    app.add_exception_handler(RequestValidationError, on_validation)
    if http_errors:
        app.add_exception_handler(StarletteHTTPException, on_http)

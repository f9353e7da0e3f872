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

The modules, one job each: :mod:`.dependencies` (``Authenticated``, ``get_claims``,
``require_scopes``, ``require_permission``, built on ``HTTPBearer`` so OpenAPI shows the lock),
:mod:`.middleware` (the pure ASGI ``AuthMiddleware``, websockets included), :mod:`.context` (the
pure ASGI ``ContextMiddleware``: each request in an event context from its ``traceparent`` and
``X-Correlation-ID``, and ``X-Correlation-ID`` on every response; ``register_exception_handlers``
adds it by default and ``AuthMiddleware`` opens the same context when alone), :mod:`.jsonapi` (query
parameter and negotiation dependencies), :mod:`.responses` (``JSONAPIResponse``),
:mod:`.exceptions` (``MidilHTTPException``) and :mod:`.handlers` (``register_exception_handlers``).
"""

from midil_async.fastapi import _requires  # noqa: F401  (first: names a missing extra)
from midil_async.fastapi.context import ContextMiddleware
from midil_async.fastapi.dependencies import (
    Authenticated,
    get_claims,
    require_permission,
    require_scopes,
)

# The HTTPBearer the dependencies declare: importable from here as before, though not in __all__.
from midil_async.fastapi.dependencies import bearer_scheme as bearer_scheme
from midil_async.fastapi.exceptions import MidilHTTPException
from midil_async.fastapi.handlers import register_exception_handlers
from midil_async.fastapi.jsonapi import (
    jsonapi_negotiation,
    jsonapi_query,
    parse_fields,
    parse_filter,
    parse_include,
    parse_page,
    parse_sort,
)
from midil_async.fastapi.middleware import AuthMiddleware
from midil_async.fastapi.responses import JSONAPIResponse

__all__ = [
    "AuthMiddleware",
    "Authenticated",
    "ContextMiddleware",
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

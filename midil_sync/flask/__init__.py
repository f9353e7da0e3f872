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

Every request runs in an event context (``midil_common.events.current_context()``) opened from its
``traceparent`` and ``X-Correlation-ID`` headers, and every response carries ``X-Correlation-ID``;
``MidilAuth`` installs this by default, ``MidilContext`` alone for an app without authentication.

The configuration keys are listed in :mod:`.extension`. The modules, one job each:
:mod:`.extension` (``MidilAuth``), :mod:`.context` (``MidilContext``), :mod:`.state` (what ``init_app`` keeps on the app),
:mod:`.claims` (the token verified once per request, ``current_claims``), :mod:`.decorators`
(``require_auth``, ``require_scopes``, ``require_permission``), :mod:`.jsonapi` (``jsonapi_view``,
``jsonapi_query``, ``jsonapi_response``) and :mod:`.handlers` (the JSON:API error handlers).
"""

from midil_sync.flask import _requires  # noqa: F401  (first: names a missing extra)
from midil_sync.flask.claims import current_claims
from midil_sync.flask.context import MidilContext
from midil_sync.flask.decorators import require_auth, require_permission, require_scopes
from midil_sync.flask.extension import MidilAuth
from midil_sync.flask.jsonapi import jsonapi_query, jsonapi_response, jsonapi_view

__all__ = [
    "MidilAuth",
    "MidilContext",
    "current_claims",
    "jsonapi_query",
    "jsonapi_response",
    "jsonapi_view",
    "require_auth",
    "require_permission",
    "require_scopes",
]

"""Flask adapter (being split into modules with one job each)."""

from midil_sync.flask.extension import (
    MidilAuth,
    current_claims,
    jsonapi_query,
    jsonapi_response,
    jsonapi_view,
    require_auth,
    require_permission,
    require_scopes,
)

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

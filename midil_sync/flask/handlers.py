"""Error handlers: kit errors (and, when asked, Flask's own HTTP errors) as JSON:API documents."""

from __future__ import annotations

import logging

from flask import Response, current_app
from werkzeug.exceptions import HTTPException

from midil_common.adapters import ErrorResponse, error_response, framework_error
from midil_common.adapters.logs import log_failure
from midil_common.errors import MidilError
from midil_sync.flask.state import State

log = logging.getLogger("midil.adapters.flask")


def as_response(err: ErrorResponse) -> Response:
    """The Flask response for the core's error response (status, headers, JSON:API body)."""
    return Response(err.body(), status=err.status, headers=err.header_dict(), mimetype=None)


def handle_midil_error(exc: MidilError) -> Response:
    """Answer any kit error: its status, RFC 6750 challenge and JSON:API error document."""
    state = current_app.extensions.get("midil")
    realm = state.options.realm if isinstance(state, State) else None
    err = error_response(exc, realm=realm)
    log_failure(log, exc, err.status)
    return as_response(err)


def handle_http_exception(exc: HTTPException) -> Response:
    """Answer Flask's own HTTP errors (404, 405 ...) as JSON:API, keeping ``Allow`` on a 405."""
    err = framework_error(exc.code or 500, exc.description)
    response = as_response(err)
    if exc.code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response

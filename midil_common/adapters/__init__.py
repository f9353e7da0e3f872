"""Framework-neutral logic shared by the Flask, Django and FastAPI adapters.

Nothing here imports a framework: reading the token, deciding which requests skip authentication,
checking scopes and permissions, building ``WWW-Authenticate`` challenges and turning any kit failure
into a status, headers and a JSON:API error document. The adapters only move bytes in and out.
"""

from midil_common.adapters.challenge import bearer_challenge, quote_param
from midil_common.adapters.credentials import (
    TokenSource,
    environ_key,
    parse_authorization,
    parse_raw_token,
)
from midil_common.adapters.errors import MissingTokenError
from midil_common.adapters.options import AuthOptions, Plan, authorizer_spec, configured_realm
from midil_common.adapters.paths import ExcludedPaths, is_preflight
from midil_common.adapters.requirements import (
    Match,
    check_permission,
    check_scopes,
    missing_scopes,
    permission_denied,
    refuse_unless,
    remote_policy,
)
from midil_common.adapters.responses import (
    JSONAPI_MEDIA_TYPE,
    ErrorResponse,
    error_object,
    error_response,
    errors_from_error_list,
    framework_error,
    json_pointer,
    status_response,
    validation_response,
)

__all__ = [
    "JSONAPI_MEDIA_TYPE",
    "AuthOptions",
    "ErrorResponse",
    "ExcludedPaths",
    "Match",
    "MissingTokenError",
    "Plan",
    "TokenSource",
    "authorizer_spec",
    "bearer_challenge",
    "check_permission",
    "check_scopes",
    "configured_realm",
    "environ_key",
    "error_object",
    "error_response",
    "errors_from_error_list",
    "framework_error",
    "is_preflight",
    "json_pointer",
    "missing_scopes",
    "parse_authorization",
    "parse_raw_token",
    "permission_denied",
    "quote_param",
    "refuse_unless",
    "remote_policy",
    "status_response",
    "validation_response",
]

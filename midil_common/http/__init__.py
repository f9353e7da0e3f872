"""HTTP value types, URL and body helpers, redirects and the retry policy, free of I/O."""

from midil_common.http.headers import parse_retry_after
from midil_common.http.hooks import register_header_hook, unregister_header_hook
from midil_common.http.redirects import TooManyRedirectsError
from midil_common.http.retry import Reauthenticate, Retry, RetryBudget, RetryPolicy, Stop
from midil_common.http.types import Headers, Request, Response, Timeout, status_error

__all__ = [
    "Headers",
    "Reauthenticate",
    "Request",
    "Response",
    "Retry",
    "RetryBudget",
    "RetryPolicy",
    "Stop",
    "Timeout",
    "TooManyRedirectsError",
    "parse_retry_after",
    "register_header_hook",
    "status_error",
    "unregister_header_hook",
]

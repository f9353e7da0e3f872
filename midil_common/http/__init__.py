"""HTTP value types and the retry policy, free of I/O."""

from midil_common.http.headers import parse_retry_after
from midil_common.http.types import Headers, Request, Response, Timeout, status_error

__all__ = ["Headers", "Request", "Response", "Timeout", "parse_retry_after", "status_error"]

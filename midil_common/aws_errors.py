"""AWS call failures as plain values, and when to retry them: shared by every AWS client of both
shells (Cognito, SQS, EventBridge, ...).

A shell's client factory (``midil_sync._aws``, ``midil_async._aws``) turns a botocore or
aiobotocore failure into an :class:`AWSErrorInfo` with :func:`error_info` or
:func:`transport_info`, asks :class:`AWSRetryPolicy` whether to try again, and otherwise raises the
kit exception the caller's mapper chose (Cognito's in :mod:`midil_common.auth.cognito_flows`).
The raw service message is kept for mappers to read; it is never put into a kit message without
:func:`redact`, as services echo request values (moto echoes tokens) into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from midil_common.errors import ConfigError
from midil_common.http.retry import Random

__all__ = [
    "AWS_RETRY_POLICY",
    "INVALID_RESPONSE",
    "THROTTLING_CODES",
    "TRANSIENT_CODES",
    "UNKNOWN_CODE",
    "AWSErrorInfo",
    "AWSRetryPolicy",
    "ErrorMapper",
    "build_failed",
    "error_info",
    "invalid_response_info",
    "redact",
    "transport_info",
]

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
"""Error codes that mean "slow down" (botocore's standard retry mode lists the same)."""

TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
"""Error codes of a transient service failure (retried like a 5xx)."""

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
_MAX_TEXT = 300
_CODE = re.compile(r"[A-Za-z0-9._:#-]{1,128}")

UNKNOWN_CODE = "Unknown"
"""The code of a failure whose service gave none, or one that cannot be an error code."""


@dataclass(frozen=True)
class AWSErrorInfo:
    """One failed AWS call: the service's error ``code`` and ``message`` (raw: pass it through
    :func:`redact` before showing it), the HTTP status, and for a failure below HTTP ``transport``
    (``connect``, ``timeout`` or ``connection``) with ``request_sent``."""

    service: str
    operation: str
    code: str
    message: str = field(default="", repr=False)
    status_code: int | None = None
    transport: str | None = None
    request_sent: bool = True

    @property
    def throttled(self) -> bool:
        """The service asked the caller to slow down."""
        return self.code in THROTTLING_CODES or self.status_code == 429

    @property
    def retryable(self) -> bool:
        """Repeating the call may succeed: throttling, a transient code, a 5xx, or a transport
        failure."""
        return (
            self.transport is not None
            or self.throttled
            or self.code in TRANSIENT_CODES
            or (self.status_code is not None and self.status_code >= 500)
        )

    @property
    def log_code(self) -> str:
        """The failure for a log line: the code when it is a throttling, transient or transport
        code, else the HTTP status. Any other code is the service's own text, which a hostile
        server can fill with what the request sent (a password)."""
        if self.transport is not None or self.code in THROTTLING_CODES | TRANSIENT_CODES:
            return self.code
        return f"HTTP {self.status_code}" if self.status_code is not None else UNKNOWN_CODE


ErrorMapper = Callable[[AWSErrorInfo], Exception]
"""Turns a failure into the kit exception a client raises (each service has its own)."""


def error_info(service: str, operation: str, response: Mapping[str, Any]) -> AWSErrorInfo:
    """The failure described by botocore's parsed error ``response`` (``ClientError.response``)."""
    error = response.get("Error")
    error = error if isinstance(error, Mapping) else {}
    meta = response.get("ResponseMetadata")
    meta = meta if isinstance(meta, Mapping) else {}
    status = meta.get("HTTPStatusCode")
    code = error.get("Code")
    message = error.get("Message")
    return AWSErrorInfo(
        service=service,
        operation=operation,
        code=_error_code(code),
        message=str(message) if message else "",
        status_code=status if isinstance(status, int) else None,
    )


def _error_code(code: object) -> str:
    """``code`` when it looks like an error code (``NotAuthorizedException``,
    ``AWS.SimpleQueueService.NonExistentQueue``), else :data:`UNKNOWN_CODE`: the code reaches
    messages and logs, so 100 KB of text, escape sequences or line breaks stay out."""
    if isinstance(code, str) and _CODE.fullmatch(code):  # {1,128}: bounded whatever its size
        return code
    return UNKNOWN_CODE


def transport_info(
    service: str, operation: str, kind: str, *, request_sent: bool = True
) -> AWSErrorInfo:
    """A failure below HTTP: ``kind`` is ``connect`` (nothing sent), ``timeout`` or
    ``connection`` (the connection broke)."""
    return AWSErrorInfo(
        service=service,
        operation=operation,
        code=f"Transport.{kind}",
        transport=kind,
        request_sent=request_sent and kind != "connect",
    )


def build_failed(service: str, failed: str) -> ConfigError:
    """The error of a ``service`` client botocore refused to build (``failed``: the name of its
    exception, which says which setting is wrong: ``NoRegionError``, ``InvalidRegionError``,
    ``ValueError`` for an endpoint)."""
    return ConfigError(
        f"cannot build the AWS {service} client ({failed}): check endpoint_url and region",
        variable="endpoint_url",
    )


INVALID_RESPONSE = "InvalidResponse"
"""The code of an answer the AWS library failed to read (not botocore's own parse error)."""


def invalid_response_info(service: str, operation: str) -> AWSErrorInfo:
    """An answer the AWS library could not read: botocore's parsers raise ``AttributeError`` on a
    JSON list where an object belongs, ``RecursionError`` on deep nesting, and so on. Not
    retryable: the same service would most likely answer the same way again."""
    return AWSErrorInfo(
        service=service,
        operation=operation,
        code=INVALID_RESPONSE,
        message="the answer could not be read",
    )


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` for a message: each of ``secrets`` (passwords, codes, tokens sent in the call)
    replaced by ``***``, control characters replaced, bounded in length."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _UNPRINTABLE.sub("?", text[: _MAX_TEXT * 2])[:_MAX_TEXT]


@dataclass(frozen=True)
class AWSRetryPolicy:
    """When an AWS call is repeated: retryable failures (:attr:`AWSErrorInfo.retryable`), at most
    ``max_attempts`` attempts, exponential backoff with full jitter. botocore's own retries are
    turned off by the client factories, so this is the only retry loop."""

    max_attempts: int = 3
    backoff_initial: float = 0.1
    backoff_multiplier: float = 2.0
    backoff_max: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("AWSRetryPolicy.max_attempts must be >= 1")
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.backoff_multiplier < 1:
            raise ConfigError("AWSRetryPolicy delays must be >= 0 and the multiplier >= 1")

    def decide(self, info: AWSErrorInfo, attempt: int, rng: Random) -> float | None:
        """The wait before attempt ``attempt + 1`` after ``info`` failed attempt ``attempt``
        (1-based), or None to stop and raise."""
        if attempt >= self.max_attempts or not info.retryable:
            return None
        ceiling = min(
            self.backoff_max,
            self.backoff_initial * self.backoff_multiplier ** min(attempt - 1, 32),
        )
        return rng.random() * ceiling if self.jitter else ceiling


AWS_RETRY_POLICY = AWSRetryPolicy()
"""The default: three attempts, 0.1 s then 0.2 s at most between them."""

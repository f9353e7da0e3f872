"""AWS clients for the sync shell: the one module that names ``boto3`` (DESIGN rule 8).

:class:`AWSClient` builds a boto3 client on first use and keeps it (boto3 clients are thread-safe;
one per :class:`AWSClient`, never one per call), calls operations by their API name, turns botocore
failures into :class:`~midil_common.aws_errors.AWSErrorInfo` values, retries what the core's
:class:`~midil_common.aws_errors.AWSRetryPolicy` says is retryable (botocore's own retries are
off), and raises the kit exception the caller's mapper picks, ``from None`` (botocore's text can
quote the request's tokens). ``midil_async._aws`` has the same shape over aiobotocore.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Any

from midil_common.aws_errors import (
    AWS_RETRY_POLICY,
    AWSErrorInfo,
    AWSRetryPolicy,
    ErrorMapper,
    build_failed,
    error_info,
    invalid_response_info,
    transport_info,
)
from midil_common.errors import MidilError
from midil_common.extras import require
from midil_common.http.urls import check_url
from midil_sync._primitives import LoopBound, sleep

__all__ = ["AWSClient", "client"]

logger = logging.getLogger("midil.aws")

EXTRA = "aws"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0


def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    config: Any = None,
    credentials: Mapping[str, str] | None = None,
    unsigned: bool = False,
) -> Any:
    """A new boto3 client for ``service``, with botocore's retries off (the kit retries) and short
    timeouts; ``config`` (a ``botocore.config.Config``, or a mapping of its options, which needs
    no botocore import at the call site) is merged over those defaults.
    ``credentials`` holds ``aws_access_key_id``/``aws_secret_access_key``/``aws_session_token``;
    ``unsigned`` sends unsigned requests (Cognito's user operations need no AWS credentials)."""
    require("midil_sync", "boto3", EXTRA, "boto3")
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
    }
    if unsigned:
        options["signature_version"] = UNSIGNED
    merged = Config(**options)
    if isinstance(config, Mapping):
        merged = merged.merge(Config(**config))
    elif config is not None:
        merged = merged.merge(config)
    maker: Any = session or boto3.session.Session()
    made = maker.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=merged,
        **dict(credentials or {}),
    )
    return made


def failure(service: str, operation: str, exc: BaseException) -> AWSErrorInfo | None:
    """``exc`` as an :class:`AWSErrorInfo`, or None when it is no botocore failure."""
    from botocore import exceptions

    if isinstance(exc, exceptions.ClientError):
        return error_info(service, operation, exc.response)
    if isinstance(exc, exceptions.ReadTimeoutError):
        return transport_info(service, operation, "timeout")
    if isinstance(exc, exceptions.ConnectionError):
        return transport_info(service, operation, "connect", request_sent=False)
    if isinstance(exc, exceptions.HTTPClientError):
        return transport_info(service, operation, "connection")
    if isinstance(exc, exceptions.BotoCoreError):
        return AWSErrorInfo(service=service, operation=operation, code=type(exc).__name__)
    return None


class AWSClient:
    """One AWS service client, built on first use and reused by every call and thread."""

    def __init__(
        self,
        service: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        session: Any = None,
        config: Any = None,
        credentials: Mapping[str, str] | None = None,
        unsigned: bool = False,
        retry: AWSRetryPolicy = AWS_RETRY_POLICY,
    ) -> None:
        require("midil_sync", "boto3", EXTRA, "boto3")
        if endpoint_url is not None:
            # botocore refuses some URLs (a host with "_") with ValueError("Invalid endpoint:
            # <url>"), which quotes user info (a password) in full; checked here, the URL is
            # refused early, with a typed error that never echoes it.
            check_url(endpoint_url, what="endpoint_url")
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url
        self.retry = retry
        self._options: dict[str, Any] = {
            "region": region,
            "endpoint_url": endpoint_url,
            "session": session,
            "config": config,
            "credentials": credentials,
            "unsigned": unsigned,
        }
        self._clients: LoopBound[Any] = LoopBound(self._build, _close)
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"AWSClient({self.service!r}, region={self.region!r})"

    def _build(self) -> Any:
        try:
            return client(self.service, **self._options)
        except (MidilError, ImportError):
            raise  # the kit's own errors, and require()'s install hint, say what to do already
        except Exception as exc:
            failed = type(exc).__name__
        # Raised out of the except block: botocore's text (ValueError("Invalid endpoint: <url>"))
        # can quote the endpoint's user info, so it is neither in the message nor the chain.
        raise build_failed(self.service, failed)

    def get(self) -> Any:
        """The boto3 client (built now if there is none yet)."""
        return self._clients.get()

    def call(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        errors: ErrorMapper,
        retry: AWSRetryPolicy | None = None,
    ) -> dict[str, Any]:
        """Call ``operation`` (its API name, ``InitiateAuth``) with ``params``; the response without
        its ``ResponseMetadata``. Retryable failures are retried by ``retry`` (the client's policy
        by default); the last failure is raised as ``errors(info)``, an answer botocore fails to
        read as one with the code ``InvalidResponse``."""
        from botocore import xform_name

        policy = retry or self.retry
        method = xform_name(operation)
        attempt = 0
        while True:
            attempt += 1
            bound: Any = None
            try:
                bound = getattr(self.get(), method)
                result = bound(**params)
            except Exception as exc:
                info = failure(self.service, operation, exc)
                if info is None:
                    # Building the client (bound is None) fails on configuration, and the kit's
                    # own errors are meant for the caller: both go up as they are. Anything else
                    # escaped botocore while it read the answer (its parsers raise AttributeError
                    # on a JSON list, RecursionError on deep nesting): the answer is unreadable.
                    if bound is None or isinstance(exc, MidilError):
                        raise
                    info = invalid_response_info(self.service, operation)
            else:
                answer = dict(result)
                answer.pop("ResponseMetadata", None)
                return answer
            # Out of the except block, so botocore's exception, whose text can quote the request's
            # password or token, is neither the __cause__ nor the __context__ of the kit's.
            delay = policy.decide(info, attempt, self._rng)
            if delay is None:
                raise errors(info) from None
            logger.debug(
                "retrying %s %s after %s (attempt %d)",
                self.service,
                operation,
                info.log_code,
                attempt,
                extra={"aws_error_code": info.log_code, "attempt": attempt},
            )
            sleep(delay)

    def close(self) -> None:
        """Close the client's connections; a later call builds a new client."""
        self._clients.close()


def _close(made: Any) -> None:
    made.close()

"""AWS clients for the async shell: the one module that names ``aiobotocore`` (DESIGN rule 8).

The twin of ``midil_sync._aws``, with the same names. An aiobotocore client belongs to the event
loop that created it, so :class:`AWSClient` keeps one per loop (a :class:`LoopBound`): made on
first use in a loop, reused by every call and task of that loop, and closed when that loop shuts
down (or on :meth:`AWSClient.aclose`). Concurrent first calls in one loop share one creation.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from midil_async._primitives import LoopBound, sleep
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

if TYPE_CHECKING:
    import asyncio

__all__ = ["AWSClient", "client"]

logger = logging.getLogger("midil.aws")

EXTRA = "aws-async"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0


async def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    config: Any = None,
    credentials: Mapping[str, str] | None = None,
    unsigned: bool = False,
) -> Any:
    """A new aiobotocore client for ``service`` (entered; close it with ``await c.close()``),
    with botocore's retries off (the kit retries) and short timeouts; ``config`` is merged over
    those defaults. The other arguments mean what they mean in ``midil_sync._aws.client``."""
    require("midil_async", "aiobotocore", EXTRA, "aiobotocore")
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session
    from botocore import UNSIGNED

    options: dict[str, Any] = {
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
    }
    if unsigned:
        options["signature_version"] = UNSIGNED
    merged = AioConfig(**options)
    if isinstance(config, Mapping):
        merged = merged.merge(AioConfig(**config))
    elif config is not None:
        merged = merged.merge(config)
    maker: Any = session or get_session()
    context = maker.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=merged,
        **dict(credentials or {}),
    )
    return await context.__aenter__()


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


class _PerLoop:
    """The client of one event loop: created once, by the first caller; the others await it."""

    __slots__ = ("_build", "_task")

    def __init__(self, build: Any) -> None:
        self._build = build
        self._task: asyncio.Task[Any] | None = None

    async def get(self) -> Any:
        import asyncio

        task = self._task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._task = asyncio.ensure_future(self._build())
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            return
        if task.cancelled() or task.exception() is not None:
            return
        await task.result().close()


class AWSClient:
    """One AWS service client per event loop, built on first use and reused by every call."""

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
        require("midil_async", "aiobotocore", EXTRA, "aiobotocore")
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
        self._clients: LoopBound[_PerLoop] = LoopBound(self._holder, _close)
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"AWSClient({self.service!r}, region={self.region!r})"

    def _holder(self) -> _PerLoop:
        return _PerLoop(self._build)

    async def _build(self) -> Any:
        try:
            return await client(self.service, **self._options)
        except (MidilError, ImportError):
            raise  # the kit's own errors, and require()'s install hint, say what to do already
        except Exception as exc:
            failed = type(exc).__name__
        # Raised out of the except block: botocore's text (ValueError("Invalid endpoint: <url>"))
        # can quote the endpoint's user info, so it is neither in the message nor the chain.
        raise build_failed(self.service, failed)

    async def get(self) -> Any:
        """The aiobotocore client of the running loop (built now if there is none yet)."""
        return await self._clients.get().get()

    async def call(
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
                bound = getattr(await self.get(), method)
                result = await bound(**params)
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
            await sleep(delay)

    async def aclose(self) -> None:
        """Close the running loop's client; a later call builds a new one."""
        await self._clients.aclose()


async def _close(holder: _PerLoop) -> None:
    await holder.aclose()

"""Publishing events to an SQS queue: ``SQSPublisher``.

Every decision is the core's: the message of an event (:class:`~midil_common.events.SQSCodec`:
the CloudEvents JSON body, the ``ce-type`` and ``traceparent`` message attributes), the batches
(:func:`~midil_common.events.batching.sqs_batches`: at most 10 entries and the queue's
``MaximumMessageSize``; an event too big is refused with ``InvalidEventError`` before anything is
sent), which entries failed and which of them are sent again
(:class:`~midil_common.events.EntryRetryPolicy`). This module sends the batches and sleeps the
delays. The batches of a FIFO queue are sent one after the other (in order); those of a standard
queue side by side in the async shell (concurrent tasks), one after the other in the sync shell. One source serves both shells: the sync module is generated from this one by
``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from midil_async._primitives import gather, sleep
from midil_async.events._clients import service_client
from midil_common.errors import ConfigError
from midil_common.events.batch_result import BatchResult, Finished
from midil_common.events.batching import Batch, sqs_batches
from midil_common.events.context import stamp
from midil_common.events.envelope import Event
from midil_common.events.publishing import (
    DEFAULT_ENTRY_RETRY,
    FALLBACK_MAX_MESSAGE_SIZE,
    ONE_ATTEMPT,
    CallFailed,
    call_failed,
    failed_call_result,
    queue_max_message_size,
    sqs_publisher_kwargs,
)
from midil_common.events.sqs_codec import SQSCodec, is_fifo_queue

if TYPE_CHECKING:
    from midil_common.events.batch_result import EntryRetryPolicy
    from midil_common.settings import EventsSettings, MidilSettings

__all__ = ["SQSPublisher"]

logger = logging.getLogger("midil.events")


class SQSPublisher:
    """Publish events to one SQS queue.

    Args:
        queue_url: the queue's URL (a name ending in ``.fifo`` is a FIFO queue).
        client: an AWS client to use instead of building one: an ``AWSClient`` of this shell, or
            an SQS client of the AWS SDK this shell uses. The caller keeps it and closes it.
        region: the AWS region; ``endpoint_url``: another endpoint (moto, LocalStack).
        credentials: ``aws_access_key_id``, ``aws_secret_access_key`` (and
            ``aws_session_token``) when not taken from the environment.
        max_message_size: the largest message the queue takes, in bytes; None reads the queue's
            ``MaximumMessageSize`` once, on the first publish (256 KiB when it cannot be read).
        max_batch_size: the largest ``SendMessageBatch`` payload (default: ``max_message_size``).
        message_group_id: FIFO queues: the group of every message, or a function of the event
            (required for a FIFO queue).
        deduplication_id: FIFO queues: the deduplication id, or a function of the event (default:
            a digest of the event's source and id, so an event sent twice is deduplicated by SQS
            and events of different sources sharing an id are not).
        codec: the ``SQSCodec`` writing the messages.
        retry: how entries that failed retryably are sent again (``EntryRetryPolicy``).

    Events are stamped with the current event context (correlation id, causation id,
    ``traceparent``) where they carry none. The client is built on first use and reused by every
    call; close it with ``aclose`` or a ``with`` block.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        max_message_size: int | None = None,
        max_batch_size: int | None = None,
        message_group_id: str | Callable[[Event], str] | None = None,
        deduplication_id: str | Callable[[Event], str] | None = None,
        codec: SQSCodec | None = None,
        retry: EntryRetryPolicy = DEFAULT_ENTRY_RETRY,
    ) -> None:
        if type(queue_url) is not str or not queue_url:
            raise ConfigError("queue_url must be an SQS queue URL", variable="queue_url")
        self.queue_url = queue_url
        self.fifo = is_fifo_queue(queue_url)
        if self.fifo and message_group_id is None:
            raise ConfigError(
                "a FIFO queue needs message_group_id (a string or a function of the event)",
                variable="message_group_id",
            )
        self._codec = codec or SQSCodec()
        self._group = message_group_id
        self._dedup = deduplication_id
        self.retry = retry
        self._max_message_size = max_message_size
        self._max_batch_size = max_batch_size
        # Checked now, on an empty plan, so a bad limit fails here and not on the first publish.
        self._plan([], max_message_size or FALLBACK_MAX_MESSAGE_SIZE)
        self._aws, self._owns_client = service_client(
            "sqs", client, region=region, endpoint_url=endpoint_url, credentials=credentials
        )
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"SQSPublisher({self.queue_url!r})"

    @classmethod
    def from_settings(cls, settings: MidilSettings | EventsSettings | None = None) -> SQSPublisher:
        """Build from the ``events`` settings section, ``MIDIL_EVENTS__QUEUE_URL``, ``__REGION``
        and ``__ENDPOINT_URL`` (read from the environment when None)."""
        return cls(**sqs_publisher_kwargs(settings))

    # ---------------------------------------------------------------------------- publishing

    async def publish(self, event: Event) -> Event:
        """Send one event; returns it as sent (stamped with the current context). Raises
        ``PublishError`` (``failed=[event]``) when SQS did not accept it after the retries, and
        ``InvalidEventError`` when it is too big for the queue."""
        result = await self.publish_batch([event], raise_on_failure=True)
        return result.succeeded[0]

    async def publish_batch(
        self, events: Sequence[Event], *, raise_on_failure: bool = False
    ) -> BatchResult[Event]:
        """Send ``events`` in batches of at most 10 (and the queue's size limit).

        Entries that failed retryably (throttling, server faults, a failed call) are sent again
        with backoff; the result lists the events accepted and those that were not, nothing is
        dropped. With ``raise_on_failure`` a result with failures raises ``PublishError`` whose
        ``failed`` holds the events not accepted. An event too big for the queue raises
        ``InvalidEventError`` before anything is sent.
        """
        stamped = [stamp(event) for event in events]
        if not stamped:
            return BatchResult()
        max_message_size = await self._message_size_limit()
        batches = self._plan(stamped, max_message_size)
        attempts = self.retry.start(time.monotonic())
        while True:
            result = await self._send_all(batches)
            step = attempts.record(result, now=time.monotonic(), rng=self._rng)
            if isinstance(step, Finished):
                break
            logger.debug(
                "sending %d events to %s again in %.3f s (attempt %d)",
                len(step.items),
                self.queue_url,
                step.delay,
                step.attempt,
                extra={"queue_url": self.queue_url, "attempt": step.attempt},
            )
            await sleep(step.delay)
            batches = self._plan(step.items, max_message_size)
        final: BatchResult[Event] = step.result
        if final.failed:
            logger.warning(
                "events not published to %s: %s (%s)",
                self.queue_url,
                final.describe(),
                step.reason,
                extra={"queue_url": self.queue_url, "failed": len(final.failed)},
            )
            if raise_on_failure:
                final.raise_for_failures()
        return final

    def _plan(self, events: Sequence[Event], max_message_size: int) -> list[Batch[Event]]:
        return sqs_batches(
            events,
            max_message_size=max_message_size,
            max_batch_size=self._max_batch_size,
            codec=self._codec,
            message_group_id=self._group,
            deduplication_id=self._dedup,
            fifo=self.fifo,
        )

    async def _send_all(self, batches: Sequence[Batch[Event]]) -> BatchResult[Event]:
        result: BatchResult[Event] = BatchResult()
        if self.fifo:
            # One group's messages keep their order: one batch after the other.
            for batch in batches:
                result = result + await self._send(batch)
            return result
        for part in await gather(*(self._send(batch) for batch in batches)):
            result = result + part
        return result

    async def _send(self, batch: Batch[Event]) -> BatchResult[Event]:
        try:
            response = await self._aws.call(
                "SendMessageBatch",
                {"QueueUrl": self.queue_url, "Entries": list(batch.entries)},
                errors=call_failed,
                retry=ONE_ATTEMPT,
            )
        except CallFailed as failure:
            return failed_call_result(batch, failure)
        return batch.result(response)

    async def _message_size_limit(self) -> int:
        """The queue's ``MaximumMessageSize``, read once (a transient failure is read again on
        the next publish; meanwhile, and after a permanent one, 256 KiB)."""
        known = self._max_message_size
        if known is not None:
            return known
        try:
            answer = await self._aws.call(
                "GetQueueAttributes",
                {"QueueUrl": self.queue_url, "AttributeNames": ["MaximumMessageSize"]},
                errors=call_failed,
            )
        except CallFailed as failure:
            logger.warning(
                "cannot read MaximumMessageSize of %s (%s); assuming %d bytes",
                self.queue_url,
                failure.info.code,
                FALLBACK_MAX_MESSAGE_SIZE,
                extra={"queue_url": self.queue_url, "aws_error_code": failure.info.code},
            )
            if not failure.info.retryable:
                self._max_message_size = FALLBACK_MAX_MESSAGE_SIZE
            return FALLBACK_MAX_MESSAGE_SIZE
        size = self._max_message_size = queue_max_message_size(answer)
        return size

    # ------------------------------------------------------------------------------ closing

    async def aclose(self) -> None:
        """Close the client this publisher built (one the caller handed in stays open)."""
        if self._owns_client:
            await self._aws.aclose()

    async def __aenter__(self) -> SQSPublisher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

# Generated from midil_async/events/eventbridge.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""Publishing events to an EventBridge bus: ``EventBridgePublisher``.

The entries are the core's (:func:`~midil_common.events.eventbridge.eventbridge_entry`: ``Source``,
``DetailType`` the event type, ``Detail`` the CloudEvents JSON, ``Time``; ``TraceHeader`` the X-Ray
form of the event's ``traceparent``), and so are the batches (at most 10 entries and 256 KiB; an
entry over 256 KiB is refused with ``InvalidEventError`` before anything is sent), the reading of
partial failures and the retries of the failed entries. This module sends the batches (side by
side in the async shell, one after the other in the sync shell) and sleeps the delays. One source serves both shells: the sync module is generated
from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from midil_common.events.batch_result import BatchResult, Finished
from midil_common.events.batching import Batch, eventbridge_batches
from midil_common.events.context import stamp
from midil_common.events.envelope import Event
from midil_common.events.eventbridge import DEFAULT_EVENT_BUS, eventbridge_entry
from midil_common.events.publishing import (
    DEFAULT_ENTRY_RETRY,
    ONE_ATTEMPT,
    CallFailed,
    call_failed,
    eventbridge_publisher_kwargs,
    failed_call_result,
    with_trace_headers,
)
from midil_sync._primitives import gather, sleep
from midil_sync.events._clients import service_client

if TYPE_CHECKING:
    from midil_common.events.batch_result import EntryRetryPolicy
    from midil_common.settings import EventsSettings, MidilSettings

__all__ = ["EventBridgePublisher"]

logger = logging.getLogger("midil.events")

_PROBE = Event(source="midil", type="midil.probe")


class EventBridgePublisher:
    """Publish events to one EventBridge event bus.

    Args:
        bus_name: the event bus name or ARN.
        source: the entries' ``Source`` (what rules match on); None uses each event's source.
        client: an AWS client to use instead of building one: an ``AWSClient`` of this shell, or
            an EventBridge client of the AWS SDK this shell uses. The caller keeps it and closes it.
        region: the AWS region; ``endpoint_url``: another endpoint (moto, LocalStack).
        credentials: ``aws_access_key_id``, ``aws_secret_access_key`` (and
            ``aws_session_token``) when not taken from the environment.
        resources: ARNs put in every entry's ``Resources``.
        retry: how entries that failed retryably (``InternalFailure``, ``ThrottlingException``)
            are sent again (``EntryRetryPolicy``).

    Events are stamped with the current event context where they carry none, and each entry's
    ``TraceHeader`` is the X-Ray form of its event's ``traceparent``.
    """

    def __init__(
        self,
        bus_name: str = DEFAULT_EVENT_BUS,
        *,
        source: str | None = None,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        resources: Sequence[str] = (),
        retry: EntryRetryPolicy = DEFAULT_ENTRY_RETRY,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self.resources = tuple(resources)
        self.retry = retry
        # Checked now (bus name, source, resources), so a bad one fails here.
        eventbridge_entry(_PROBE, bus_name=bus_name, source=source, resources=self.resources)
        self._aws, self._owns_client = service_client(
            "events", client, region=region, endpoint_url=endpoint_url, credentials=credentials
        )
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"EventBridgePublisher({self.bus_name!r})"

    @classmethod
    def from_settings(
        cls, settings: MidilSettings | EventsSettings | None = None
    ) -> EventBridgePublisher:
        """Build from the ``events`` settings section, ``MIDIL_EVENTS__BUS_NAME``, ``__SOURCE``,
        ``__REGION`` and ``__ENDPOINT_URL`` (read from the environment when None)."""
        return cls(**eventbridge_publisher_kwargs(settings))

    def publish(self, event: Event) -> Event:
        """Send one event; returns it as sent (stamped with the current context). Raises
        ``PublishError`` (``failed=[event]``) when EventBridge did not accept it after the
        retries, and ``InvalidEventError`` when its entry is over 256 KiB."""
        result = self.publish_batch([event], raise_on_failure=True)
        return result.succeeded[0]

    def publish_batch(
        self, events: Sequence[Event], *, raise_on_failure: bool = False
    ) -> BatchResult[Event]:
        """Send ``events`` in ``PutEvents`` batches of at most 10 entries and 256 KiB.

        Entries that failed retryably are sent again with backoff; the result lists the events
        accepted and those that were not, nothing is dropped. With ``raise_on_failure`` a result
        with failures raises ``PublishError`` whose ``failed`` holds the events not accepted. An
        entry over 256 KiB raises ``InvalidEventError`` before anything is sent.
        """
        stamped = [stamp(event) for event in events]
        if not stamped:
            return BatchResult()
        batches = self._plan(stamped)
        attempts = self.retry.start(time.monotonic())
        while True:
            result: BatchResult[Event] = BatchResult()
            for part in gather(*(self._send(batch) for batch in batches)):
                result = result + part
            step = attempts.record(result, now=time.monotonic(), rng=self._rng)
            if isinstance(step, Finished):
                break
            logger.debug(
                "sending %d events to bus %s again in %.3f s (attempt %d)",
                len(step.items),
                self.bus_name,
                step.delay,
                step.attempt,
                extra={"bus_name": self.bus_name, "attempt": step.attempt},
            )
            sleep(step.delay)
            batches = self._plan(step.items)
        final: BatchResult[Event] = step.result
        if final.failed:
            logger.warning(
                "events not published to bus %s: %s (%s)",
                self.bus_name,
                final.describe(),
                step.reason,
                extra={"bus_name": self.bus_name, "failed": len(final.failed)},
            )
            if raise_on_failure:
                final.raise_for_failures()
        return final

    def _plan(self, events: Sequence[Event]) -> list[Batch[Event]]:
        return with_trace_headers(
            eventbridge_batches(
                events, bus_name=self.bus_name, source=self.source, resources=self.resources
            )
        )

    def _send(self, batch: Batch[Event]) -> BatchResult[Event]:
        try:
            response = self._aws.call(
                "PutEvents", {"Entries": list(batch.entries)}, errors=call_failed, retry=ONE_ATTEMPT
            )
        except CallFailed as failure:
            return failed_call_result(batch, failure)
        return batch.result(response)

    def close(self) -> None:
        """Close the client this publisher built (one the caller handed in stays open)."""
        if self._owns_client:
            self._aws.close()

    def __enter__(self) -> EventBridgePublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

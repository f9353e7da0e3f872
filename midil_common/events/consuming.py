"""What both shells' ``SQSConsumer`` decide, free of I/O.

The receiving rules (backpressure, long polling, FIFO lanes) live in
:mod:`~midil_common.events.receiving`, the backoff after a failed handler in
:mod:`~midil_common.events.redelivery` and the visibility heartbeat in
:mod:`~midil_common.events.heartbeat`. This module adds the rest:

- :class:`ConsumerOptions`: the consumer's arguments, validated once (``ConfigError`` names the
  argument); :func:`consumer_kwargs` reads them from the ``events`` settings section.
- :class:`ConsumerStats`: the counters, as a frozen snapshot; :class:`ConsumerCounters` the mutable
  tally a shell keeps (under its own lock).
- :func:`after_handler_failure` and :func:`after_poison`: what becomes of a message whose handler
  raised, or that cannot be handled at all.
- :class:`CallFailures`: errors talking to SQS: transient ones (throttling, 5xx, the network) are
  retried with backoff for as long as the consumer runs and logged at a bounded rate; permanent
  ones (the queue does not exist, access denied, bad credentials or region) stop the consumer with
  :class:`~midil_common.errors.ConsumerError`.
- :func:`dead_letter_message`: the ``send_message`` arguments that move a message to a DLQ as it
  was received.
- :func:`short_handle`: a receipt handle as log lines may show it (never in full).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from midil_common.aws_errors import AWSErrorInfo, redact
from midil_common.errors import ConfigError, ConsumerError
from midil_common.events.periodic import RandomFloat
from midil_common.events.receiving import SQS_MAX_RECEIVE, SQS_MAX_WAIT_TIME
from midil_common.events.redelivery import (
    SQS_MAX_VISIBILITY_TIMEOUT,
    DeadLetter,
    RedeliveryPolicy,
    Release,
)
from midil_common.events.sqs_codec import ReceivedMessage, is_fifo_queue

if TYPE_CHECKING:
    from midil_common.settings import EventsSettings, MidilSettings

__all__ = [
    "CallFailures",
    "ConsumerCounters",
    "ConsumerOptions",
    "ConsumerStats",
    "GiveUp",
    "RetryCall",
    "after_handler_failure",
    "after_poison",
    "consumer_kwargs",
    "dead_letter_message",
    "receive_threshold",
    "short_handle",
]


@dataclass(frozen=True, slots=True)
class ConsumerStats:
    """A consumer's counters at one moment (cumulative over its runs).

    - ``received``: messages received; ``handled``: messages whose handlers all returned;
      ``failed``: messages whose handler raised;
    - ``retried``: failed messages released with a backoff (the redrive policy counts them);
      ``dead_lettered``: failed messages sent to the configured DLQ (then deleted);
    - ``poison``: messages that cannot be handled (undecodable, or no handler for their type),
      left for the DLQ;
    - ``deleted`` / ``delete_failed``: acknowledgements SQS took / refused for good (a refused one
      is delivered again: handlers must be idempotent);
    - ``extended``: visibility extensions of running handlers (the heartbeat);
    - ``released``: messages made visible at once without being handled (a FIFO group after a
      failure, a stop);
    - ``errors``: transient errors talking to SQS (retried).
    """

    received: int = 0
    handled: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    poison: int = 0
    deleted: int = 0
    delete_failed: int = 0
    extended: int = 0
    released: int = 0
    errors: int = 0

    @property
    def in_flight(self) -> int:
        """Received messages not yet handled, failed, poison or released."""
        return max(0, self.received - self.handled - self.failed - self.poison - self.released)


_FIELDS = tuple(f.name for f in fields(ConsumerStats))


class ConsumerCounters:
    """The mutable tally behind :class:`ConsumerStats` (the shell serialises access)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts = dict.fromkeys(_FIELDS, 0)

    def add(self, name: str, count: int = 1) -> None:
        """Add ``count`` to the counter ``name`` (a :class:`ConsumerStats` field)."""
        self._counts[name] += count

    def snapshot(self) -> ConsumerStats:
        """The counters now, as a frozen value."""
        return ConsumerStats(**self._counts)


def _int(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}", variable=name)
    return value


def _url(name: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if type(value) is not str or not value or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must be an SQS queue URL", variable=name)
    return value


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """The options of an ``SQSConsumer`` (see its docstring), validated on construction."""

    queue_url: str
    concurrency: int = 10
    wait_time_seconds: int = SQS_MAX_WAIT_TIME
    visibility_timeout: int | None = None
    max_messages: int = SQS_MAX_RECEIVE
    heartbeat: bool = True
    redelivery: RedeliveryPolicy = field(default_factory=RedeliveryPolicy)
    dead_letter_queue_url: str | None = None
    non_retryable: tuple[type[BaseException], ...] = ()
    stop_timeout: float = 30.0

    def __post_init__(self) -> None:
        _url("queue_url", self.queue_url)
        _url("dead_letter_queue_url", self.dead_letter_queue_url, optional=True)
        _int("concurrency", self.concurrency, 1, 10_000)
        _int("wait_time_seconds", self.wait_time_seconds, 0, SQS_MAX_WAIT_TIME)
        _int("max_messages", self.max_messages, 1, SQS_MAX_RECEIVE)
        if self.visibility_timeout is not None:
            _int("visibility_timeout", self.visibility_timeout, 0, SQS_MAX_VISIBILITY_TIMEOUT)
        if type(self.heartbeat) is not bool:
            raise ConfigError("heartbeat must be a bool", variable="heartbeat")
        if not isinstance(self.redelivery, RedeliveryPolicy):
            raise ConfigError("redelivery must be a RedeliveryPolicy", variable="redelivery")
        if not isinstance(self.non_retryable, tuple) or not all(
            isinstance(t, type) and issubclass(t, BaseException) for t in self.non_retryable
        ):
            raise ConfigError(
                "non_retryable must be a tuple of exception types", variable="non_retryable"
            )
        timeout = self.stop_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise ConfigError(
                "stop_timeout must be a number of seconds >= 0", variable="stop_timeout"
            )

    @property
    def fifo(self) -> bool:
        """Whether the queue is a FIFO queue."""
        return is_fifo_queue(self.queue_url)


def consumer_kwargs(settings: MidilSettings | EventsSettings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``SQSConsumer`` from the ``events`` section (``MIDIL_EVENTS__...``,
    read from the environment when None); ``ConfigError`` without a queue URL."""
    from midil_common.settings import EventsSettings, load_settings

    if settings is None:
        settings = load_settings()
    events = settings if isinstance(settings, EventsSettings) else settings.events
    if not events.queue_url:
        raise ConfigError(
            "MIDIL_EVENTS__QUEUE_URL is not set: SQSConsumer needs the URL of the queue to consume",
            variable="MIDIL_EVENTS__QUEUE_URL",
        )
    return {
        "queue_url": events.queue_url,
        "concurrency": events.concurrency,
        "wait_time_seconds": events.wait_time_seconds,
        "visibility_timeout": events.visibility_timeout,
        "max_messages": events.max_messages,
        "dead_letter_queue_url": events.dlq_url,
        "region": events.region,
        "endpoint_url": events.endpoint_url,
    }


# ------------------------------------------------------------------------------ failed messages


def after_handler_failure(
    options: ConsumerOptions, message: ReceivedMessage, exc: BaseException, rng: RandomFloat
) -> Release | DeadLetter:
    """What to do with ``message`` whose handler raised ``exc``: release it with the redelivery
    backoff of its receive count, or, for an exception of a ``non_retryable`` type, send it to the
    configured DLQ (without one: release it at once, for the redrive policy to move on)."""
    retryable = not isinstance(exc, options.non_retryable)
    return options.redelivery.after_failure(
        message.receive_count,
        rng,
        retryable=retryable,
        dead_letter_queue=options.dead_letter_queue_url is not None,
    )


def after_poison(options: ConsumerOptions, message: ReceivedMessage, rng: RandomFloat) -> Release:
    """What to do with a message no handler can take (undecodable, or no handler for its type):
    it is never deleted; it is released with the redelivery backoff, so the queue's redrive policy
    moves it to the DLQ after ``maxReceiveCount`` receives, and a queue without one does not spin
    on it."""
    return Release(options.redelivery.visibility_after_failure(message.receive_count, rng))


def dead_letter_message(
    raw: Mapping[str, Any], message: ReceivedMessage, dead_letter_queue_url: str
) -> dict[str, Any]:
    """The ``send_message`` arguments that copy a received message (``raw``, as ``receive_message``
    gave it) to the dead-letter queue: the same body and message attributes; a FIFO DLQ gets the
    message's group (or ``"dead-letter"``) and its message id as the deduplication id."""
    attributes: dict[str, Any] = {}
    given = raw.get("MessageAttributes")
    for name, value in (given if isinstance(given, Mapping) else {}).items():
        if not isinstance(value, Mapping) or "DataType" not in value:
            continue
        kept = {k: value[k] for k in ("DataType", "StringValue", "BinaryValue") if k in value}
        if "StringValue" in kept or "BinaryValue" in kept:
            attributes[str(name)] = kept
    body = raw.get("Body")
    request: dict[str, Any] = {
        "QueueUrl": dead_letter_queue_url,
        "MessageBody": body if type(body) is str and body else "(empty)",
    }
    if attributes:
        request["MessageAttributes"] = attributes
    if is_fifo_queue(dead_letter_queue_url):
        request["MessageGroupId"] = message.group_id or "dead-letter"
        request["MessageDeduplicationId"] = message.message_id[:128] or "dead-letter"
    return request


def receive_threshold(concurrency: int, max_messages: int) -> int:
    """How many free worker slots a consumer gathers before it receives: half a full receive
    (at least 1). A receive costs about the same for 1 message as for 10, so asking each time one
    slot frees up would multiply the calls; waiting for every slot would idle the workers. The
    receive still asks for no more than the free slots (:func:`~.receiving.receive_size`)."""
    return max(1, min(concurrency, max_messages, SQS_MAX_RECEIVE) // 2)


def short_handle(receipt_handle: str) -> str:
    """A receipt handle as a log line may show it: its first 8 characters."""
    return receipt_handle[:8] + "..." if len(receipt_handle) > 8 else receipt_handle


# ------------------------------------------------------------------------------ failed calls


@dataclass(frozen=True, slots=True)
class RetryCall:
    """Call again after ``delay`` seconds; ``log`` says whether to log this failure (``streak``
    failures in a row so far, ``suppressed`` of them not logged since the last line)."""

    delay: float
    log: bool
    streak: int
    suppressed: int


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop the consumer: ``error`` is the :class:`ConsumerError` to raise."""

    error: ConsumerError


class CallFailures:
    """Failed calls to SQS for one consumer run: backoff, log rate limiting, and when to stop.

    Transient failures (:attr:`AWSErrorInfo.retryable`: throttling, 5xx, transport) are retried
    for as long as the consumer runs, after a full-jitter exponential backoff from ``initial`` to
    ``maximum`` seconds; the first of a streak is logged and then at most one line every
    ``log_interval`` seconds. Any other failure is permanent (the queue does not exist, access
    denied, invalid credentials, an invalid region or parameter): :class:`GiveUp`.
    """

    __slots__ = ("_last_log", "_streak", "_suppressed", "initial", "log_interval", "maximum")

    def __init__(
        self, *, initial: float = 0.2, maximum: float = 20.0, log_interval: float = 30.0
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.log_interval = log_interval
        self._streak = 0
        self._suppressed = 0
        self._last_log = -math.inf

    def failed(
        self, info: AWSErrorInfo, queue_url: str, *, now: float, rng: RandomFloat
    ) -> RetryCall | GiveUp:
        """Record a failed call at ``now`` and decide."""
        if not info.retryable:
            detail = redact(info.message, ())
            return GiveUp(
                ConsumerError(
                    f"the SQS consumer of {queue_url} stopped: {info.operation} failed with "
                    f"{info.code}" + (f" ({detail})" if detail else "")
                )
            )
        self._streak += 1
        ceiling = min(self.maximum, self.initial * 2 ** min(self._streak - 1, 32))
        log = now - self._last_log >= self.log_interval
        suppressed = self._suppressed
        if log:
            self._last_log = now
            self._suppressed = 0
        else:
            self._suppressed += 1
        return RetryCall(rng.random() * ceiling, log, self._streak, suppressed)

    def succeeded(self) -> int:
        """Record a successful call; the number of failures in a row it ends (0: none)."""
        streak, self._streak = self._streak, 0
        self._suppressed = 0
        self._last_log = -math.inf
        return streak

"""What became of each entry of a batch call, and whether to send the failed ones again.

SQS and EventBridge batch calls succeed as a whole while single entries fail. The functions here
read a response against the entries sent:

- :func:`sqs_batch_result`: ``send_message_batch``, ``delete_message_batch`` and
  ``change_message_visibility_batch`` (``Successful`` and ``Failed`` lists keyed by entry ``Id``);
- :func:`eventbridge_batch_result`: ``put_events`` (``Entries`` in request order, each with an
  ``EventId`` or an ``ErrorCode``).

An entry the response does not mention is failed (code ``MissingResult``, retryable): nothing is
taken for sent without the service saying so. A failure is retryable when its code says "not now"
(:data:`RETRYABLE_ERROR_CODES`) or, on SQS, when ``SenderFault`` is false (a server fault).

:class:`EntryRetryPolicy` decides whether retryable failures are sent again: exponential backoff
with full jitter, bounded attempts and an overall deadline. A publisher drives it through one
:class:`EntryAttempts` per ``publish_batch`` call::

    attempts = policy.start(now())
    batches = plan(events)
    while True:
        result = sum of batch.result(send(batch)) (or batch.call_failed(...) when the call raised)
        step = attempts.record(result, now=now(), rng=rng)
        if isinstance(step, Finished):
            return step.result
        sleep(step.delay); batches = plan(step.items)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from midil_common.errors import ConfigError, PublishError
from midil_common.events.envelope import Event
from midil_common.http.retry import Random

__all__ = [
    "RETRYABLE_ERROR_CODES",
    "BatchResult",
    "EntryAttempts",
    "EntryRetryPolicy",
    "FailedEntry",
    "Finished",
    "RetryEntries",
    "call_failed",
    "eventbridge_batch_result",
    "is_retryable_error",
    "sqs_batch_result",
]

T = TypeVar("T")

RETRYABLE_ERROR_CODES: frozenset[str] = frozenset(
    {
        # Entry failures (SQS, EventBridge) and whole-call failures (botocore's throttling and
        # transient codes, as its standard retry mode lists them).
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalErrorException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "SlowDown",
        "KMS.ThrottlingException",
        "KmsThrottled",
        "MissingResult",
    }
)
"""Error codes meaning "not now": the entry (or the call) may succeed when sent again."""


def is_retryable_error(
    code: str | None, *, status: int | None = None, sender_fault: bool | None = None
) -> bool:
    """Whether a failed entry or call may succeed when sent again.

    True for a code in :data:`RETRYABLE_ERROR_CODES`, an HTTP status of 5xx or 429, an SQS entry
    with ``SenderFault`` false, and a failure with neither code nor status (the network).
    """
    if code in RETRYABLE_ERROR_CODES:
        return True
    if status is not None and (status >= 500 or status == 429):
        return True
    if sender_fault is False:
        return True
    return code is None and status is None and sender_fault is None


@dataclass(frozen=True, slots=True)
class FailedEntry(Generic[T]):
    """One entry the service did not accept.

    ``item`` is what was sent: the event (publishers) or the received message (deletes and
    visibility changes). ``code`` and ``message`` are the service's; ``retryable`` whether sending
    it again may succeed; ``sender_fault`` SQS's ``SenderFault`` (None for EventBridge).
    """

    item: T
    code: str
    message: str
    retryable: bool
    sender_fault: bool | None = None

    @property
    def event(self) -> Event | None:
        """The event of the entry: ``item`` itself, or the event of a received message."""
        if isinstance(self.item, Event):
            return self.item
        event = getattr(self.item, "event", None)
        return event if isinstance(event, Event) else None


@dataclass(frozen=True, slots=True)
class BatchResult(Generic[T]):
    """The outcome of a batch: the items the service accepted, in the order given, and the
    entries it did not."""

    succeeded: tuple[T, ...] = ()
    failed: tuple[FailedEntry[T], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every entry was accepted."""
        return not self.failed

    @property
    def retryable(self) -> tuple[FailedEntry[T], ...]:
        """The failures that may succeed when sent again."""
        return tuple(f for f in self.failed if f.retryable)

    @property
    def permanent(self) -> tuple[FailedEntry[T], ...]:
        """The failures that will not succeed when sent again."""
        return tuple(f for f in self.failed if not f.retryable)

    def __add__(self, other: BatchResult[T]) -> BatchResult[T]:
        return BatchResult(self.succeeded + other.succeeded, self.failed + other.failed)

    def describe(self) -> str:
        """A summary naming counts and error codes, never event data."""
        total = len(self.succeeded) + len(self.failed)
        if not self.failed:
            return f"all {total} entries were accepted"
        codes = Counter(f.code[:64] for f in self.failed)
        detail = ", ".join(f"{code} x{count}" for code, count in sorted(codes.items()))
        return f"{len(self.failed)} of {total} entries were not accepted ({detail})"

    def raise_for_failures(self) -> None:
        """Raise ``PublishError`` (``.failed``: the items not accepted) if any entry failed."""
        if self.failed:
            raise PublishError(self.describe(), failed=[f.item for f in self.failed])


def _text(value: Any, default: str) -> str:
    return value[:1024] if type(value) is str and value else default


def sqs_batch_result(
    items: Sequence[T], entries: Sequence[Mapping[str, Any]], response: Mapping[str, Any]
) -> BatchResult[T]:
    """Read an SQS batch response (``Successful``/``Failed`` keyed by entry ``Id``) against the
    ``entries`` sent for ``items`` (aligned)."""
    by_id = {str(entry["Id"]): i for i, entry in enumerate(entries)}
    outcome: dict[int, FailedEntry[T] | None] = {}
    successful = response.get("Successful") if isinstance(response, Mapping) else None
    failed = response.get("Failed") if isinstance(response, Mapping) else None
    for entry in failed if isinstance(failed, list) else ():
        index = by_id.get(str(entry.get("Id"))) if isinstance(entry, Mapping) else None
        if index is None:
            continue
        code = _text(entry.get("Code"), "Unknown")
        sender_fault = entry.get("SenderFault")
        sender_fault = sender_fault if type(sender_fault) is bool else None
        outcome[index] = FailedEntry(
            items[index],
            code,
            _text(entry.get("Message"), ""),
            is_retryable_error(code, sender_fault=sender_fault),
            sender_fault,
        )
    for entry in successful if isinstance(successful, list) else ():
        index = by_id.get(str(entry.get("Id"))) if isinstance(entry, Mapping) else None
        # A failure reported for the same Id wins: nothing is taken for sent on a contradiction.
        if index is not None and index not in outcome:
            outcome[index] = None
    return _collect(items, outcome)


def eventbridge_batch_result(items: Sequence[T], response: Mapping[str, Any]) -> BatchResult[T]:
    """Read a ``put_events`` response (``Entries`` in request order) against the ``items`` sent."""
    entries = response.get("Entries") if isinstance(response, Mapping) else None
    outcome: dict[int, FailedEntry[T] | None] = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if index >= len(items) or not isinstance(entry, Mapping):
            continue
        code = entry.get("ErrorCode")
        if code:
            code = _text(code, "Unknown")
            outcome[index] = FailedEntry(
                items[index], code, _text(entry.get("ErrorMessage"), ""), is_retryable_error(code)
            )
        elif entry.get("EventId"):
            outcome[index] = None
    return _collect(items, outcome)


def _collect(items: Sequence[T], outcome: Mapping[int, FailedEntry[T] | None]) -> BatchResult[T]:
    succeeded: list[T] = []
    failed: list[FailedEntry[T]] = []
    for index, item in enumerate(items):
        if index not in outcome:
            failed.append(
                FailedEntry(item, "MissingResult", "the response did not mention the entry", True)
            )
            continue
        failure = outcome[index]
        if failure is None:
            succeeded.append(item)
        else:
            failed.append(failure)
    return BatchResult(tuple(succeeded), tuple(failed))


def call_failed(
    items: Sequence[T],
    code: str | None,
    message: str = "",
    *,
    status: int | None = None,
    retryable: bool | None = None,
) -> BatchResult[T]:
    """Every item failed because the whole call did (an exception before any entry result).

    ``retryable`` defaults to :func:`is_retryable_error` of ``code`` and ``status``.
    """
    if retryable is None:
        retryable = is_retryable_error(code, status=status)
    name = code or "CallFailed"
    return BatchResult(
        (), tuple(FailedEntry(item, name, message[:1024], retryable) for item in items)
    )


# --------------------------------------------------------------------------------------- retrying


@dataclass(frozen=True, slots=True)
class RetryEntries(Generic[T]):
    """Send ``items`` again after ``delay`` seconds; it will be attempt number ``attempt``."""

    items: tuple[T, ...]
    delay: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Finished(Generic[T]):
    """No more attempts: ``result`` is final (the items accepted by every attempt, in the order
    they were accepted, and what still failed); ``reason`` says why it stopped."""

    result: BatchResult[T]
    reason: str


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number of seconds", variable=name)
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name} must be {'> 0' if positive else '>= 0'}", variable=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class EntryRetryPolicy:
    """How a publisher retries entries that failed retryably.

    At most ``max_attempts`` sends per entry (the first included); the wait after attempt ``n`` is
    uniform in ``[0, min(backoff_max, backoff_initial * backoff_multiplier ** (n - 1))]`` (full
    jitter; the ceiling itself without ``jitter``); no retry is planned whose wait would end past
    ``deadline`` seconds after the first send. Validated on construction (``ConfigError`` names the
    argument).
    """

    max_attempts: int = 5
    backoff_initial: float = 0.1
    backoff_multiplier: float = 2.0
    backoff_max: float = 5.0
    jitter: bool = True
    deadline: float | None = 30.0

    def __post_init__(self) -> None:
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise ConfigError("max_attempts must be an integer >= 1", variable="max_attempts")
        _seconds("backoff_initial", self.backoff_initial)
        _seconds("backoff_max", self.backoff_max)
        if _seconds("backoff_multiplier", self.backoff_multiplier) < 1:
            raise ConfigError("backoff_multiplier must be >= 1", variable="backoff_multiplier")
        if self.deadline is not None:
            _seconds("deadline", self.deadline, positive=True)
        if type(self.jitter) is not bool:
            raise ConfigError("jitter must be a bool", variable="jitter")

    def backoff(self, attempt: int, rng: Random) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        exponent = min(max(attempt - 1, 0), 64)
        ceiling = min(self.backoff_max, self.backoff_initial * self.backoff_multiplier**exponent)
        return rng.random() * ceiling if self.jitter else ceiling

    def start(self, now: float) -> EntryAttempts[Any]:
        """The attempt state of one publish call whose first send is at ``now``."""
        return EntryAttempts(self, now)


class EntryAttempts(Generic[T]):
    """The state of one publish call across attempts (never shared between calls): it gathers
    the accepted items of every attempt and decides after each whether to send the rest again."""

    __slots__ = ("_failed", "_succeeded", "attempt", "policy", "started")

    def __init__(self, policy: EntryRetryPolicy, now: float) -> None:
        self.policy = policy
        self.started = now
        self.attempt = 1
        self._succeeded: list[T] = []
        self._failed: tuple[FailedEntry[T], ...] = ()

    def record(
        self, result: BatchResult[T], *, now: float, rng: Random
    ) -> RetryEntries[T] | Finished[T]:
        """Record the outcome of the current attempt and decide the next step."""
        self._succeeded.extend(result.succeeded)
        retry = result.retryable
        if not retry:
            failed = bool(result.failed or self._failed)
            return self._finish(result.failed, "permanent failures" if failed else "done")
        if self.attempt >= self.policy.max_attempts:
            return self._finish(result.failed, "attempts exhausted")
        delay = self.policy.backoff(self.attempt, rng)
        deadline = self.policy.deadline
        if deadline is not None and now + delay - self.started > deadline:
            return self._finish(result.failed, "deadline reached")
        # Permanent failures are final now; retryable ones are sent again.
        self._failed = self._failed + result.permanent
        self.attempt += 1
        return RetryEntries(tuple(f.item for f in retry), delay, self.attempt)

    def _finish(self, failed: tuple[FailedEntry[T], ...], reason: str) -> Finished[T]:
        return Finished(BatchResult(tuple(self._succeeded), self._failed + failed), reason)

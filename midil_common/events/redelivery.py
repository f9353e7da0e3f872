"""What a consumer does with a message whose handler failed: when SQS delivers it again.

A failed message is not deleted. Its visibility timeout is set from ``ApproximateReceiveCount``,
so the next delivery waits longer each time and the queue's redrive policy moves the message to its
dead-letter queue after ``maxReceiveCount`` receives. :class:`RedeliveryPolicy` holds that backoff;
:meth:`RedeliveryPolicy.after_failure` also decides the fate of failures marked non-retryable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from midil_common.errors import ConfigError
from midil_common.events.periodic import RandomFloat

__all__ = [
    "SQS_MAX_VISIBILITY_TIMEOUT",
    "DeadLetter",
    "RedeliveryPolicy",
    "Release",
]

SQS_MAX_VISIBILITY_TIMEOUT = 43_200
"""SQS's longest visibility timeout: 12 hours, in seconds."""

# The largest exponent the backoff computes with: exact in a float, and far beyond the counts SQS
# gives (its redrive policy's maxReceiveCount is at most 1,000).
_MAX_EXPONENT = 2**53


def _number(name: str, value: Any) -> float:
    # bool is an int subclass; True seconds is a mistake, not a delay.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number", variable=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class Release:
    """Make the message visible again after ``visibility`` seconds (``ChangeMessageVisibility``)."""

    visibility: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Send the message to the configured dead-letter queue, then delete it."""

    reason: str


@dataclass(frozen=True, slots=True)
class RedeliveryPolicy:
    """Backoff of redeliveries after a handler failed, from the message's receive count.

    After the ``n``-th receive failed, the message stays invisible for up to
    ``base * factor ** (n - 1)`` seconds, capped at ``cap`` (at most SQS's 12 hours, 43,200 s).
    With ``jitter`` (full jitter) the wait is a uniform whole number of seconds from 0 to that
    ceiling (rounded up), so that messages failing together do not come back together; without it,
    the ceiling rounded up. Validated on construction (``ConfigError`` names the argument).

    Example: the defaults wait up to 1 s after the first failure, 2 s after the second, 4, 8, ...
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = SQS_MAX_VISIBILITY_TIMEOUT
    jitter: bool = True

    def __post_init__(self) -> None:
        if _number("base", self.base) <= 0:
            raise ConfigError("base must be greater than 0", variable="base")
        if _number("factor", self.factor) < 1:
            raise ConfigError("factor must be at least 1", variable="factor")
        if not 0 <= _number("cap", self.cap) <= SQS_MAX_VISIBILITY_TIMEOUT:
            raise ConfigError(
                f"cap must be from 0 to {SQS_MAX_VISIBILITY_TIMEOUT} seconds (SQS's maximum)",
                variable="cap",
            )
        if type(self.jitter) is not bool:
            raise ConfigError("jitter must be a bool", variable="jitter")

    def ceiling(self, receive_count: int) -> float:
        """The longest wait after the ``receive_count``-th receive failed (never above ``cap``;
        non-decreasing in ``receive_count``)."""
        # The count comes from the message (``ApproximateReceiveCount``): int arithmetic on int
        # ``base``/``factor`` would be exact, so a bogus 10**10 would build an integer of
        # gigabytes. In float, with the exponent capped (so that even 10**400 converts), the cost
        # is one pow whatever the count; an overflow is past any cap.
        exponent = min(max(int(receive_count), 1) - 1, _MAX_EXPONENT)
        try:
            delay = float(self.base) * float(self.factor) ** exponent
        except OverflowError:
            delay = math.inf
        return min(float(self.cap), delay)

    def visibility_after_failure(self, receive_count: int, rng: RandomFloat) -> int:
        """The visibility timeout, in whole seconds from 0 to ``cap``, to set on a message whose
        handler failed on its ``receive_count``-th receive (``ApproximateReceiveCount``)."""
        limit = int(self.cap)
        top = min(limit, math.ceil(self.ceiling(receive_count)))
        if not self.jitter:
            return top
        # A uniform integer in [0, top]; random() < 1 keeps the product below top + 1.
        return min(top, int(rng.random() * (top + 1)))

    def after_failure(
        self,
        receive_count: int,
        rng: RandomFloat,
        *,
        retryable: bool = True,
        dead_letter_queue: bool = False,
    ) -> Release | DeadLetter:
        """What to do with a message whose handler failed.

        Retryable failures are released with :meth:`visibility_after_failure`. A failure marked
        non-retryable goes to the dead-letter queue when the consumer has one
        (``dead_letter_queue``); otherwise it is released at once (visibility 0), so the queue's
        redrive policy moves it on after ``maxReceiveCount`` receives without waiting out backoffs.
        """
        if retryable:
            return Release(self.visibility_after_failure(receive_count, rng))
        if dead_letter_queue:
            return DeadLetter("the handler failed with a non-retryable error")
        return Release(0)

"""When a consumer extends the visibility of a message whose handler is still running.

SQS hides a received message for its visibility timeout; a handler that runs longer would see the
message delivered again to someone else. The consumer keeps a :class:`Lease` per message in flight
and asks :class:`Heartbeat` which leases to extend. Times are seconds on the shell's monotonic
clock; ``received_at`` should be read *before* the receive call, so every estimate errs early::

    lease = heartbeat.lease(received_at)
    ...
    due = heartbeat.extensions([(message, lease), ...], now)   # [(message, seconds, new_lease)]
    send visibility_batches([(m, s) for m, s, _ in due]); keep the new leases of those that succeeded
    sleep until heartbeat.next_check(leases) (or until a handler finishes)

Extending stops ``max_total`` seconds after the receive (SQS refuses to keep a message invisible
more than 12 hours after it was received): the message then becomes visible again when its last
extension runs out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from midil_common.errors import ConfigError
from midil_common.events.redelivery import SQS_MAX_VISIBILITY_TIMEOUT

__all__ = ["Heartbeat", "Lease"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Lease:
    """One message in flight: received at ``received_at``, hidden until ``expires_at``."""

    received_at: float
    expires_at: float


def _seconds(name: str, value: Any, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}", variable=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The visibility heartbeat of a consumer.

    Args:
        visibility_timeout: the seconds a receive hides a message (the queue's or the
            consumer's ``VisibilityTimeout``), 1 to 43,200.
        fraction: extend once this fraction of the current lease has passed (0 < fraction < 1;
            default halfway, leaving the other half to absorb a slow ``ChangeMessageVisibility``).
        extension: the seconds each extension asks for (default ``visibility_timeout``).
        max_total: stop extending this many seconds after the receive (default and most 43,200).
    """

    visibility_timeout: int
    fraction: float = 0.5
    extension: int | None = None
    max_total: float = SQS_MAX_VISIBILITY_TIMEOUT

    def __post_init__(self) -> None:
        if type(self.visibility_timeout) is not int:
            raise ConfigError(
                "visibility_timeout must be a whole number of seconds",
                variable="visibility_timeout",
            )
        _seconds("visibility_timeout", self.visibility_timeout, 1, SQS_MAX_VISIBILITY_TIMEOUT)
        fraction = _seconds("fraction", self.fraction, 0, 1)
        if fraction in (0.0, 1.0):
            raise ConfigError("fraction must lie strictly between 0 and 1", variable="fraction")
        if self.extension is not None:
            if type(self.extension) is not int:
                raise ConfigError(
                    "extension must be a whole number of seconds", variable="extension"
                )
            _seconds("extension", self.extension, 1, SQS_MAX_VISIBILITY_TIMEOUT)
        if _seconds("max_total", self.max_total, 0, SQS_MAX_VISIBILITY_TIMEOUT) == 0:
            raise ConfigError("max_total must be greater than 0", variable="max_total")

    @property
    def period(self) -> int:
        """The seconds each extension asks for."""
        return self.visibility_timeout if self.extension is None else self.extension

    def lease(self, received_at: float) -> Lease:
        """The lease of a message received (the receive call started) at ``received_at``."""
        return Lease(received_at, received_at + self.visibility_timeout)

    def due_at(self, lease: Lease) -> float | None:
        """When ``lease`` should be extended, or None when it will not be (``max_total`` reached)."""
        # Within a second of the limit no whole-second extension lengthens the lease: stop here,
        # or the shell would find the lease due forever.
        if lease.expires_at + 1 > lease.received_at + self.max_total:
            return None
        length = lease.expires_at - lease.received_at
        # The first lease lasts visibility_timeout, later ones extension: keep (1 - fraction) of
        # the coming period as the margin before expiry, never more than the lease itself.
        margin = min((1 - self.fraction) * self.period, (1 - self.fraction) * length)
        return lease.expires_at - margin

    def expired(self, lease: Lease, now: float) -> bool:
        """Whether ``lease`` ran out at ``now``: SQS may have delivered the message again, so
        the shell stops extending it (its handler's result can no longer be acknowledged)."""
        return now >= lease.expires_at

    def extend(self, lease: Lease, now: float) -> tuple[int, Lease] | None:
        """The ``VisibilityTimeout`` to set at ``now`` and the lease it makes, or None when
        extending is pointless: the limit is reached, or the lease already lasts as long."""
        seconds = min(self.period, math.floor(lease.received_at + self.max_total - now))
        if seconds <= 0 or now + seconds <= lease.expires_at:
            return None
        return seconds, Lease(lease.received_at, now + seconds)

    def extensions(
        self, leases: Iterable[tuple[T, Lease]], now: float
    ) -> list[tuple[T, int, Lease]]:
        """The messages due for an extension at ``now``, each with the seconds to set and its new
        lease (send them with :func:`~midil_common.events.batching.visibility_batches`)."""
        due: list[tuple[T, int, Lease]] = []
        for item, lease in leases:
            at = self.due_at(lease)
            if at is None or now < at:
                continue
            extended = self.extend(lease, now)
            if extended is not None:
                due.append((item, extended[0], extended[1]))
        return due

    def next_check(self, leases: Iterable[Lease]) -> float | None:
        """The earliest time any of ``leases`` is due, or None when none will be."""
        times = [at for at in (self.due_at(lease) for lease in leases) if at is not None]
        return min(times) if times else None

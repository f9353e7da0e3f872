"""What the shells' ``EventBridgeScheduler`` returns and raises, free of I/O.

- :class:`Schedule`: a frozen summary of one schedule, read from a ``GetSchedule`` answer, a
  ``ListSchedules`` entry (which holds no role and no input: those fields are None) or the request
  that created it (:func:`schedule_of`).
- :class:`SchedulerError` (an ``EventError``, with the service's ``code``) and
  :class:`ScheduleConflictError`: a create found a schedule of that name with another definition.
- :func:`scheduler_error`: the error mapper of the scheduler's calls.
- :func:`conflict_error`: the error of a conflicting re-create, naming what differs.

The requests themselves, the expressions and the comparison of definitions are in
:mod:`midil_common.events.scheduler`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from midil_common.aws_errors import AWSErrorInfo, redact
from midil_common.errors import InvalidEventError, ScheduleConflictError, SchedulerError
from midil_common.events.envelope import Event
from midil_common.events.scheduler import (
    _MAX_WINDOW_MINUTES,
    DEFAULT_SCHEDULE_GROUP,
    _normalised,
)

__all__ = [
    "Schedule",
    "ScheduleConflictError",
    "SchedulerError",
    "conflict_error",
    "schedule_of",
    "scheduler_error",
]

NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ConflictException"


def scheduler_error(info: AWSErrorInfo) -> SchedulerError:
    """A failed Scheduler call as a :class:`SchedulerError` (the message redacted and bounded:
    services echo request values)."""
    detail = redact(info.message, ())
    text = f"EventBridge Scheduler {info.operation} failed: {info.code}"
    return SchedulerError(
        f"{text}: {detail}" if detail else text, code=info.code, retryable=info.retryable
    )


def conflict_error(request: Mapping[str, Any], stored: Mapping[str, Any]) -> ScheduleConflictError:
    """The error of creating ``request`` where ``stored`` (another definition) exists, naming the
    fields that differ as :func:`~midil_common.events.scheduler.same_definition` compares them
    (absent time zone is UTC, the event apart from its id and time)."""
    mine, theirs = _normalised(request), _normalised(stored)
    differences = [key for key in mine if key != "Target" and mine[key] != theirs[key]]
    for index, key in enumerate(("Arn", "RoleArn", "Input")):
        if mine["Target"][index] != theirs["Target"][index]:
            differences.append(f"Target.{key}")
    name = f"{mine['GroupName']}/{mine['Name']}"
    listed = ", ".join(differences) or "the definition"
    return ScheduleConflictError(
        f"schedule {name} exists with another definition ({listed} differ); delete or update it",
        differences=tuple(differences),
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """One EventBridge schedule.

    ``expression`` is its ``at()``, ``rate()`` or ``cron()`` expression and ``timezone`` the zone
    it is read in; ``flexible_window`` None when the window is off; ``event`` the event the target
    receives (None when unknown, as in a listing, or when the input is not a CloudEvents event);
    ``action_after_completion`` ``"DELETE"`` for one-time schedules made by ``schedule_at``.
    """

    name: str
    group: str = DEFAULT_SCHEDULE_GROUP
    expression: str | None = None
    timezone: str = "UTC"
    state: str = "ENABLED"
    target_arn: str | None = None
    role_arn: str | None = None
    event: Event | None = None
    flexible_window: timedelta | None = None
    action_after_completion: str = "NONE"
    description: str | None = None
    arn: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether the schedule is enabled."""
        return self.state == "ENABLED"


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _window(value: Any) -> timedelta | None:
    if not isinstance(value, Mapping) or value.get("Mode") != "FLEXIBLE":
        return None
    minutes = value.get("MaximumWindowInMinutes")
    # Scheduler's own range: anything else is not a window it could have stored (and 10**20
    # minutes is past what a timedelta holds).
    if type(minutes) is not int or not 1 <= minutes <= _MAX_WINDOW_MINUTES:
        return None
    return timedelta(minutes=minutes)


def _event(value: Any) -> Event | None:
    if type(value) is not str:
        return None
    try:
        return Event.from_json(value)
    except (InvalidEventError, ValueError):
        return None


def schedule_of(definition: Mapping[str, Any], *, arn: str | None = None) -> Schedule:
    """The :class:`Schedule` of a ``GetSchedule`` answer, a ``ListSchedules`` entry or a
    ``CreateSchedule`` request (``arn``: the ``ScheduleArn`` the create returned)."""
    target = definition.get("Target")
    target = target if isinstance(target, Mapping) else {}
    return Schedule(
        name=str(definition.get("Name") or ""),
        group=_text(definition.get("GroupName")) or DEFAULT_SCHEDULE_GROUP,
        expression=_text(definition.get("ScheduleExpression")),
        timezone=_text(definition.get("ScheduleExpressionTimezone")) or "UTC",
        state=_text(definition.get("State")) or "ENABLED",
        target_arn=_text(target.get("Arn")),
        role_arn=_text(target.get("RoleArn")),
        event=_event(target.get("Input")),
        flexible_window=_window(definition.get("FlexibleTimeWindow")),
        action_after_completion=_text(definition.get("ActionAfterCompletion")) or "NONE",
        description=_text(definition.get("Description")),
        arn=arn or _text(definition.get("Arn")),
    )

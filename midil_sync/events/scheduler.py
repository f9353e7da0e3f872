# Generated from midil_async/events/scheduler.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""EventBridge Scheduler: ``EventBridgeScheduler``.

The requests are the core's (:mod:`midil_common.events.scheduler`: ``at()``, ``rate()`` and
``cron()`` expressions, time zones, flexible windows, the target's input being the event's
CloudEvents JSON, the client token derived from the definition, and the comparison of
definitions); this module sends them. A create that meets an existing schedule of that name
(``ConflictException``) reads it back: the same definition is success (the create is idempotent),
another raises :class:`~midil_common.events.schedules.ScheduleConflictError`. One source serves
both shells: the sync module is generated from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from midil_common.aws_errors import AWS_RETRY_POLICY, AWSRetryPolicy
from midil_common.events.publishing import scheduler_kwargs
from midil_common.events.scheduler import (
    at_expression,
    client_token,
    cron_expression,
    rate_expression,
    same_definition,
    schedule_request,
    validate_schedule_expression,
)
from midil_common.events.schedules import (
    CONFLICT,
    NOT_FOUND,
    Schedule,
    SchedulerError,
    conflict_error,
    schedule_of,
    scheduler_error,
)
from midil_sync.events._clients import service_client

if TYPE_CHECKING:
    from midil_common.events.envelope import Event
    from midil_common.settings import EventsSettings, MidilSettings

__all__ = ["EventBridgeScheduler"]

logger = logging.getLogger("midil.events")

_PAGE_SIZE = 100


class EventBridgeScheduler:
    """Create, read, change and delete EventBridge schedules that send an event to a target.

    Args:
        client: an AWS client to use instead of building one: an ``AWSClient`` of this shell, or
            a Scheduler client of the AWS SDK this shell uses. The caller keeps it and closes it.
        region: the AWS region; ``endpoint_url``: another endpoint (moto, LocalStack).
        credentials: ``aws_access_key_id``, ``aws_secret_access_key`` (and
            ``aws_session_token``) when not taken from the environment.
        group: the default schedule group (None: ``default``).
        role_arn: the default IAM role the scheduler assumes to reach the target.
        target_arn: the default target (a queue, a bus, a function ...).
        retry: how throttling and outages of the calls are retried.

    Every create sends a fresh client token (one derived from the definition would let AWS answer
    create, delete, create from its idempotency cache and create nothing). Raises
    ``ConfigError`` for an invalid argument (before any call) and ``SchedulerError`` (with the
    service's ``code``) when a call fails.
    """

    def __init__(
        self,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        group: str | None = None,
        role_arn: str | None = None,
        target_arn: str | None = None,
        retry: AWSRetryPolicy = AWS_RETRY_POLICY,
    ) -> None:
        self.group = group
        self.role_arn = role_arn
        self.target_arn = target_arn
        self.retry = retry
        self._aws, self._owns_client = service_client(
            "scheduler", client, region=region, endpoint_url=endpoint_url, credentials=credentials
        )

    def __repr__(self) -> str:
        return f"EventBridgeScheduler(group={self.group!r})"

    @classmethod
    def from_settings(
        cls, settings: MidilSettings | EventsSettings | None = None
    ) -> EventBridgeScheduler:
        """Build from the ``events`` settings section: ``MIDIL_EVENTS__SCHEDULE_GROUP``,
        ``__SCHEDULER_ROLE_ARN``, ``__SCHEDULER_TARGET_ARN``, ``__REGION`` and
        ``__ENDPOINT_URL`` (read from the environment when None)."""
        return cls(**scheduler_kwargs(settings))

    # ------------------------------------------------------------------------------ creating

    def schedule_at(
        self,
        name: str,
        when: datetime,
        event: Event,
        *,
        target_arn: str | None = None,
        role_arn: str | None = None,
        timezone: str | None = None,
        group: str | None = None,
        flexible_window: timedelta | None = None,
        description: str | None = None,
    ) -> Schedule:
        """Send ``event`` once, at ``when`` (an aware datetime, or a naive one read in
        ``timezone``); the schedule deletes itself after it ran (``ActionAfterCompletion``
        ``DELETE``)."""
        expression, zone = at_expression(when, timezone)
        return self._create(
            name,
            expression,
            event,
            target_arn=target_arn,
            role_arn=role_arn,
            timezone=zone,
            group=group,
            flexible_window=flexible_window,
            description=description,
            action_after_completion="DELETE",
        )

    def schedule_rate(
        self,
        name: str,
        every: timedelta,
        event: Event,
        *,
        target_arn: str | None = None,
        role_arn: str | None = None,
        timezone: str | None = None,
        group: str | None = None,
        flexible_window: timedelta | None = None,
        description: str | None = None,
    ) -> Schedule:
        """Send ``event`` every ``every`` (whole minutes: ``rate(5 minutes)``, ``rate(1 hour)``)."""
        return self._create(
            name,
            rate_expression(every),
            event,
            target_arn=target_arn,
            role_arn=role_arn,
            timezone=timezone,
            group=group,
            flexible_window=flexible_window,
            description=description,
        )

    def schedule_cron(
        self,
        name: str,
        expression: str,
        event: Event,
        *,
        target_arn: str | None = None,
        role_arn: str | None = None,
        timezone: str | None = None,
        group: str | None = None,
        flexible_window: timedelta | None = None,
        description: str | None = None,
    ) -> Schedule:
        """Send ``event`` on a cron ``expression`` (AWS's six fields, with or without
        ``cron(...)``), read in ``timezone`` (default UTC)."""
        return self._create(
            name,
            cron_expression(expression),
            event,
            target_arn=target_arn,
            role_arn=role_arn,
            timezone=timezone,
            group=group,
            flexible_window=flexible_window,
            description=description,
        )

    def _request(
        self,
        name: str,
        expression: str,
        event: Event,
        *,
        target_arn: str | None,
        role_arn: str | None,
        timezone: str | None,
        group: str | None,
        flexible_window: timedelta | None,
        description: str | None,
        action_after_completion: str | None = None,
        enabled: bool = True,
    ) -> dict[str, Any]:
        return schedule_request(
            name,
            expression,
            event,
            target_arn=target_arn or self.target_arn,
            role_arn=role_arn or self.role_arn,
            timezone=timezone,
            group=group or self.group,
            flexible_window=flexible_window,
            action_after_completion=action_after_completion,
            description=description,
            enabled=enabled,
        )

    def _create(self, name: str, expression: str, event: Event, **options: Any) -> Schedule:
        request = self._request(name, expression, event, **options)
        try:
            answer = self._aws.call(
                "CreateSchedule",
                {**request, "ClientToken": client_token()},
                errors=scheduler_error,
                retry=self.retry,
            )
        except SchedulerError as exc:
            if exc.code != CONFLICT:
                raise
            stored = self._stored(request["Name"], request["GroupName"])
            if stored is None:
                raise  # deleted since: the conflict stands as the service reported it
            if not same_definition(request, stored):
                raise conflict_error(request, stored) from None
            logger.debug(
                "schedule %s/%s exists with the same definition",
                request["GroupName"],
                request["Name"],
                extra={"schedule": request["Name"], "group": request["GroupName"]},
            )
            return schedule_of(stored)
        return schedule_of(request, arn=answer.get("ScheduleArn"))

    # --------------------------------------------------------------------- reading, changing

    def _stored(self, name: str, group: str) -> dict[str, Any] | None:
        try:
            return self._aws.call(
                "GetSchedule", {"Name": name, "GroupName": group}, errors=scheduler_error
            )
        except SchedulerError as exc:
            if exc.code == NOT_FOUND:
                return None
            raise

    def get(self, name: str, *, group: str | None = None) -> Schedule | None:
        """The schedule ``name`` of ``group``, or None when there is none."""
        request = self._request_key(name, group)
        stored = self._stored(request["Name"], request["GroupName"])
        return None if stored is None else schedule_of(stored)

    def list(
        self, *, group: str | None = None, prefix: str | None = None, state: str | None = None
    ) -> tuple[Schedule, ...]:
        """The schedules of ``group`` (default: the scheduler's; every page), optionally those
        whose name starts with ``prefix`` or in ``state`` (``ENABLED``/``DISABLED``). Listings
        carry no role and no input: ``role_arn`` and ``event`` are None (``get`` reads them)."""
        params: dict[str, Any] = {"GroupName": group or self.group or "default"}
        if prefix:
            params["NamePrefix"] = prefix
        if state:
            params["State"] = state
        found: list[Schedule] = []
        token: str | None = None
        while True:
            page = {**params, "MaxResults": _PAGE_SIZE}
            if token:
                page["NextToken"] = token
            answer = self._aws.call("ListSchedules", page, errors=scheduler_error)
            for entry in answer.get("Schedules") or ():
                found.append(schedule_of(entry))
            token = answer.get("NextToken")
            if not token:
                return tuple(found)

    def update(
        self,
        name: str,
        expression: str,
        event: Event,
        *,
        target_arn: str | None = None,
        role_arn: str | None = None,
        timezone: str | None = None,
        group: str | None = None,
        flexible_window: timedelta | None = None,
        description: str | None = None,
        action_after_completion: str | None = None,
        enabled: bool = True,
    ) -> Schedule:
        """Replace the definition of the existing schedule ``name`` (EventBridge's update is a
        whole definition: what is not given takes its default). ``expression`` is an ``at()``,
        ``rate()`` or ``cron()`` expression. Raises ``SchedulerError`` (code
        ``ResourceNotFoundException``) when there is no such schedule."""
        request = self._request(
            name,
            validate_schedule_expression(expression),
            event,
            target_arn=target_arn,
            role_arn=role_arn,
            timezone=timezone,
            group=group,
            flexible_window=flexible_window,
            description=description,
            action_after_completion=action_after_completion,
            enabled=enabled,
        )
        # No token derived from the definition here: changing A to B and back to A must apply.
        answer = self._aws.call(
            "UpdateSchedule",
            request,
            errors=scheduler_error,
            retry=self.retry,
        )
        return schedule_of(request, arn=answer.get("ScheduleArn"))

    def delete(self, name: str, *, group: str | None = None) -> bool:
        """Delete the schedule ``name``; False when there was none."""
        request = self._request_key(name, group)
        try:
            self._aws.call(
                "DeleteSchedule",
                request,
                errors=scheduler_error,
                retry=self.retry,
            )
        except SchedulerError as exc:
            if exc.code == NOT_FOUND:
                return False
            raise
        return True

    def _request_key(self, name: str, group: str | None) -> dict[str, str]:
        return {"Name": name, "GroupName": group or self.group or "default"}

    # ------------------------------------------------------------------------------ closing

    def close(self) -> None:
        """Close the client this scheduler built (one the caller handed in stays open)."""
        if self._owns_client:
            self._aws.close()

    def __enter__(self) -> EventBridgeScheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
